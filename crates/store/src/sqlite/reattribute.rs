//! Replaying stored history through the same `revtrace_core::attribute` that
//! ingest uses: after late data, or when a company's window changes.

use std::collections::HashMap;

use revtrace_core::TicketHistory;
use rusqlite::{Connection, params};

use super::{apply::apply, history, run::rows};
use crate::{
    StoreError,
    engine::reattribute::{self, Rewrite, StoredDecision, redecide},
    model::{CompanyId, Progress, ReattributeOptions, ReattributeReport},
    sql::args,
};

/// Rows rewritten per transaction, so a long replay never holds the write lock for long.
const CHUNK: usize = 5_000;

pub(super) fn run(
    read: &Connection,
    write: &mut Connection,
    options: &ReattributeOptions,
    progress: &dyn Fn(Progress),
    clock: &dyn crate::Clock,
) -> Result<ReattributeReport, StoreError> {
    let companies: Vec<CompanyId> = match &options.company {
        Some(id) => {
            history::company_settings(read, id)?;
            vec![id.clone()]
        }
        None => read
            .prepare("SELECT company_id FROM companies ORDER BY company_id")?
            .query_map([], |r| r.get(0))?
            .map(|id| id.map(CompanyId))
            .collect::<Result<_, _>>()?,
    };
    let total: i64 = match &options.company {
        Some(id) => read.query_row("SELECT count(*) FROM events WHERE company_id = ?1", params![id.0], |r| r.get(0))?,
        None => read.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?,
    };
    let total = total.max(0) as u64;
    let mut report = ReattributeReport { dry_run: options.dry_run, ..Default::default() };
    for company in &companies {
        if let (Some(window_ms), false) = (options.window_ms, options.dry_run) {
            write
                .execute("UPDATE companies SET window_ms = ?1 WHERE company_id = ?2", params![window_ms, company.0])?;
        }
        let window_ms = match options.window_ms {
            Some(w) => w,
            None => history::company_settings(read, company)?.window_ms,
        };
        let tickets = history::all_by_fingerprint(read, company)?;
        replay_company(
            read,
            write,
            company,
            window_ms,
            &tickets,
            options.dry_run,
            &mut report,
            total,
            progress,
            clock,
        )?;
        report.companies += 1;
    }
    progress(Progress { done: report.events, total });
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn replay_company(
    read: &Connection,
    write: &mut Connection,
    company: &CompanyId,
    window_ms: i64,
    tickets: &HashMap<String, Vec<TicketHistory>>,
    dry_run: bool,
    report: &mut ReattributeReport,
    total: u64,
    progress: &dyn Fn(Progress),
    clock: &dyn crate::Clock,
) -> Result<(), StoreError> {
    let mut stmt = read.prepare(
        "SELECT event_pk, occurred_at_ms, user_fingerprint, user_faq_fingerprint, reason, ticket_id, candidates, window_ms
         FROM events WHERE company_id = ?1 ORDER BY occurred_at_ms, event_pk",
    )?;
    let mut rows = stmt.query(params![company.0])?;
    let mut pending: Vec<Rewrite> = Vec::with_capacity(CHUNK);
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
        pending.extend(redecide(stored, tickets, window_ms, report)?);
        if pending.len() >= CHUNK {
            flush(write, company, &mut pending, window_ms, dry_run, clock.now_ms())?;
        }
        if report.events.is_multiple_of(10_000) {
            progress(Progress { done: report.events, total });
        }
    }
    flush(write, company, &mut pending, window_ms, dry_run, clock.now_ms())
}

fn flush(
    write: &mut Connection,
    company: &CompanyId,
    pending: &mut Vec<Rewrite>,
    window_ms: i64,
    dry_run: bool,
    now: i64,
) -> Result<(), StoreError> {
    if dry_run || pending.is_empty() {
        pending.clear();
        return Ok(());
    }
    let tx = write.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for w in pending.drain(..) {
        // The event leaves its old rollup row for its new one in the same
        // transaction, so reports stay consistent throughout.
        let found = rows(&tx, reattribute::ROLLUP_OF, args![w.event_pk])?;
        let row = found.first().ok_or_else(|| StoreError::Corrupt(format!("event {} vanished", w.event_pk)))?;
        let (was, contribution) = reattribute::rollup_of(row)?;
        apply(&tx, company, reattribute::rewrite(w, was, contribution, window_ms, now), now)?;
    }
    tx.commit()?;
    Ok(())
}
