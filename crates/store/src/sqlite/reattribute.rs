//! Replaying stored history through the same `revtrace_core::attribute` that
//! ingest uses: after late data, or when a company's window changes.

use std::collections::HashMap;

use revtrace_core::TicketHistory;
use rusqlite::Connection;

use super::{db::SqliteDb, run};
use crate::{
    StoreError,
    engine::reattribute::{Replay, StoredDecision},
    model::{CompanyId, Progress, ReattributeOptions, ReattributeReport},
    sql::{self, db::block_on, sqlite_text},
};

pub(super) fn run(
    read: &Connection,
    write: &mut Connection,
    options: &ReattributeOptions,
    progress: &dyn Fn(Progress),
    clock: &dyn crate::Clock,
) -> Result<ReattributeReport, StoreError> {
    let reader = SqliteDb::reader(read);
    let (companies, total) = block_on(sql::reattribute::scope(&reader, options))?;
    let mut report = ReattributeReport { dry_run: options.dry_run, ..Default::default() };
    for company in &companies {
        if let Some(batch) = sql::reattribute::set_window(company, options) {
            run::exec(write, batch)?;
        }
        let window_ms = block_on(sql::reattribute::window(&reader, company, options))?;
        let tickets = all_by_fingerprint(read, company)?;
        let mut replay = Replay { tickets: &tickets, window_ms, dry_run: options.dry_run, total, pending: Vec::new() };
        replay_company(read, write, company, &mut replay, &mut report, progress, clock)?;
        report.companies += 1;
    }
    progress(Progress { done: report.events, total });
    Ok(report)
}

/// Scans the company's events from the read connection (zero-copy rows) and
/// writes each chunk of changes on the write connection, one transaction each.
fn replay_company(
    read: &Connection,
    write: &mut Connection,
    company: &CompanyId,
    replay: &mut Replay<'_>,
    report: &mut ReattributeReport,
    progress: &dyn Fn(Progress),
    clock: &dyn crate::Clock,
) -> Result<(), StoreError> {
    let mut stmt = read.prepare(sqlite_text(sql::reattribute::EVENTS))?;
    let mut rows = stmt.query(rusqlite::params![company.as_str()])?;
    while let Some(r) = rows.next()? {
        let stored = StoredDecision {
            event_pk: r.get(0)?,
            at_ms: r.get(1)?,
            fingerprint: r.get_ref(2)?.as_str_or_null().map_err(rusqlite::Error::from)?,
            faq_fingerprint: r.get_ref(3)?.as_str_or_null().map_err(rusqlite::Error::from)?,
            reason: r.get_ref(4)?.as_str().map_err(rusqlite::Error::from)?,
            ticket_id: r.get_ref(5)?.as_str_or_null().map_err(rusqlite::Error::from)?,
            candidates: r.get_ref(6)?.as_str().map_err(rusqlite::Error::from)?,
            window_ms: r.get(7)?,
        };
        if replay.event(stored, report, progress)? {
            flush(write, company, replay, clock)?;
        }
    }
    flush(write, company, replay, clock)
}

fn flush(
    write: &mut Connection,
    company: &CompanyId,
    replay: &mut Replay<'_>,
    clock: &dyn crate::Clock,
) -> Result<(), StoreError> {
    let chunk = replay.take();
    if chunk.is_empty() {
        return Ok(());
    }
    let tx = write.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = clock.now_ms();
    block_on(sql::reattribute::rewrite_chunk(&SqliteDb::reader(&tx), company, &chunk, replay.window_ms, now))?;
    tx.commit()?;
    Ok(())
}

/// Every ticket of a company with all its messages, grouped by fingerprint
/// (the replay path: one pass instead of a look-up per event).
pub(super) fn all_by_fingerprint(
    conn: &Connection,
    company: &CompanyId,
) -> Result<HashMap<String, Vec<TicketHistory>>, StoreError> {
    // Mapped row by row as SQLite steps: a large history is never held twice.
    let mut all = crate::sql::reads::AllHistories::default();
    let mut tickets = conn.prepare(sqlite_text(crate::sql::reads::ALL_TICKETS))?;
    let mut rows = tickets.query(rusqlite::params![company.as_str()])?;
    while let Some(r) = rows.next()? {
        all.ticket(r)?;
    }
    let mut messages = conn.prepare(sqlite_text(crate::sql::reads::ALL_MESSAGES))?;
    let mut rows = messages.query(rusqlite::params![company.as_str()])?;
    while let Some(r) = rows.next()? {
        all.message(r)?;
    }
    Ok(all.by_fingerprint())
}
