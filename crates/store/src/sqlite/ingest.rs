//! Ingest on the writer's connection: each call reads the facts its rules
//! need, asks the engine for a plan and applies it, inside the writer's
//! batch transaction under its own savepoint, so a rejected call writes
//! nothing.

use revtrace_core::Currency;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    apply::apply,
    history::{self, Companies},
    refunds, rollups,
    writer::Call,
};
use crate::{
    StoreError,
    engine::{
        self, Plan, RateRow,
        ingest::{EventFacts, StoredAnswer, StoredTicket, TicketFacts},
    },
    model::{CompanyId, EventInput, EventKind, EventReceipt, IdempotencyKey, RefundInput, RefundReceipt},
    rows::{Ingested, parse_multiplier},
};

/// Runs one ingest call, honouring its idempotency key: a known id gets its
/// stored answer (or a rejection for another body); a new id stores the
/// answer with the call.
pub(super) fn call(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    idempotency: Option<IdempotencyKey>,
    call: Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    if let Some(key) = &idempotency
        && let Some(replayed) = engine::ingest::replay(stored_answer(conn, company, key)?, key)?
    {
        return Ok(replayed);
    }
    let plan = match call {
        Call::Ticket(input) => {
            let facts = ticket_facts(conn, companies, company, &input)?;
            engine::ingest::ticket(&input, facts)?
        }
        Call::Event(input) => event_plan(conn, companies, company, &input, now_ms)?,
        Call::CartToken(input) => {
            companies.get(conn, company)?;
            engine::ingest::cart_token(&input)
        }
        Call::Refund(input) => {
            companies.get(conn, company)?;
            engine::refunds::record(&input, refunds::facts(conn, company, &input)?)?
        }
        Call::Visit { fingerprint, at_ms } => {
            let settings = companies.get(conn, company)?.clone();
            engine::ingest::visit(&settings, rollups::visitor_days(conn, company, &fingerprint)?, at_ms)
        }
    };
    let Plan { writes, answer } = engine::ingest::remember(plan, idempotency.as_ref())?;
    apply(conn, company, writes, now_ms)?;
    Ok(answer)
}

fn stored_answer(
    conn: &Connection,
    company: &CompanyId,
    key: &IdempotencyKey,
) -> Result<Option<StoredAnswer>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT request_sha256, status, body FROM idempotency_keys
             WHERE company_id = ?1 AND endpoint = ?2 AND idempotency_id = ?3",
        )?
        .query_row(params![company.0, key.endpoint, key.id], |r| {
            Ok(StoredAnswer { request_sha256: r.get(0)?, status: r.get(1)?, body: r.get(2)? })
        })
        .optional()?)
}

fn ticket_facts(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: &crate::model::TicketInput,
) -> Result<TicketFacts, StoreError> {
    let settings = companies.get(conn, company)?.clone();
    let stored: Option<(i64, StoredTicket)> = conn
        .prepare_cached(
            "SELECT ticket_pk, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = ?1 AND ticket_id = ?2",
        )?
        .query_row(params![company.0, input.ticket_id], |r| {
            Ok((r.get(0)?, StoredTicket { ai_profile_id: r.get(1)?, channel: r.get(2)?, fingerprint: r.get(3)? }))
        })
        .optional()?;
    let messages = match &stored {
        Some((pk, _)) => history::messages_of(conn, *pk)?,
        None => Vec::new(),
    };
    let visitor = rollups::visitor_days(conn, company, input.fingerprint.as_str())?;
    Ok(TicketFacts { settings, stored: stored.map(|(_, t)| t), messages, visitor })
}

/// The latest rates of a currency effective on or before `upto`.
pub(super) fn rates_near(conn: &Connection, currency: Currency, upto: &str) -> Result<Vec<RateRow>, StoreError> {
    if currency == Currency::USD {
        return Ok(Vec::new());
    }
    conn.prepare_cached(
        "SELECT usd_multiplier, effective_from, source FROM currency_rates
         WHERE currency = ?1 AND effective_from <= ?2 ORDER BY effective_from DESC LIMIT ?3",
    )?
    .query_map(params![currency.as_str(), upto, engine::ingest::RATES_NEAR], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
    })?
    .map(|row| {
        let (multiplier, effective_from, source) = row?;
        Ok(RateRow { multiplier: parse_multiplier(&multiplier)?, effective_from, source })
    })
    .collect()
}

fn event_plan(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: &EventInput,
    now_ms: i64,
) -> Result<Plan, StoreError> {
    let settings = companies.get(conn, company)?.clone();
    let (mut cart_net, mut stored_order, mut waiting_refunds) = (None, None, Vec::new());
    match &input.kind {
        // Adds need no history; only removals read the current net.
        EventKind::Cart { event_type, product_id, variant_id, .. } if !event_type.adds() => {
            let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
            cart_net = conn
                .prepare_cached(
                    "SELECT net_quantity FROM cart_positions
                     WHERE company_id = ?1 AND user_fingerprint = ?2 AND product_id = ?3 AND variant_key = ?4",
                )?
                .query_row(params![company.0, fingerprint, product_id, variant_id.as_deref().unwrap_or("")], |r| {
                    r.get(0)
                })
                .optional()?;
        }
        EventKind::Cart { .. } => {}
        EventKind::Checkout { order_id, .. } => {
            stored_order = conn
                .prepare_cached("SELECT event_id FROM events WHERE company_id = ?1 AND order_id = ?2")?
                .query_row(params![company.0, order_id], |r| r.get(0))
                .optional()?;
            if stored_order.is_none() {
                waiting_refunds = refunds::waiting(conn, company, order_id)?;
            }
        }
    }
    let rates = rates_near(conn, input.currency, &engine::ingest::rate_horizon(input.occurred_at_ms)?)?;
    let histories = history::for_identity(conn, company, &input.identity(), input.occurred_at_ms)?;
    let visitors = engine::ingest::visitor_fingerprints(input)
        .into_iter()
        .map(|f| rollups::visitor_days(conn, company, f))
        .collect::<Result<_, _>>()?;
    let facts = EventFacts { settings, cart_net, stored_order, rates, histories, visitors, waiting_refunds };
    engine::ingest::event(input, facts, crate::keys::time_ordered_id("evt_"), now_ms)
}

/// Stores one event outside an ingest call (a Shopify order): its plan,
/// applied on this connection.
pub(super) fn event(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: EventInput,
    now_ms: i64,
) -> Result<EventReceipt, StoreError> {
    let Plan { writes, answer } = event_plan(conn, companies, company, &input, now_ms)?;
    apply(conn, company, writes, now_ms)?;
    match answer {
        Ingested::Event(receipt) => Ok(receipt),
        _ => Err(StoreError::Corrupt("an event plan answered like another call".into())),
    }
}

/// Stores one refund outside an ingest call (a Shopify refund).
pub(super) fn refund(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: RefundInput,
    now_ms: i64,
) -> Result<RefundReceipt, StoreError> {
    companies.get(conn, company)?;
    let Plan { writes, answer } = engine::refunds::record(&input, refunds::facts(conn, company, &input)?)?;
    apply(conn, company, writes, now_ms)?;
    match answer {
        Ingested::Refund(receipt) => Ok(receipt),
        _ => Err(StoreError::Corrupt("a refund plan answered like another call".into())),
    }
}
