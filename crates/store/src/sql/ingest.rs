//! An ingest call, written once: its locks, one batch of reads (the stored
//! answer of its idempotency id, the company's settings unless the backend
//! holds them, the facts its rules need), the engine's plan and its writes,
//! in the backend's transaction.

use super::{
    db::{Db, order_lock, shopper_lock},
    reads::{self, Batch},
};
use crate::{
    StoreError,
    engine::{self, Plan},
    model::{CompanyId, EventKind, EventReceipt, IdempotencyKey, RefundReceipt},
    rows::{Call, Ingested},
};

/// What a call must hold before it reads anything its rules depend on: its
/// idempotency id, the shoppers it is about, its order.
fn locks_of(company: &CompanyId, idempotency: Option<&IdempotencyKey>, call: &Call) -> Vec<String> {
    let mut keys: Vec<String> = idempotency
        .map(|k| format!("idempotency\u{0}{}\u{0}{}\u{0}{}", company.as_str(), k.endpoint, k.id))
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
        Call::Assignment(a) => keys.push(shopper_lock(company, a.fingerprint.as_str())),
        Call::CartToken(_) => {}
    }
    keys
}

/// Where a call's facts come back.
enum Reads {
    Ticket(reads::TicketReads),
    Event(reads::EventReads),
    Visit(usize),
    CartToken,
    Refund(reads::RefundReads),
    Assignment(super::experiments::AssignmentReads),
}

/// Runs one ingest call. A known idempotency id gets its stored answer (or
/// a rejection for another body); a new one stores the answer with the call.
pub(crate) async fn call<D: Db>(
    db: &D,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
    call: &Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let mut batch = Batch::default();
    let replay = idempotency.map(|k| reads::push_replay(&mut batch, company, k));
    let cached = db.cached_settings(company)?;
    let settings_at = cached.is_none().then(|| batch.push(reads::SETTINGS, super::args![company.to_string()]));
    let ix = match call {
        Call::Ticket(input) => Reads::Ticket(reads::push_ticket(&mut batch, company, input)),
        Call::Event(input) => Reads::Event(reads::push_event(&mut batch, company, input)?),
        Call::Visit { fingerprint, .. } => Reads::Visit(reads::push_visitor_days(&mut batch, company, fingerprint)),
        Call::CartToken(_) => Reads::CartToken,
        Call::Refund(input) => Reads::Refund(reads::push_refund(&mut batch, company, input)),
        Call::Assignment(input) => Reads::Assignment(super::experiments::push_assignment(&mut batch, company, input)),
    };
    let keys = if D::LOCKS { locks_of(company, idempotency, call) } else { Vec::new() };
    let rows = db.all_locked(&keys, batch).await?;
    if let (Some(at), Some(key)) = (replay, idempotency)
        && let Some(replayed) = engine::ingest::replay(reads::stored_answer(&rows[at])?, key)?
    {
        return Ok(replayed);
    }
    let settings = match (cached, settings_at) {
        (Some(settings), _) => settings,
        (None, Some(at)) => reads::settings(&rows[at], company)?,
        (None, None) => unreachable!("settings are read when not cached"),
    };
    let plan = match (call, ix) {
        (Call::Ticket(input), Reads::Ticket(ix)) => {
            engine::ingest::ticket(input, reads::ticket(input, settings, &rows, &ix)?)?
        }
        (Call::Event(input), Reads::Event(ix)) => {
            let id = crate::clock::time_ordered_id("evt_", now_ms).into();
            engine::ingest::event(input, reads::event(settings, &rows, &ix)?, id, now_ms)?
        }
        (Call::Visit { fingerprint, at_ms }, Reads::Visit(at)) => {
            engine::ingest::visit(&settings, reads::visitor_days(fingerprint, &rows[at])?, *at_ms)
        }
        (Call::CartToken(input), Reads::CartToken) => engine::ingest::cart_token(input),
        (Call::Refund(input), Reads::Refund(ix)) => {
            let facts = reads::refund(&rows, &ix)?;
            // The refund moves its shopper's exposures: hold the shopper as an
            // assignment does, so a new exposure counts it exactly once.
            if let Some(fingerprint) = facts.order.as_ref().and_then(|o| o.user_fingerprint.as_deref())
                && D::LOCKS
            {
                db.lock(&[shopper_lock(company, fingerprint)]).await?;
            }
            engine::refunds::record(input, facts)?
        }
        (Call::Assignment(input), Reads::Assignment(ix)) => {
            let mut facts = super::experiments::assignment(&rows, &ix)?;
            if engine::experiments::starts_from_history(input, &facts) {
                let days = super::experiments::active_days(&rows, &ix);
                facts.events = super::experiments::history(db, company, &settings.timezone, input, days).await?;
            }
            engine::experiments::assign(input, facts)?
        }
        _ => unreachable!("every call reads its own facts"),
    };
    let Plan { writes, answer } = engine::ingest::remember(plan, idempotency)?;
    db.apply(company, writes, now_ms).await?;
    Ok(answer)
}

/// Stores an event outside an ingest call (a Shopify order).
pub(crate) async fn event<D: Db>(
    db: &D,
    company: &CompanyId,
    input: crate::model::EventInput,
    now_ms: i64,
) -> Result<EventReceipt, StoreError> {
    call(db, company, None, &Call::Event(Box::new(input)), now_ms).await?.into_created_event()
}

/// Stores a refund outside an ingest call (a Shopify refund).
pub(crate) async fn refund<D: Db>(
    db: &D,
    company: &CompanyId,
    input: crate::model::RefundInput,
    now_ms: i64,
) -> Result<RefundReceipt, StoreError> {
    call(db, company, None, &Call::Refund(input), now_ms).await?.into_created_refund()
}
