//! The ingest rules: idempotent replay, tickets (identity fixed at first
//! sight), cart and checkout events (quantity rules, duplicate orders, USD
//! conversion, the attribution decision, rollups, visitor days, refunds that
//! waited for their order), cart tokens and visits.

use revtrace_core::{
    AttributionInput, Currency, EventId, Fingerprint, MessageFact, Multiplier, Role, TicketHistory, TicketId, UsdCents,
    attribute, classify, qualifies, signed_quantity, ticket::nudge_id_of, time::to_rfc3339, usd_cents,
};
use rust_decimal::Decimal;

use super::{FunnelFacts, NewEvent, NewLineItem, NewMessage, Plan, RateRow, Settings, VisitorDays, Write, refunds};
use crate::{
    Rejection, StoreError,
    model::{CartTokenInput, EventInput, EventKind, EventReceipt, IdempotencyKey, TicketInput, TicketSummary},
    rows::{CartType, Contribution, EventColumns, Ingested, Rate, RollupKey, VisitorFlags},
};

/// The stored answer of an idempotency id.
pub(crate) struct StoredAnswer {
    pub request_sha256: Vec<u8>,
    pub body: String,
}

/// A known idempotency id with the same body gets its original answer; with
/// another body, a rejection (the id was reused).
pub(crate) fn replay(stored: Option<StoredAnswer>, key: &IdempotencyKey) -> Result<Option<Ingested>, Rejection> {
    match stored {
        None => Ok(None),
        Some(s) if s.request_sha256 == key.request_sha256 => Ok(Some(Ingested::Replayed { body: s.body })),
        Some(_) => Err(Rejection::IdempotencyMismatch),
    }
}

/// Adds the write that stores the answer of a new idempotency id.
pub(crate) fn remember(mut plan: Plan, key: Option<&IdempotencyKey>) -> Result<Plan, StoreError> {
    if let Some(key) = key {
        let body = plan.answer.to_stored()?;
        plan.writes.push(Write::Answer {
            endpoint: key.endpoint,
            id: key.id.clone(),
            request_sha256: key.request_sha256,
            body,
        });
    }
    Ok(plan)
}

/// A stored ticket's identity.
pub(crate) struct StoredTicket {
    pub ai_profile_id: String,
    pub channel: String,
    pub fingerprint: String,
    /// The funnel's facts as stored (none before migration 9 filled them).
    pub facts: Option<FunnelFacts>,
}

/// A ticket's first credited (non-test) cart add and checkout, as stored.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CreditedFirsts {
    pub cart_ms: Option<i64>,
    pub checkout_ms: Option<i64>,
}

/// What a ticket upsert depends on.
pub(crate) struct TicketFacts {
    pub settings: Settings,
    pub stored: Option<StoredTicket>,
    /// The ticket's stored messages.
    pub messages: Vec<MessageFact>,
    /// The ticket fingerprint's visitor days.
    pub visitor: VisitorDays,
}

