//! Ingest on PostgreSQL: each call is one batch of reads (its locks, the
//! stored answer of its idempotency id, the company's settings and the facts
//! its rules need), the engine's plan, and one batch of writes, inside the
//! call's own transaction (a rejection rolls it back).

use deadpool_postgres::GenericClient;

use super::{
    apply,
    pipeline::{Param, Pipeline, params},
};
use crate::{
    StoreError,
    engine::{self, Plan},
    model::{CompanyId, EventInput, EventKind, IdempotencyKey, RefundInput, RefundReceipt},
    rows::{Call, Ingested},
    sql::{reads, reads::Batch},
};

pub(super) use crate::sql::db::{order_lock, shopper_lock};

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

/// The reads every call starts with, after its locks: the stored answer of
/// its idempotency id and the company's settings.
struct Preamble {
    replay: Option<usize>,
    settings: usize,
}

fn preamble(batch: &mut Batch, company: &CompanyId, idempotency: Option<&IdempotencyKey>) -> Preamble {
    let replay = idempotency.map(|k| reads::push_replay(batch, company, k));
    let settings = batch.push(reads::SETTINGS, crate::sql::args![company.0.clone()]);
    Preamble { replay, settings }
}

/// Runs a batch of reads in one round trip, after taking `keys`' locks (so
/// every read sees the writes of the calls that held them).
async fn run(
    tx: &impl GenericClient,
    keys: &[String],
    batch: Batch,
) -> Result<Vec<Vec<tokio_postgres::Row>>, StoreError> {
    let mut p = Pipeline::default();
    p.push(LOCK, params![super::lock_ids(keys)]);
    for (sql, args) in batch.queries {
        p.push(sql, args.into_iter().map(|a| Box::new(a) as Param).collect());
    }
    let mut rows = p.run(tx).await?;
    rows.remove(0);
    Ok(rows)
}

/// The call's settings, or the answer to replay (a known idempotency id).
fn settle(
    rows: &[Vec<tokio_postgres::Row>],
    pre: &Preamble,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
) -> Result<Result<engine::Settings, Ingested>, StoreError> {
    if let (Some(ix), Some(key)) = (pre.replay, idempotency)
        && let Some(replayed) = engine::ingest::replay(reads::stored_answer(&rows[ix])?, key)?
    {
        return Ok(Err(replayed));
    }
    Ok(Ok(reads::settings(&rows[pre.settings], company)?))
}

/// Runs one ingest call, honouring its idempotency key: a known id gets its
/// stored answer (or a rejection for another body); a new id stores the
/// answer with the call.
pub(super) async fn call(
    tx: &impl GenericClient,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
    call: &Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let keys = locks_of(company, idempotency, call);
    let mut batch = Batch::default();
    let pre = preamble(&mut batch, company, idempotency);
    let plan = match call {
        Call::Event(input) => {
            let ix = reads::push_event(&mut batch, company, input)?;
            let rows = run(tx, &keys, batch).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(settings) => event_plan(input, reads::event(settings, &rows, &ix)?, now_ms)?,
            }
        }
        Call::Ticket(input) => {
            let ix = reads::push_ticket(&mut batch, company, input);
            let rows = run(tx, &keys, batch).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(settings) => engine::ingest::ticket(input, reads::ticket(input, settings, &rows, &ix)?)?,
            }
        }
        Call::Visit { fingerprint, at_ms } => {
            let days = reads::push_visitor_days(&mut batch, company, fingerprint);
            let rows = run(tx, &keys, batch).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(settings) => {
                    engine::ingest::visit(&settings, reads::visitor_days(fingerprint, &rows[days])?, *at_ms)
                }
            }
        }
        Call::CartToken(input) => {
            let rows = run(tx, &keys, batch).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(_) => engine::ingest::cart_token(input),
            }
        }
        Call::Refund(input) => {
            let ix = reads::push_refund(&mut batch, company, input);
            let rows = run(tx, &keys, batch).await?;
            match settle(&rows, &pre, company, idempotency)? {
                Err(replayed) => return Ok(replayed),
                Ok(_) => engine::refunds::record(input, reads::refund(&rows, &ix)?)?,
            }
        }
    };
    write(tx, company, plan, idempotency, now_ms).await
}

/// Sends a plan's writes (and the answer of a new idempotency id) as one batch.
async fn write(
    tx: &impl GenericClient,
    company: &CompanyId,
    plan: Plan,
    idempotency: Option<&IdempotencyKey>,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let Plan { writes, answer } = engine::ingest::remember(plan, idempotency)?;
    let mut batch = Pipeline::default();
    apply::push(&mut batch, company, writes, now_ms)?;
    batch.run(tx).await?;
    Ok(answer)
}

fn event_plan(input: &EventInput, facts: engine::ingest::EventFacts, now_ms: i64) -> Result<Plan, StoreError> {
    engine::ingest::event(input, facts, crate::clock::time_ordered_id("evt_", now_ms), now_ms)
}

/// Stores one event outside an ingest call (a Shopify order), taking `keys`'
/// locks first.
pub(super) async fn event(
    tx: &impl GenericClient,
    company: &CompanyId,
    input: &EventInput,
    keys: &[String],
    now_ms: i64,
) -> Result<crate::model::EventReceipt, StoreError> {
    let mut batch = Batch::default();
    let pre = preamble(&mut batch, company, None);
    let ix = reads::push_event(&mut batch, company, input)?;
    let rows = run(tx, keys, batch).await?;
    let settings = reads::settings(&rows[pre.settings], company)?;
    let plan = event_plan(input, reads::event(settings, &rows, &ix)?, now_ms)?;
    write(tx, company, plan, None, now_ms).await?.into_created_event()
}

/// Stores one refund outside an ingest call (a Shopify refund); the caller
/// holds the order's lock.
pub(super) async fn refund(
    tx: &impl GenericClient,
    company: &CompanyId,
    input: &RefundInput,
    now_ms: i64,
) -> Result<RefundReceipt, StoreError> {
    let mut batch = Batch::default();
    let pre = preamble(&mut batch, company, None);
    let ix = reads::push_refund(&mut batch, company, input);
    let rows = run(tx, &[], batch).await?;
    reads::settings(&rows[pre.settings], company)?;
    let plan = engine::refunds::record(input, reads::refund(&rows, &ix)?)?;
    write(tx, company, plan, None, now_ms).await?.into_created_refund()
}
