//! Ingest on PostgreSQL: each call is one batch of reads (its locks, the
//! stored answer of its idempotency id, the company's settings and the facts
//! its rules need), the engine's plan, and one batch of writes, inside the
//! call's own transaction (a rejection rolls it back).

use revtrace_core::{Currency, MessageFact, Role};

use super::{
    Tx, apply, history,
    pipeline::{Pipeline, params},
    refunds, rollups,
};
use crate::{
    Rejection, StoreError,
    engine::{
        self, Plan, RateRow,
        ingest::{EventFacts, StoredAnswer, StoredTicket, TicketFacts},
    },
    model::{CompanyId, EventInput, EventKind, IdempotencyKey, RefundInput, RefundReceipt, TicketInput},
    rows::{Call, Ingested, parse_multiplier},
};

/// The lock every write about one shopper takes.
pub(super) fn shopper_lock(company: &CompanyId, fingerprint: &str) -> String {
    format!("shopper\u{0}{}\u{0}{fingerprint}", company.0)
}

/// The lock every write about one order takes (the order, its refunds).
pub(super) fn order_lock(company: &CompanyId, order_id: &str) -> String {
    format!("order\u{0}{}\u{0}{order_id}", company.0)
}

/// What a call must hold before it reads anything its rules depend on.
fn locks_of(company: &CompanyId, idempotency: Option<&IdempotencyKey>, call: &Call) -> Vec<String> {
    let mut keys: Vec<String> = idempotency
        .map(|k| format!("idempotency\u{0}{}\u{0}{}\u{0}{}", company.0, k.endpoint, k.id))
        .into_iter()
        .collect();
    match call {
        Call::Ticket(t) => keys.push(shopper_lock(company, t.fingerprint.as_str())),
        Call::Event(e) => {
            keys.extend(e.identity().into_iter().map(|f| shopper_lock(company, f)));
            if let EventKind::Checkout { order_id, .. } = &e.kind {
                keys.push(order_lock(company, order_id));
            }
        }
        Call::Visit { fingerprint, .. } => keys.push(shopper_lock(company, fingerprint)),
        Call::Refund(r) => keys.push(order_lock(company, &r.order_id)),
        Call::CartToken(_) => {}
    }
    keys
}

const LOCK: &str = "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::int8[]) k ORDER BY k) s";
const REPLAY: &str = "SELECT request_sha256, status, body FROM idempotency_keys WHERE company_id = $1 AND endpoint = $2 AND idempotency_id = $3";
const SETTINGS: &str = "SELECT window_ms, timezone FROM companies WHERE company_id = $1";

/// The first statements of every call, sent with its own reads: its locks
/// (so everything after them sees the writes of calls that held them), the
/// stored answer of its idempotency id, the company's settings.
struct Preamble {
    replay: Option<usize>,
    settings: usize,
}

fn preamble(p: &mut Pipeline, company: &CompanyId, keys: &[String], idempotency: Option<&IdempotencyKey>) -> Preamble {
    p.push(LOCK, params![super::lock_ids(keys)]);
    let replay = idempotency.map(|k| p.push(REPLAY, params![company.0.clone(), k.endpoint, k.id.clone()]));
    let settings = p.push(SETTINGS, params![company.0.clone()]);
    Preamble { replay, settings }
}

/// The call's settings, or the answer to replay (a known idempotency id).
fn settle(
    rows: &[Vec<tokio_postgres::Row>],
    pre: &Preamble,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
) -> Result<Result<history::CompanySettings, Ingested>, StoreError> {
    if let (Some(ix), Some(key)) = (pre.replay, idempotency) {
        let stored = rows[ix]
            .first()
            .map(|r| {
                let status: i32 = r.get(1);
                let status = u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?;
                Ok::<_, StoreError>(StoredAnswer { request_sha256: r.get(0), status, body: r.get(2) })
            })
            .transpose()?;
        if let Some(replayed) = engine::ingest::replay(stored, key)? {
            return Ok(Err(replayed));
        }
    }
    let r = rows[pre.settings].first().ok_or_else(|| Rejection::UnknownCompany(company.0.clone()))?;
    Ok(Ok(history::settings_of(r)?))
}

