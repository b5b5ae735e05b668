//! An engine plan as statements, written once. A backend is a [`Sink`]: it
//! runs (SQLite) or queues (PostgreSQL) each statement, and keeps the few
//! writes whose storage differs by dialect: sharded counters, the multi-day
//! visitor mirror, an order's line items.

use super::{Arg, args};
use crate::{
    StoreError,
    engine::{NewEvent, NewLineItem, VisitorWrite, Write},
    model::{CompanyId, EventId},
    rows::{RollupKey, VisitorFlags},
};

/// Where a plan's statements go.
/// A ticket's first credited (non-test) cart add and checkout, read again
/// from its events.
pub(crate) const TICKET_FIRSTS: &str =
    concat!("UPDATE tickets SET ", include_str!("ticket_firsts.sql"), " WHERE company_id = $1 AND ticket_id = $2");

pub(crate) trait Sink {
    /// Runs or queues one statement (`$1`-style placeholders).
    fn exec(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<(), StoreError>;
    /// Adds `[events, unconverted, usd_cents, quantity, refunded_cents]` to
    /// a rollup row.
    fn rollup(&mut self, key: &RollupKey, sums: [i64; 5]) -> Result<(), StoreError>;
    /// Moves a single-day visitor count.
    fn count_visitor(&mut self, day: String, flags: VisitorFlags, delta: i64) -> Result<(), StoreError>;
    /// Sets a multi-day visitor's flags on a day of the mirror.
    fn mirror(&mut self, fingerprint: String, day: String, flags: VisitorFlags) -> Result<(), StoreError>;
    /// Stores the line items of the order written by the statement just
    /// before (SQLite reads its row id from the connection).
    fn line_items(&mut self, event_id: EventId, items: Vec<NewLineItem>) -> Result<(), StoreError>;
}

/// Writes a plan through `sink`, in order. `now_ms` stamps the rows that
/// record when they were written.
pub(crate) fn apply(
    sink: &mut impl Sink,
    company: &CompanyId,
    writes: Vec<Write>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let company = || company.to_string();
    for write in writes {
        match write {
            Write::Ticket { ticket_id, ai_profile_id, channel, fingerprint, facts } => sink.exec(
                "INSERT INTO tickets (company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms,
                    first_message_ms, message_source, grounded)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                args![
                    company(),
                    ticket_id,
                    ai_profile_id,
                    channel.as_str(),
                    fingerprint,
                    now_ms,
                    facts.first_message_ms,
                    facts.message_source.as_str(),
                    facts.grounded
                ],
            )?,
            Write::TicketFacts { ticket_id, facts } => sink.exec(
                "UPDATE tickets SET first_message_ms = $3, message_source = $4, grounded = $5
                 WHERE company_id = $1 AND ticket_id = $2",
                args![company(), ticket_id, facts.first_message_ms, facts.message_source.as_str(), facts.grounded],
            )?,
            Write::TicketCredited { ticket_id, checkout: true, at_ms } => sink.exec(
                "UPDATE tickets SET first_checkout_ms = $3 WHERE company_id = $1 AND ticket_id = $2
                   AND (first_checkout_ms IS NULL OR first_checkout_ms > $3)",
                args![company(), ticket_id, at_ms],
            )?,
            Write::TicketCredited { ticket_id, checkout: false, at_ms } => sink.exec(
                "UPDATE tickets SET first_cart_ms = $3 WHERE company_id = $1 AND ticket_id = $2
                   AND (first_cart_ms IS NULL OR first_cart_ms > $3)",
                args![company(), ticket_id, at_ms],
            )?,
            Write::TicketFirsts { ticket_id } => sink.exec(TICKET_FIRSTS, args![company(), ticket_id])?,
            Write::Message { ticket_id, message: m } => sink.exec(
                "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id, text,
                    metadata, product_ids)
                 SELECT ticket_pk, $3, $4, $5, $6, $7, $8, $9, $10 FROM tickets WHERE company_id = $1 AND ticket_id = $2",
                args![
                    company(),
                    ticket_id,
                    m.message_id,
                    m.sent_at_ms,
                    m.role.as_str(),
                    m.has_answer_found,
                    m.nudge_id,
                    m.text,
                    m.metadata,
                    m.product_ids
                ],
            )?,
            Write::Event(event) => {
                let NewEvent { event_id, line_items, .. } = &*event;
                let (event_id, line_items) = (event_id.clone(), !line_items.is_empty());
                let items = insert_event(sink, company(), *event)?;
                if line_items {
                    sink.line_items(event_id, items)?;
                }
            }
            // A CHECK keeps positions non-negative, even on a conflict path,
            // so additions create a position and removals only update one.
            Write::CartPosition { fingerprint, product_id, variant_key, delta } if delta >= 0 => sink.exec(
                "INSERT INTO cart_positions (company_id, user_fingerprint, product_id, variant_key, net_quantity)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (company_id, user_fingerprint, product_id, variant_key)
                 DO UPDATE SET net_quantity = cart_positions.net_quantity + excluded.net_quantity",
                args![company(), fingerprint, product_id, variant_key, delta],
            )?,
            Write::CartPosition { fingerprint, product_id, variant_key, delta } => sink.exec(
                "UPDATE cart_positions SET net_quantity = net_quantity + $5
                 WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4",
                args![company(), fingerprint, product_id, variant_key, delta],
            )?,
            Write::Rollup { key, sums } => sink.rollup(&key, sums)?,
            Write::Visitor(write) => visitor(sink, company(), write)?,
            Write::CartToken { cart_token, fingerprint } => sink.exec(
                "INSERT INTO cart_tokens (company_id, cart_token, user_fingerprint, updated_at_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (company_id, cart_token) DO UPDATE SET user_fingerprint = excluded.user_fingerprint,
                    updated_at_ms = excluded.updated_at_ms",
                args![company(), cart_token, fingerprint, now_ms],
            )?,
            Write::Refund { refund_id, order_id, amount, usd_cents, applied } => sink.exec(
                "INSERT INTO refunds (company_id, refund_id, order_id, amount, usd_cents, applied, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![company(), refund_id, order_id, amount, usd_cents, applied, now_ms],
            )?,
            Write::RefundApplied { refund_id, usd_cents } => sink.exec(
                "UPDATE refunds SET applied = TRUE, usd_cents = $3 WHERE company_id = $1 AND refund_id = $2",
                args![company(), refund_id, usd_cents],
            )?,
            Write::CreditOrder { event_id, cents } => sink.exec(
                "UPDATE events SET refunded_cents = refunded_cents + $2 WHERE event_id = $1",
                args![event_id, cents],
            )?,
            Write::Redecided { rewrite: w, window_ms, decided_at_ms } => sink.exec(
                "UPDATE events SET reason = $2, attributed = $3, ticket_id = $4, ai_profile_id = $5,
                    message_source = $6, candidates = $7, window_ms = $8, decided_at_ms = $9,
                    decided_by = $10
                 WHERE event_pk = $1",
                args![
                    w.event_pk,
                    w.reason,
                    w.attributed,
                    w.ticket_id,
                    w.ai_profile_id,
                    w.message_source,
                    w.candidates,
                    window_ms,
                    decided_at_ms,
                    crate::model::DecidedBy::Reattribute
                ],
            )?,
            Write::Exposure { experiment, fingerprint, arm, exposed_at_ms, outcome: o, with_ticket, new: true } => sink
                .exec(
                    "INSERT INTO exposures (company_id, experiment_key, fingerprint, arm, exposed_at_ms, orders,
                        revenue_cents, cart_cents, attributed_cents, unconverted, with_ticket)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    args![
                        company(),
                        experiment,
                        fingerprint,
                        arm,
                        exposed_at_ms,
                        o.orders,
                        o.revenue_cents,
                        o.cart_cents,
                        o.attributed_cents,
                        o.unconverted,
                        with_ticket
                    ],
                )?,
            Write::Exposure { experiment, fingerprint, exposed_at_ms, outcome: o, new: false, .. } => sink.exec(
                "UPDATE exposures SET exposed_at_ms = $4, orders = $5, revenue_cents = $6, cart_cents = $7,
                    attributed_cents = $8, unconverted = $9
                 WHERE company_id = $1 AND experiment_key = $2 AND fingerprint = $3",
                args![
                    company(),
                    experiment,
                    fingerprint,
                    exposed_at_ms,
                    o.orders,
                    o.revenue_cents,
                    o.cart_cents,
                    o.attributed_cents,
                    o.unconverted
                ],
            )?,
            // Every exposure of the visitor whose window holds the event.
            Write::Outcome { fingerprint, at_ms, outcome: o } => sink.exec(
                "UPDATE exposures SET orders = orders + $4, revenue_cents = revenue_cents + $5,
                    cart_cents = cart_cents + $6, attributed_cents = attributed_cents + $7,
                    unconverted = unconverted + $8
                 WHERE company_id = $1 AND fingerprint = $2 AND exposed_at_ms <= $3
                   AND experiment_key IN (SELECT experiment_key FROM experiments
                       WHERE company_id = $1 AND (ends_at_ms IS NULL OR ends_at_ms >= $3))",
                args![
                    company(),
                    fingerprint,
                    at_ms,
                    o.orders,
                    o.revenue_cents,
                    o.cart_cents,
                    o.attributed_cents,
                    o.unconverted
                ],
            )?,
            Write::TicketSeen { fingerprint } => sink.exec(
                "UPDATE exposures SET with_ticket = TRUE WHERE company_id = $1 AND fingerprint = $2 AND NOT with_ticket",
                args![company(), fingerprint],
            )?,
            Write::Answer { endpoint, id, request_sha256, body } => sink.exec(
                "INSERT INTO idempotency_keys (company_id, endpoint, idempotency_id, request_sha256, body,
                    created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                args![company(), endpoint, id, request_sha256, body, now_ms],
            )?,
        }
    }
    Ok(())
}

