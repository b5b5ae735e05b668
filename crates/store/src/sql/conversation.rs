//! A conversation's revenue page, written once: four queries (the ticket,
//! its messages, its attributed events, their line items) and the fold of
//! their rows, whichever backend ran them.

use revtrace_core::{Channel, MessageFact, UsdCents, UsdTotal, classify, qualifies, time::to_rfc3339};

use super::{Cells, args, reads::Batch};
use crate::{
    StoreError,
    model::{CompanyId, ProductView, SourceCategory, TicketEvent, TicketRevenue, TicketTotals},
};

/// Where the page's rows come back.
pub(crate) struct Reads {
    ticket: usize,
    messages: usize,
    events: usize,
    items: usize,
}

pub(crate) fn push(batch: &mut Batch, company: &CompanyId, ticket_id: &revtrace_core::TicketId) -> Reads {
    let key = || args![company.to_string(), ticket_id];
    Reads {
        ticket: batch.push(
            "SELECT ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = $1 AND ticket_id = $2",
            key(),
        ),
        messages: batch.push(
            "SELECT m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
             FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = $1 AND t.ticket_id = $2",
            key(),
        ),
        events: batch.push(
            "SELECT e.event_pk, e.event_id, e.cart_type, e.source_category, e.occurred_at_ms, e.event_type, e.order_id,
                    e.amount, e.currency, e.usd_cents, e.refunded_cents, e.is_test, e.product_id, e.variant_id,
                    e.quantity_signed, e.unit_price, p.title, p.image_url, p.url, c.order_id IS NOT NULL
             FROM events e LEFT JOIN products p ON p.company_id = e.company_id AND p.product_id = e.product_id
                  LEFT JOIN cancellations c ON c.company_id = e.company_id AND c.order_id = e.order_id
             WHERE e.company_id = $1 AND e.ticket_id = $2 ORDER BY e.occurred_at_ms, e.event_pk",
            key(),
        ),
        items: batch.push(
            "SELECT l.event_pk, l.product_id, l.variant_id, l.title, p.title, p.image_url, p.url, l.quantity, l.unit_price
             FROM events e JOIN line_items l ON l.event_pk = e.event_pk
                  LEFT JOIN products p ON p.company_id = e.company_id AND p.product_id = l.product_id
             WHERE e.company_id = $1 AND e.ticket_id = $2 AND e.cart_type = 'CHECKOUT'
             ORDER BY l.event_pk, l.position",
            key(),
        ),
    }
}

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::corrupt(format!("{what} {raw}"))
}

