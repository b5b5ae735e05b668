//! Replaying stored history through `revtrace_core::attribute` on PostgreSQL
//! (the same steps as `sqlite::reattribute`): events are read in time order
//! from one snapshot, and changed decisions are written in chunks, each chunk
//! one transaction that moves its events between rollup rows.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use futures_util::{StreamExt, pin_mut};
use revtrace_core::TicketHistory;
use tokio_postgres::types::ToSql;

use super::{PgStore, db::PgDb, in_transaction};
use crate::{
    StoreError,
    engine::reattribute::{Replay, StoredDecision},
    model::{CompanyId, Progress, ReattributeOptions, ReattributeReport},
    sql::{self, db::Db},
};

pub(super) async fn run(
    store: &PgStore,
    options: &ReattributeOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ReattributeReport, StoreError> {
    let mut reader = store.reader().await?;
    let (companies, total) = sql::reattribute::scope(&PgDb(&reader), options).await?;
    let mut report = ReattributeReport { dry_run: options.dry_run, ..Default::default() };
    for company in &companies {
        if let Some(batch) = sql::reattribute::set_window(company, options) {
            in_transaction!(store, |tx| PgDb(&tx).exec(batch.clone()).await)?;
        }
        let window_ms = sql::reattribute::window(&PgDb(&reader), company, options).await?;
        let tickets = all_by_fingerprint(&reader, company).await?;
        let mut replay = Replay { tickets: &tickets, window_ms, dry_run: options.dry_run, total, pending: Vec::new() };
        replay_company(store, &mut reader, company, &mut replay, &mut report, progress).await?;
        report.companies += 1;
    }
    progress(Progress { done: report.events, total });
    Ok(report)
}

/// Scans the company's events from one snapshot (a repeatable-read
/// transaction on the reader) and writes each chunk of changes in a
/// transaction of its own.
async fn replay_company(
    store: &PgStore,
    reader: &mut deadpool_postgres::Object,
    company: &CompanyId,
    replay: &mut Replay<'_>,
    report: &mut ReattributeReport,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(), StoreError> {
    let tx = reader.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead).start().await?;
    let params: [&(dyn ToSql + Sync); 1] = [&company.as_str()];
    let rows = tx.query_raw(sql::reattribute::EVENTS, params.iter().copied()).await?;
    pin_mut!(rows);
    while let Some(r) = rows.next().await {
        let r = r?;
        let stored = StoredDecision {
            event_pk: r.get(0),
            at_ms: r.get(1),
            fingerprint: r.get(2),
            faq_fingerprint: r.get(3),
            reason: r.get(4),
            ticket_id: r.get(5),
            candidates: r.get(6),
            window_ms: r.get(7),
        };
        if replay.event(stored, report, progress)? {
            flush(store, company, replay).await?;
        }
    }
    flush(store, company, replay).await
}

async fn flush(store: &PgStore, company: &CompanyId, replay: &mut Replay<'_>) -> Result<(), StoreError> {
    let chunk = replay.take();
    if chunk.is_empty() {
        return Ok(());
    }
    let (window_ms, now) = (replay.window_ms, store.inner.clock.now_ms());
    in_transaction!(store, |tx| sql::reattribute::rewrite_chunk(&PgDb(&tx), company, &chunk, window_ms, now).await)
}

/// Every ticket of a company with all its messages, grouped by fingerprint
/// (the replay path: one pass instead of a look-up per event).
pub(super) async fn all_by_fingerprint(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<HashMap<String, Vec<TicketHistory>>, StoreError> {
    let mut histories = crate::sql::reads::AllHistories::default();
    for r in &super::all(c, crate::sql::reads::ALL_TICKETS, &[&company.as_str()]).await? {
        histories.ticket(r)?;
    }
    for r in &super::all(c, crate::sql::reads::ALL_MESSAGES, &[&company.as_str()]).await? {
        histories.message(r)?;
    }
    Ok(histories.by_fingerprint())
}