/// Inserts the event row; returns its line items for the sink to store.
fn insert_event(sink: &mut impl Sink, company: String, e: NewEvent) -> Result<Vec<NewLineItem>, StoreError> {
    sink.exec(
        "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
            user_fingerprint, user_faq_fingerprint, event_type, product_id, variant_id, quantity_signed, unit_price,
            order_id, cart_token, amount, currency, usd_multiplier, rate_effective_from, usd_cents, is_test,
            reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by,
            rate_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
            $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)",
        args![
            e.event_id,
            company,
            e.cart_type.as_str(),
            e.source_category,
            e.occurred_at_ms,
            e.day,
            e.received_at_ms,
            e.user_fingerprint,
            e.user_faq_fingerprint,
            e.event_type,
            e.product_id,
            e.variant_id,
            e.quantity_signed,
            e.unit_price,
            e.order_id,
            e.cart_token,
            e.amount,
            e.currency.as_str(),
            e.usd_multiplier,
            e.rate_effective_from,
            e.usd_cents,
            e.is_test,
            e.reason,
            e.attributed,
            e.ticket_id,
            e.ai_profile_id,
            e.message_source,
            e.window_ms,
            e.candidates,
            e.decided_at_ms,
            crate::model::DecidedBy::Ingest,
            e.rate_source
        ],
    )?;
    Ok(e.line_items)
}