/// The page from the rows of [`push`]; none for an unknown ticket.
pub(crate) fn fold<R: Cells>(
    rows: &[Vec<R>],
    ix: &Reads,
    ticket_id: &revtrace_core::TicketId,
) -> Result<Option<TicketRevenue>, StoreError> {
    let Some(t) = rows[ix.ticket].first() else {
        return Ok(None);
    };
    let channel_text = t.text(1)?;
    let channel = Channel::parse(&channel_text).ok_or_else(|| corrupt("channel", &channel_text))?;
    let facts =
        TicketFacts { ticket_id: ticket_id.clone(), ai_profile_id: t.text(0)?, channel, fingerprint: t.text(2)? };
    let messages = super::reads::messages(&rows[ix.messages])?;
    let mut items: std::collections::HashMap<i64, Vec<ProductView>> = std::collections::HashMap::new();
    for l in &rows[ix.items] {
        items.entry(l.int(0)?).or_default().push(ProductView {
            product_id: l.text(1)?.into(),
            variant_id: l.opt_text(2)?,
            // The catalog's title wins over the order's own.
            title: l.opt_text(4)?.or(l.opt_text(3)?),
            image_url: l.opt_text(5)?,
            url: l.opt_text(6)?,
            quantity: l.int(7)?,
            unit_price: l.text(8)?,
        });
    }
    let mut events = Vec::new();
    let mut tally = TicketTally::default();
    for r in &rows[ix.events] {
        let event_pk = r.int(0)?;
        let cart_type = r.text(2)?;
        let source = r.text(3)?;
        let usd = r.opt_int(9)?;
        let refunded_cents = r.int(10)?;
        let is_test = r.flag(11)?;
        let quantity = r.opt_int(14)?;
        let is_checkout = crate::rows::CartType::parse(&cart_type)? == crate::rows::CartType::Checkout;
        let products = if is_checkout {
            items.remove(&event_pk).unwrap_or_default()
        } else {
            vec![ProductView {
                product_id: r.opt_text(12)?.unwrap_or_default().into(),
                variant_id: r.opt_text(13)?,
                title: r.opt_text(16)?,
                image_url: r.opt_text(17)?,
                url: r.opt_text(18)?,
                quantity: quantity.unwrap_or_default(),
                unit_price: r.opt_text(15)?.unwrap_or_default(),
            }]
        };
        tally.add(is_test, is_checkout, usd, refunded_cents, quantity);
        events.push(TicketEvent {
            event_id: r.text(1)?.into(),
            source_category: SourceCategory::parse(&source).ok_or_else(|| corrupt("source category", &source))?,
            cart_type,
            occurred_at: to_rfc3339(r.int(4)?),
            event_type: r.opt_text(5)?,
            order_id: r.opt_text(6)?.map(Into::into),
            amount: r.text(7)?,
            currency: r.text(8)?,
            usd_value: usd.map(|c| UsdCents::new(c).to_string()),
            refunded_usd: UsdCents::new(refunded_cents).to_string(),
            is_test,
            cancelled: r.flag(19)?,
            products,
        });
    }
    Ok(Some(tally.revenue(facts, &messages, events)))
}

/// A conversation's identity, for its revenue page.
pub(crate) struct TicketFacts {
    pub ticket_id: revtrace_core::TicketId,
    pub ai_profile_id: String,
    pub channel: Channel,
    pub fingerprint: String,
}

/// The totals of a conversation's attributed events (test events shown but
/// not counted), summed as the events are read.
#[derive(Default)]
pub(crate) struct TicketTally {
    checkout: UsdTotal,
    refunded: UsdTotal,
    cart: UsdTotal,
    products: i64,
    orders: i64,
    counted: i64,
    unconverted: i64,
}

impl TicketTally {
    pub fn add(
        &mut self,
        is_test: bool,
        is_checkout: bool,
        usd: Option<i64>,
        refunded_cents: i64,
        quantity: Option<i64>,
    ) {
        if is_test {
            return;
        }
        self.counted += 1;
        self.unconverted += i64::from(usd.is_none());
        if is_checkout {
            self.orders += 1;
            self.checkout.add(UsdCents::new(usd.unwrap_or_default()));
            self.refunded.add(UsdCents::new(refunded_cents));
        } else {
            self.cart.add(UsdCents::new(usd.unwrap_or_default()));
            self.products += quantity.unwrap_or_default();
        }
    }

    pub fn revenue(self, t: TicketFacts, messages: &[MessageFact], events: Vec<TicketEvent>) -> TicketRevenue {
        let usd = |cents: UsdTotal| cents.to_string();
        TicketRevenue {
            ticket_id: t.ticket_id,
            ai_profile_id: t.ai_profile_id,
            channel: t.channel,
            fingerprint: t.fingerprint,
            message_source: classify(t.channel, messages),
            qualifies: qualifies(messages, i64::MAX),
            first_message_at: messages.iter().map(|m| m.sent_at_ms).min().map(to_rfc3339),
            last_message_at: messages.iter().map(|m| m.sent_at_ms).max().map(to_rfc3339),
            messages: messages.len() as i64,
            events,
            totals: TicketTotals {
                checkout_revenue_usd: usd(self.checkout),
                refunds_usd: usd(self.refunded),
                net_checkout_revenue_usd: usd(self.checkout - self.refunded),
                orders: self.orders,
                cart_gmv_usd: usd(self.cart),
                products_in_cart: self.products,
                events: self.counted,
                unconverted_events: self.unconverted,
            },
        }
    }
}