/// A ticket's identity (channel, fingerprint, profile) is fixed at first
/// sight: changing it later would silently rewrite the history that past
/// decisions used. A message id already stored keeps its first version; a
/// new grounded AI answer marks the visitor assisted on its day.
pub(crate) fn ticket(input: &TicketInput, facts: TicketFacts) -> Result<Plan, StoreError> {
    let TicketFacts { settings, stored, mut messages, mut visitor } = facts;
    let conflict = |field| Rejection::TicketConflict { ticket_id: input.ticket_id.clone(), field };
    let mut writes = Vec::new();
    let (new, stored_facts) = (stored.is_none(), stored.as_ref().and_then(|t| t.facts));
    match stored {
        Some(t) => {
            if t.channel != input.channel.as_str() {
                return Err(conflict("channel").into());
            }
            if t.fingerprint != input.fingerprint.as_str() {
                return Err(conflict("fingerprint").into());
            }
            if input.ai_profile_id.as_ref().is_some_and(|p| *p != t.ai_profile_id) {
                return Err(conflict("ai_profile_id").into());
            }
        }
        None => {
            // An exposed visitor with a conversation: contamination in a hidden arm.
            writes.push(Write::TicketSeen { fingerprint: input.fingerprint.as_str().to_owned() });
        }
    }
    for m in &input.messages {
        if messages.iter().any(|f| f.message_id == m.message_id) {
            continue;
        }
        let nudge_id = nudge_id_of(m.metadata.as_ref());
        writes.push(Write::Message {
            ticket_id: input.ticket_id.clone(),
            message: NewMessage {
                message_id: m.message_id.clone(),
                sent_at_ms: m.sent_at_ms,
                role: m.role,
                has_answer_found: m.has_answer_found,
                nudge_id: nudge_id.clone(),
                text: m.text.clone(),
                metadata: m.metadata.as_ref().map(|v| v.to_string()),
                product_ids: (!m.product_ids.is_empty())
                    .then(|| serde_json::Value::from(m.product_ids.clone()).to_string()),
            },
        });
        messages.push(MessageFact {
            message_id: m.message_id.clone(),
            sent_at_ms: m.sent_at_ms,
            role: m.role,
            has_answer_found: m.has_answer_found,
            nudge_id,
        });
        if m.role == Role::Ai && m.has_answer_found == Some(true) {
            let day = revtrace_core::time::reporting_day(m.sent_at_ms, &settings.timezone).to_string();
            visitor.mark(&mut writes, &day, VisitorFlags { assisted: true, ..VisitorFlags::default() });
        }
    }
    let facts = FunnelFacts {
        first_message_ms: messages.iter().map(|m| m.sent_at_ms).min(),
        message_source: classify(input.channel, &messages),
        grounded: qualifies(&messages, i64::MAX),
    };
    // A new ticket is inserted with its facts, ahead of its messages; a
    // stored one is updated only when they change (a re-sent ticket writes
    // nothing).
    if new {
        writes.insert(
            0,
            Write::Ticket {
                ticket_id: input.ticket_id.clone(),
                ai_profile_id: input.ai_profile_id.clone().unwrap_or_else(|| "default".to_owned()),
                channel: input.channel,
                fingerprint: input.fingerprint.as_str().to_owned(),
                facts,
            },
        );
    } else if stored_facts != Some(facts) {
        writes.push(Write::TicketFacts { ticket_id: input.ticket_id.clone(), facts });
    }
    let answer = Ingested::Ticket(TicketSummary {
        ticket_id: input.ticket_id.clone(),
        message_source: facts.message_source,
        qualifies: facts.grounded,
        first_message_at: facts.first_message_ms.map(to_rfc3339),
        last_message_at: messages.iter().map(|m| m.sent_at_ms).max().map(to_rfc3339),
    });
    Ok(Plan { writes, answer })
}

/// The request field an event's amount comes from.
fn amount_field(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Cart { .. } => "unit_price",
        EventKind::Checkout { .. } => "order_value",
    }
}

/// The day after the event's UTC date: every rate that may be in force on
/// its reporting day, whatever the company's zone, took effect on or before
/// it. Backends read the latest three rates up to this day.
pub(crate) fn rate_horizon(occurred_at_ms: i64) -> Result<String, StoreError> {
    Ok(revtrace_core::time::reporting_day(occurred_at_ms, &jiff::tz::TimeZone::UTC)
        .tomorrow()
        .map_err(|e| Rejection::invalid(Some("occurred_at"), e.to_string()))?
        .to_string())
}

/// How many rates up to [`rate_horizon`] a backend reads, newest first: the
/// reporting day is at most a day before the horizon's day before.
pub(crate) const RATES_NEAR: i64 = 3;

/// The rate in force on `day`: the newest of `near` effective on or before it.
pub(crate) fn rate_on(currency: Currency, day: &str, near: Vec<RateRow>) -> Option<Rate> {
    if currency == Currency::USD {
        return Some(Rate { multiplier: Multiplier::ONE, effective_from: None, source: None });
    }
    near.into_iter().find(|r| r.effective_from.as_str() <= day).map(|r| Rate {
        multiplier: r.multiplier,
        effective_from: Some(r.effective_from),
        source: Some(r.source),
    })
}

/// What storing a cart or checkout event depends on.
pub(crate) struct EventFacts {
    pub settings: Settings,
    /// For a removal: the shopper's net quantity of the product variant.
    pub cart_net: Option<i64>,
    /// For a checkout: the event id already stored with its order id.
    pub stored_order: Option<String>,
    /// The latest rates up to [`rate_horizon`], newest first.
    pub rates: Vec<RateRow>,
    /// The tickets of the identity's fingerprints, messages up to the event.
    pub histories: Vec<TicketHistory>,
    /// Those tickets' first credited cart add and checkout, one per history.
    pub credited_firsts: Vec<CreditedFirsts>,
    /// The visitor days of each fingerprint of the identity, once each.
    pub visitors: Vec<VisitorDays>,
    /// For a checkout: refunds that arrived before it, `(refund_id, amount)`.
    pub waiting_refunds: Vec<(String, Decimal)>,
}

