//! A conversation's revenue page, written once: four queries (the ticket,
//! its messages, its attributed events, their line items) and the fold of
//! their rows, whichever backend ran them.

use revtrace_core::{Channel, MessageFact, UsdCents, UsdTotal, classify, qualifies, time::to_rfc3339};

use super::{Cells, args, reads::Batch};
use crate::{
    StoreError,
    model::{
        CompanyId, ProductView, ShownProduct, SourceCategory, TicketEvent, TicketRevenue, TicketTotals,
        TranscriptMessage,
    },
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
            "SELECT m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id, m.text, m.product_ids
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
    let transcript = transcript(&rows[ix.messages])?;
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
    Ok(Some(tally.revenue(facts, &messages, transcript, events)))
}

/// The messages in time order (ties: `message_id`, bytewise), each with the
/// ids it showed; the catalog's details are added by [`with_catalog`].
fn transcript<R: Cells>(rows: &[R]) -> Result<Vec<TranscriptMessage>, StoreError> {
    let mut messages = rows
        .iter()
        .map(|r| {
            let ids: Vec<String> = match r.opt_text(6)? {
                Some(json) => serde_json::from_str(&json).map_err(|_| corrupt("product_ids", &json))?,
                None => Vec::new(),
            };
            Ok((
                r.int(1)?,
                TranscriptMessage {
                    message_id: r.text(0)?,
                    sent_at: String::new(),
                    role: r.text(2)?,
                    text: r.opt_text(5)?,
                    has_answer_found: r.opt_flag(3)?,
                    products: ids
                        .into_iter()
                        .map(|id| ShownProduct { product_id: id.into(), title: None, image_url: None, url: None })
                        .collect(),
                },
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    messages.sort_by(|(a_at, a), (b_at, b)| {
        a_at.cmp(b_at).then_with(|| a.message_id.as_bytes().cmp(b.message_id.as_bytes()))
    });
    Ok(messages
        .into_iter()
        .map(|(at, mut m)| {
            m.sent_at = to_rfc3339(at);
            m
        })
        .collect())
}

/// The distinct products a transcript showed, for one catalog read.
pub(crate) fn shown_ids(page: &TicketRevenue) -> Vec<String> {
    let mut ids: Vec<String> =
        page.transcript.iter().flat_map(|m| m.products.iter().map(|p| p.product_id.as_str().to_owned())).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// How many product ids one catalog read takes; a chunk with fewer repeats
/// its last id (an `IN` list does not mind), so the statement stays one.
pub(crate) const CATALOG_CHUNK: usize = 32;
pub(crate) const CATALOG: &str = "SELECT product_id, title, image_url, url FROM products
     WHERE company_id = $1 AND product_id IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)";

/// The catalog reads of [`shown_ids`], pushed onto one batch.
pub(crate) fn push_catalog(batch: &mut Batch, company: &CompanyId, ids: &[String]) -> Vec<usize> {
    ids.chunks(CATALOG_CHUNK)
        .map(|chunk| {
            let mut args = args![company.to_string()];
            args.extend((0..CATALOG_CHUNK).map(|k| super::Arg::from(&chunk[k.min(chunk.len() - 1)])));
            batch.push(CATALOG, args)
        })
        .collect()
}

/// Fills the transcript's products from the rows of [`catalog_query`].
pub(crate) fn with_catalog<R: Cells>(page: &mut TicketRevenue, rows: &[R]) -> Result<(), StoreError> {
    let mut catalog = std::collections::HashMap::new();
    for r in rows {
        catalog.insert(r.text(0)?, (r.opt_text(1)?, r.opt_text(2)?, r.opt_text(3)?));
    }
    for product in page.transcript.iter_mut().flat_map(|m| m.products.iter_mut()) {
        if let Some((title, image_url, url)) = catalog.get(product.product_id.as_str()) {
            product.title.clone_from(title);
            product.image_url.clone_from(image_url);
            product.url.clone_from(url);
        }
    }
    Ok(())
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

    pub fn revenue(
        self,
        t: TicketFacts,
        messages: &[MessageFact],
        transcript: Vec<TranscriptMessage>,
        events: Vec<TicketEvent>,
    ) -> TicketRevenue {
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
            transcript,
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