/// Runs one ingest call, honouring its idempotency key: a known id gets its
/// stored answer (or a rejection for another body); a new id stores the
/// answer with the call.
pub(super) async fn call(
    tx: &Tx<'_>,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
    call: &Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let keys = locks_of(company, idempotency, call);
    let mut reads = Pipeline::default();
    let pre = preamble(&mut reads, company, &keys, idempotency);
    let plan = match call {
        Call::Event(input) => {
            let ix = push_event_reads(&mut reads, company, input)?;
            let rows = reads.run(tx).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(settings) => event_plan(input, settings, &rows, &ix, now_ms)?,
            }
        }
        Call::Ticket(input) => {
            let ix = push_ticket_reads(&mut reads, company, input);
            let rows = reads.run(tx).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(settings) => engine::ingest::ticket(input, ticket_facts(input, settings, &rows, &ix)?)?,
            }
        }
        Call::Visit { fingerprint, at_ms } => {
            let days = reads.push(rollups::VISITOR_DAYS_OF, params![company.0.clone(), fingerprint.clone()]);
            let rows = reads.run(tx).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(settings) => {
                    engine::ingest::visit(&settings, rollups::visitor_days(fingerprint, &rows[days]), *at_ms)
                }
            }
        }
        Call::CartToken(input) => {
            let rows = reads.run(tx).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(_) => engine::ingest::cart_token(input),
            }
        }
        Call::Refund(input) => {
            let ix = refunds::push_reads(&mut reads, company, input);
            let rows = reads.run(tx).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(_) => engine::refunds::record(input, refunds::facts(&rows, &ix)?)?,
            }
        }
    };
    let Plan { writes, answer } = engine::ingest::remember(plan, idempotency)?;
    let mut batch = Pipeline::default();
    apply::push(&mut batch, company, writes, now_ms);
    batch.run(tx).await?;
    Ok(answer)
}

/// Where a ticket's facts come back in the read batch.
struct TicketReads {
    stored: usize,
    messages: usize,
    days: usize,
}

fn push_ticket_reads(reads: &mut Pipeline, company: &CompanyId, input: &TicketInput) -> TicketReads {
    TicketReads {
        stored: reads.push(
            "SELECT ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = $1 AND ticket_id = $2",
            params![company.0.clone(), input.ticket_id.clone()],
        ),
        messages: reads.push(
            "SELECT m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
             FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = $1 AND t.ticket_id = $2",
            params![company.0.clone(), input.ticket_id.clone()],
        ),
        days: reads.push(rollups::VISITOR_DAYS_OF, params![company.0.clone(), input.fingerprint.as_str().to_owned()]),
    }
}