/// Decides and plans a cart or checkout event. `event_id` is the id the new
/// event gets; `now_ms` the decision's time.
pub(crate) fn event(input: &EventInput, facts: EventFacts, event_id: EventId, now_ms: i64) -> Result<Plan, StoreError> {
    let EventFacts {
        settings,
        cart_net,
        stored_order,
        rates,
        histories,
        credited_firsts,
        mut visitors,
        waiting_refunds,
    } = facts;

    // The rule checks that can refuse the event come before any write.
    let (amount, quantity_signed) = match &input.kind {
        EventKind::Cart { event_type, quantity, unit_price, .. } => {
            let signed = signed_quantity(*event_type, *quantity, cart_net).map_err(Rejection::from)?;
            let amount = Decimal::from(signed)
                .checked_mul(*unit_price)
                .ok_or_else(|| Rejection::invalid(Some("unit_price"), "quantity × unit_price is too large"))?;
            (amount, Some(signed))
        }
        EventKind::Checkout { order_id, order_value, .. } => {
            if let Some(event_id) = stored_order {
                return Err(Rejection::DuplicateOrder { order_id: order_id.clone(), event_id: event_id.into() }.into());
            }
            (*order_value, None)
        }
    };

    let day = revtrace_core::time::reporting_day(input.occurred_at_ms, &settings.timezone).to_string();
    let rate = rate_on(input.currency, &day, rates);
    let usd = rate
        .as_ref()
        .map(|r| usd_cents(amount, r.multiplier))
        .transpose()
        .map_err(|e| Rejection::invalid(Some(amount_field(&input.kind)), e.to_string()))?;

    let identity = input.identity();
    let decision = attribute(
        AttributionInput { at_ms: input.occurred_at_ms, identity: &identity, window_ms: settings.window_ms },
        &histories,
    );
    let winner = decision.winner.as_ref();
    let checkout = matches!(input.kind, EventKind::Checkout { .. });
    let key = RollupKey {
        day: day.clone(),
        cart_type: CartType::of(checkout),
        attributed: decision.attributed(),
        ai_profile_id: winner.map(|w| w.ai_profile_id.clone()).unwrap_or_default(),
        message_source: winner.map(|w| w.message_source),
        is_test: input.is_test,
    };

    let columns = EventColumns::of(&input.kind);
    let line_items = match &input.kind {
        EventKind::Checkout { line_items, .. } => line_items
            .iter()
            .map(|i| NewLineItem {
                product_id: i.product_id.clone(),
                variant_id: i.variant_id.clone(),
                sku: i.sku.clone(),
                title: i.title.clone(),
                quantity: i.quantity,
                unit_price: i.unit_price.to_string(),
            })
            .collect(),
        EventKind::Cart { .. } => Vec::new(),
    };
    let mut writes = vec![Write::Event(Box::new(NewEvent {
        event_id: event_id.clone(),
        cart_type: columns.cart_type,
        source_category: input.source.as_str(),
        occurred_at_ms: input.occurred_at_ms,
        day: day.clone(),
        received_at_ms: input.received_at_ms,
        user_fingerprint: input.user_fingerprint.as_ref().map(|f| f.as_str().to_owned()),
        user_faq_fingerprint: input.user_faq_fingerprint.as_ref().map(|f| f.as_str().to_owned()),
        event_type: columns.event_type,
        product_id: columns.product_id.cloned(),
        variant_id: columns.variant_id.map(str::to_owned),
        quantity_signed,
        unit_price: columns.unit_price,
        order_id: columns.order_id.cloned(),
        cart_token: columns.cart_token.map(str::to_owned),
        amount: amount.to_string(),
        currency: input.currency,
        usd_multiplier: rate.as_ref().map(|r| r.multiplier.value().to_string()),
        rate_effective_from: rate.as_ref().and_then(|r| r.effective_from.clone()),
        rate_source: rate.as_ref().and_then(|r| r.source.clone()),
        usd_cents: usd,
        is_test: input.is_test,
        reason: decision.reason.as_str(),
        attributed: decision.attributed(),
        ticket_id: winner.map(|w| TicketId::new(w.ticket_id.clone())),
        ai_profile_id: winner.map(|w| w.ai_profile_id.clone()),
        message_source: winner.map(|w| w.message_source),
        window_ms: settings.window_ms,
        candidates: serde_json::to_string(&decision.candidates).map_err(|e| StoreError::corrupt(e.to_string()))?,
        decided_at_ms: now_ms,
        line_items,
    }))];

    // The funnel's first credited cart add and checkout of the winner.
    let adds = matches!(
        input.kind,
        EventKind::Cart {
            event_type: revtrace_core::CartEventType::ItemAdded | revtrace_core::CartEventType::QuantityIncreased,
            ..
        }
    );
    let stored_first = |w: &revtrace_core::Winner| {
        let at = histories.iter().position(|h| h.ticket_id == w.ticket_id);
        let firsts = at.and_then(|i| credited_firsts.get(i)).copied().unwrap_or_default();
        if checkout { firsts.checkout_ms } else { firsts.cart_ms }
    };
    // Only an earlier one writes (the shopper's lock keeps the read current).
    let earlier = |w: &&revtrace_core::Winner| stored_first(w).is_none_or(|at| at > input.occurred_at_ms);
    if let Some(w) = winner.filter(|_| !input.is_test && (checkout || adds)).filter(earlier) {
        writes.push(Write::TicketCredited {
            ticket_id: TicketId::new(w.ticket_id.clone()),
            checkout,
            at_ms: input.occurred_at_ms,
        });
    }
    let contribution =
        Contribution { usd_cents: usd, quantity: quantity_signed.unwrap_or_default(), refunded_cents: UsdCents::ZERO };
    writes.push(Write::Rollup { key: key.clone(), sums: contribution.sums(1)? });
    // The exposures this visitor's event counts in (SPEC §11).
    let own = input.user_fingerprint.as_ref().map(Fingerprint::as_str);
    let outcome = super::experiments::OutcomeEvent {
        checkout,
        usd_cents: usd.map(UsdCents::cents),
        refunded_cents: 0,
        attributed: decision.attributed(),
        occurred_at_ms: input.occurred_at_ms,
    };
    writes.extend(super::experiments::moved(own, input.is_test, input.occurred_at_ms, outcome.outcome()));
    // A test order sets no flag, but its row lets privacy requests find it.
    let flags = VisitorFlags { seen: !input.is_test, converted: checkout && !input.is_test, assisted: false };
    for days in &mut visitors {
        days.mark(&mut writes, &day, flags);
    }
    if checkout {
        let multiplier = rate.as_ref().map(|r| r.multiplier);
        let order =
            refunds::OrderOwner { fingerprint: own, occurred_at_ms: input.occurred_at_ms, is_test: input.is_test };
        refunds::apply_waiting(&mut writes, &event_id, multiplier, &key, order, waiting_refunds)?;
    }
    if let EventKind::Cart { product_id, variant_id, .. } = &input.kind {
        writes.push(Write::CartPosition {
            fingerprint: input.user_fingerprint.as_ref().map(|f| f.as_str().to_owned()).unwrap_or_default(),
            product_id: product_id.clone(),
            variant_key: variant_id.clone().unwrap_or_default(),
            delta: quantity_signed.unwrap_or_default(),
        });
    }

    let answer = Ingested::Event(EventReceipt {
        event_id,
        attributed: decision.attributed(),
        ticket_id: winner.map(|w| TicketId::new(w.ticket_id.clone())),
        message_source: winner.map(|w| w.message_source),
        reason: decision.reason,
        usd_value: usd.map(|c| c.to_string()),
    });
    Ok(Plan { writes, answer })
}

/// The fingerprints whose visitor days an event marks: its identity, each
/// once (the same one as user and FAQ fingerprint is one visitor).
pub(crate) fn visitor_fingerprints(input: &EventInput) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(2);
    for fingerprint in input.identity() {
        if !out.contains(&fingerprint) {
            out.push(fingerprint);
        }
    }
    out
}

/// A cart token links to the fingerprint that last sent it.
pub(crate) fn cart_token(input: &CartTokenInput) -> Plan {
    Plan {
        writes: vec![Write::CartToken {
            cart_token: input.cart_token.clone(),
            fingerprint: input.user_fingerprint.as_str().to_owned(),
        }],
        answer: Ingested::NoContent,
    }
}

/// A visit marks the visitor seen on its day.
pub(crate) fn visit(settings: &Settings, mut visitor: VisitorDays, at_ms: i64) -> Plan {
    let day = revtrace_core::time::reporting_day(at_ms, &settings.timezone).to_string();
    let mut writes = Vec::new();
    visitor.mark(&mut writes, &day, VisitorFlags { seen: true, ..VisitorFlags::default() });
    Plan { writes, answer: Ingested::NoContent }
}