fn visitor(sink: &mut impl Sink, company: String, write: VisitorWrite) -> Result<(), StoreError> {
    match write {
        VisitorWrite::SetFlags { fingerprint, day, flags } => sink.exec(
            "UPDATE visitor_days SET seen = $4, assisted = $5, converted = $6
             WHERE company_id = $1 AND user_fingerprint = $2 AND day = $3",
            args![company, fingerprint, day, flags.seen, flags.assisted, flags.converted],
        ),
        VisitorWrite::Insert { fingerprint, day, flags, multi } => sink.exec(
            "INSERT INTO visitor_days (company_id, user_fingerprint, day, seen, assisted, converted, multi)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![company, fingerprint, day, flags.seen, flags.assisted, flags.converted, multi],
        ),
        VisitorWrite::Count { day, flags, delta } => sink.count_visitor(day, flags, delta),
        VisitorWrite::BecameMulti { fingerprint } => {
            sink.exec(
                "INSERT INTO multi_visitors (company_id, fingerprint) VALUES ($1, $2)
                 ON CONFLICT (company_id, fingerprint) DO NOTHING",
                args![company.clone(), fingerprint.clone()],
            )?;
            sink.exec(
                "UPDATE visitor_days SET multi = TRUE WHERE company_id = $1 AND user_fingerprint = $2",
                args![company, fingerprint],
            )
        }
        VisitorWrite::Mirror { fingerprint, day, flags } => sink.mirror(fingerprint, day, flags),
    }
}