fn ticket_facts(
    input: &TicketInput,
    settings: history::CompanySettings,
    rows: &[Vec<tokio_postgres::Row>],
    ix: &TicketReads,
) -> Result<TicketFacts, StoreError> {
    let stored = rows[ix.stored].first().map(|r| StoredTicket {
        ai_profile_id: r.get(0),
        channel: r.get(1),
        fingerprint: r.get(2),
    });
    let messages = rows[ix.messages]
        .iter()
        .map(|r| {
            Ok(MessageFact {
                message_id: r.get(0),
                sent_at_ms: r.get(1),
                role: Role::parse(r.get(2))
                    .ok_or_else(|| StoreError::Corrupt(format!("role {}", r.get::<_, &str>(2))))?,
                has_answer_found: r.get(3),
                nudge_id: r.get(4),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let visitor = rollups::visitor_days(input.fingerprint.as_str(), &rows[ix.days]);
    Ok(TicketFacts { settings, stored, messages, visitor })
}

/// The latest rates up to the event's horizon (`engine::ingest::rate_horizon`).
const RATES_NEAR: &str = "SELECT usd_multiplier, effective_from, source FROM currency_rates
     WHERE currency = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT $3";

/// Where an event's facts come back in the read batch.
struct EventReads {
    histories: Vec<usize>,
    /// Per fingerprint whose visitor days the event marks.
    days: Vec<(String, usize)>,
    rates: Option<usize>,
    net: Option<usize>,
    order: Option<usize>,
    waiting: Option<usize>,
}

fn push_event_reads(reads: &mut Pipeline, company: &CompanyId, input: &EventInput) -> Result<EventReads, StoreError> {
    let histories = input
        .identity()
        .into_iter()
        .map(|f| reads.push(history::FOR_FINGERPRINT, params![company.0.clone(), f.to_owned(), input.occurred_at_ms]))
        .collect();
    let days = engine::ingest::visitor_fingerprints(input)
        .into_iter()
        .map(|f| (f.to_owned(), reads.push(rollups::VISITOR_DAYS_OF, params![company.0.clone(), f.to_owned()])))
        .collect();
    let rates = match input.currency {
        Currency::USD => None,
        currency => Some(reads.push(
            RATES_NEAR,
            params![
                currency.as_str().to_owned(),
                engine::ingest::rate_horizon(input.occurred_at_ms)?,
                engine::ingest::RATES_NEAR
            ],
        )),
    };
    let (mut net, mut order, mut waiting) = (None, None, None);
    match &input.kind {
        EventKind::Cart { event_type, product_id, variant_id, .. } if !event_type.adds() => {
            let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
            net = Some(reads.push(
                "SELECT net_quantity FROM cart_positions
                 WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4",
                params![
                    company.0.clone(),
                    fingerprint.to_owned(),
                    product_id.clone(),
                    variant_id.clone().unwrap_or_default()
                ],
            ));
        }
        EventKind::Cart { .. } => {}
        EventKind::Checkout { order_id, .. } => {
            order = Some(reads.push(
                "SELECT event_id FROM events WHERE company_id = $1 AND order_id = $2",
                params![company.0.clone(), order_id.clone()],
            ));
            waiting = Some(reads.push(refunds::WAITING, params![company.0.clone(), order_id.clone()]));
        }
    }
    Ok(EventReads { histories, days, rates, net, order, waiting })
}

fn event_plan(
    input: &EventInput,
    settings: history::CompanySettings,
    rows: &[Vec<tokio_postgres::Row>],
    ix: &EventReads,
    now_ms: i64,
) -> Result<Plan, StoreError> {
    let mut histories = Vec::new();
    for i in &ix.histories {
        histories.extend(history::from_rows(&rows[*i])?);
    }
    let rates = match ix.rates {
        Some(i) => rows[i]
            .iter()
            .map(|r| {
                Ok(RateRow { multiplier: parse_multiplier(r.get(0))?, effective_from: r.get(1), source: r.get(2) })
            })
            .collect::<Result<_, StoreError>>()?,
        None => Vec::new(),
    };
    let facts = EventFacts {
        settings,
        cart_net: ix.net.and_then(|i| rows[i].first().map(|r| r.get::<_, i64>(0))),
        stored_order: ix.order.and_then(|i| rows[i].first().map(|r| r.get::<_, String>(0))),
        rates,
        histories,
        visitors: ix.days.iter().map(|(f, i)| rollups::visitor_days(f, &rows[*i])).collect(),
        waiting_refunds: ix.waiting.map(|i| refunds::waiting_of(&rows[i])).transpose()?.unwrap_or_default(),
    };
    engine::ingest::event(input, facts, crate::keys::time_ordered_id("evt_"), now_ms)
}

/// Stores one event outside an ingest call (a Shopify order), taking `keys`'
/// locks first.
pub(super) async fn event(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &EventInput,
    keys: &[String],
    now_ms: i64,
) -> Result<crate::model::EventReceipt, StoreError> {
    let mut reads = Pipeline::default();
    let pre = preamble(&mut reads, company, keys, None);
    let ix = push_event_reads(&mut reads, company, input)?;
    let rows = reads.run(tx).await?;
    let settings = settle(&rows, &pre, company, None)?
        .map_err(|_| StoreError::Corrupt("an event without an idempotency id was replayed".into()))?;
    let Plan { writes, answer } = event_plan(input, settings, &rows, &ix, now_ms)?;
    let mut batch = Pipeline::default();
    apply::push(&mut batch, company, writes, now_ms);
    batch.run(tx).await?;
    match answer {
        Ingested::Event(receipt) => Ok(receipt),
        _ => Err(StoreError::Corrupt("an event plan answered like another call".into())),
    }
}

/// Stores one refund outside an ingest call (a Shopify refund); the caller
/// holds the order's lock.
pub(super) async fn refund(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &RefundInput,
    now_ms: i64,
) -> Result<RefundReceipt, StoreError> {
    let mut reads = Pipeline::default();
    let pre = preamble(&mut reads, company, &[], None);
    let ix = refunds::push_reads(&mut reads, company, input);
    let rows = reads.run(tx).await?;
    settle(&rows, &pre, company, None)?.map_err(|_| StoreError::Corrupt("a refund was replayed".into()))?;
    let Plan { writes, answer } = engine::refunds::record(input, refunds::facts(&rows, &ix)?)?;
    let mut batch = Pipeline::default();
    apply::push(&mut batch, company, writes, now_ms);
    batch.run(tx).await?;
    match answer {
        Ingested::Refund(receipt) => Ok(receipt),
        _ => Err(StoreError::Corrupt("a refund plan answered like another call".into())),
    }
}
