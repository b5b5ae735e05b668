//! The replay's reads and writes that do not depend on how a backend scans
//! events: which companies, how many events, the window each replays with.

use super::{Cells, args, db::Db, reads::Batch};
use crate::{
    StoreError,
    model::{CompanyId, ReattributeOptions},
};

/// The companies a replay covers and how many events they hold.
pub(crate) async fn scope<D: Db>(db: &D, options: &ReattributeOptions) -> Result<(Vec<CompanyId>, u64), StoreError> {
    let mut batch = Batch::default();
    match &options.company {
        Some(id) => {
            batch.push(super::reads::SETTINGS, args![id]);
            batch.push("SELECT count(*) FROM events WHERE company_id = $1", args![id]);
        }
        None => {
            batch.push("SELECT company_id FROM companies ORDER BY company_id", Vec::new());
            batch.push("SELECT count(*) FROM events", Vec::new());
        }
    }
    let found = db.all(batch).await?;
    let companies = match &options.company {
        Some(id) => {
            super::reads::settings(&found[0], id)?;
            vec![id.clone()]
        }
        None => found[0].iter().map(|r| r.text(0).map(CompanyId::new)).collect::<Result<_, _>>()?,
    };
    let total = found[1].first().map(|r| r.int(0)).transpose()?.unwrap_or_default();
    Ok((companies, u64::try_from(total).unwrap_or_default()))
}

/// The window a company replays with: the one asked for, or its own.
pub(crate) async fn window<D: Db>(
    db: &D,
    company: &CompanyId,
    options: &ReattributeOptions,
) -> Result<i64, StoreError> {
    match options.window_ms {
        Some(w) => Ok(w),
        None => Ok(super::reads::company_settings(db, company).await?.window_ms),
    }
}

/// Sets the company's window before its replay (unless a dry run).
pub(crate) fn set_window(company: &CompanyId, options: &ReattributeOptions) -> Option<Batch> {
    match (options.window_ms, options.dry_run) {
        (Some(window_ms), false) => {
            let mut batch = Batch::default();
            batch.push(
                "UPDATE companies SET window_ms = $1 WHERE company_id = $2",
                args![window_ms, company.to_string()],
            );
            Some(batch)
        }
        _ => None,
    }
}

/// A company's events in time order, as the replay scans them (each row
/// maps to an `engine::reattribute::StoredDecision`).
pub(crate) const EVENTS: &str = "SELECT event_pk, occurred_at_ms, user_fingerprint, user_faq_fingerprint, reason,
        ticket_id, candidates, window_ms
     FROM events WHERE company_id = $1 ORDER BY occurred_at_ms, event_pk";

/// Changed decisions written per transaction, so a long replay never holds
/// the write lock for long.
pub(crate) const CHUNK: usize = 5_000;

/// Writes a chunk of changed decisions in the caller's transaction: each
/// event leaves its rollup row, read again here (so a refund that landed
/// during the replay moves with it), for its new one.
pub(crate) async fn rewrite_chunk<D: Db>(
    db: &D,
    company: &CompanyId,
    chunk: &[crate::engine::reattribute::Rewrite],
    window_ms: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    use crate::engine::reattribute;
    let rollup_of = match D::DIALECT {
        super::db::Dialect::Sqlite => reattribute::ROLLUP_OF,
        // An ingest refund on the event waits for this transaction.
        super::db::Dialect::Postgres => {
            "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, usd_cents,
                quantity_signed, refunded_cents, user_fingerprint, occurred_at_ms
             FROM events WHERE event_pk = $1 FOR UPDATE"
        }
    };
    let mut writes = Vec::with_capacity(chunk.len() * 3);
    for w in chunk {
        let found = db.rows(rollup_of, args![w.event_pk]).await?;
        let row = found.first().ok_or_else(|| StoreError::corrupt(format!("event {} vanished", w.event_pk)))?;
        writes.extend(reattribute::rewrite(w.clone(), reattribute::rollup_of(row)?, window_ms, now_ms)?);
    }
    db.apply(company, writes, now_ms).await
}
