//! Ingest on the writer's connection: each call runs the reads its rules
//! need (`sql::reads`), asks the engine for a plan and applies it, inside
//! the writer's batch transaction under its own savepoint, so a rejected
//! call writes nothing.

use rusqlite::Connection;

use super::{apply::apply, history::Companies, run::all as run, writer::Call};
use crate::{
    StoreError,
    engine::{self, Plan},
    model::{CompanyId, EventInput, EventReceipt, IdempotencyKey, RefundInput, RefundReceipt},
    rows::Ingested,
    sql::{reads, reads::Batch},
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
    if let Some(key) = &idempotency {
        let mut batch = Batch::default();
        reads::push_replay(&mut batch, company, key);
        let rows = run(conn, batch)?;
        if let Some(replayed) = engine::ingest::replay(reads::stored_answer(&rows[0])?, key)? {
            return Ok(replayed);
        }
    }
    let settings = companies.get(conn, company)?.clone();
    let mut batch = Batch::default();
    let plan = match call {
        Call::Ticket(input) => {
            let ix = reads::push_ticket(&mut batch, company, &input);
            let rows = run(conn, batch)?;
            engine::ingest::ticket(&input, reads::ticket(&input, settings, &rows, &ix)?)?
        }
        Call::Event(input) => event_plan(conn, settings, company, &input, now_ms)?,
        Call::CartToken(input) => engine::ingest::cart_token(&input),
        Call::Refund(input) => {
            let ix = reads::push_refund(&mut batch, company, &input);
            engine::refunds::record(&input, reads::refund(&run(conn, batch)?, &ix)?)?
        }
        Call::Visit { fingerprint, at_ms } => {
            reads::push_visitor_days(&mut batch, company, &fingerprint);
            let rows = run(conn, batch)?;
            engine::ingest::visit(&settings, reads::visitor_days(&fingerprint, &rows[0])?, at_ms)
        }
    };
    let Plan { writes, answer } = engine::ingest::remember(plan, idempotency.as_ref())?;
    apply(conn, company, writes, now_ms)?;
    Ok(answer)
}

fn event_plan(
    conn: &Connection,
    settings: engine::Settings,
    company: &CompanyId,
    input: &EventInput,
    now_ms: i64,
) -> Result<Plan, StoreError> {
    let mut batch = Batch::default();
    let ix = reads::push_event(&mut batch, company, input)?;
    let facts = reads::event(settings, &run(conn, batch)?, &ix)?;
    engine::ingest::event(input, facts, crate::clock::time_ordered_id("evt_", now_ms), now_ms)
}

/// Stores one event outside an ingest call (a Shopify order).
pub(super) fn event(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: EventInput,
    now_ms: i64,
) -> Result<EventReceipt, StoreError> {
    let settings = companies.get(conn, company)?.clone();
    let Plan { writes, answer } = event_plan(conn, settings, company, &input, now_ms)?;
    apply(conn, company, writes, now_ms)?;
    answer.into_created_event()
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
    let mut batch = Batch::default();
    let ix = reads::push_refund(&mut batch, company, &input);
    let Plan { writes, answer } = engine::refunds::record(&input, reads::refund(&run(conn, batch)?, &ix)?)?;
    apply(conn, company, writes, now_ms)?;
    answer.into_created_refund()
}
