//! Replaying stored history through `revtrace_core::attribute` on PostgreSQL
//! (the same steps as `sqlite::reattribute`): events are read in time order
//! from one snapshot, and changed decisions are written in chunks, each chunk
//! one transaction that moves its events between rollup rows.

use std::collections::HashMap;

use futures_util::{StreamExt, pin_mut};
use revtrace_core::TicketHistory;
use tokio_postgres::types::ToSql;

use super::{PgStore, Tx, all, apply, exec, history, in_transaction, one, pipeline::Pipeline, rows};
use crate::{
    StoreError,
    engine::reattribute::{self, Rewrite, StoredDecision, redecide},
    model::{CompanyId, Progress, ReattributeOptions, ReattributeReport},
    sql::args,
};

/// Rows rewritten per transaction.
const CHUNK: usize = 5_000;

pub(super) async fn run(
    store: &PgStore,
    options: &ReattributeOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ReattributeReport, StoreError> {
    let mut reader = store.reader().await?;
    let companies: Vec<CompanyId> = match &options.company {
        Some(id) => {
            history::company_settings(&reader, id).await?;
            vec![id.clone()]
        }
        None => all(&reader, "SELECT company_id FROM companies ORDER BY company_id", &[])
            .await?
            .iter()
            .map(|r| CompanyId(r.get(0)))
            .collect(),
    };
    let total: i64 = match &options.company {
        Some(id) => one(&reader, "SELECT count(*) FROM events WHERE company_id = $1", &[&id.0]).await?.get(0),
        None => one(&reader, "SELECT count(*) FROM events", &[]).await?.get(0),
    };
    let total = total.max(0) as u64;
    let mut report = ReattributeReport { dry_run: options.dry_run, ..Default::default() };
    for company in &companies {
        if let (Some(window_ms), false) = (options.window_ms, options.dry_run) {
            in_transaction!(store, |tx| exec(
                &tx,
                "UPDATE companies SET window_ms = $1 WHERE company_id = $2",
                &[&window_ms, &company.0]
            )
            .await)?;
        }
        let window_ms = match options.window_ms {
            Some(w) => w,
            None => history::company_settings(&reader, company).await?.window_ms,
        };
        let tickets = history::all_by_fingerprint(&reader, company).await?;
        let replay = Replay { store, company, window_ms, tickets: &tickets, dry_run: options.dry_run, total };
        replay.company(&mut reader, &mut report, progress).await?;
        report.companies += 1;
    }
    progress(Progress { done: report.events, total });
    Ok(report)
}

struct Replay<'a> {
    store: &'a PgStore,
    company: &'a CompanyId,
    window_ms: i64,
    tickets: &'a HashMap<String, Vec<TicketHistory>>,
    dry_run: bool,
    total: u64,
}

impl Replay<'_> {
    async fn company(
        &self,
        reader: &mut deadpool_postgres::Object,
        report: &mut ReattributeReport,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(), StoreError> {
        let tx =
            reader.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead).start().await?;
        let params: [&(dyn ToSql + Sync); 1] = [&self.company.0];
        let rows = tx
            .query_raw(
                "SELECT event_pk, occurred_at_ms, user_fingerprint, user_faq_fingerprint, reason, ticket_id, candidates,
                        window_ms
                 FROM events WHERE company_id = $1 ORDER BY occurred_at_ms, event_pk",
                params.iter().copied(),
            )
            .await?;
        pin_mut!(rows);
        let mut pending: Vec<Rewrite> = Vec::with_capacity(CHUNK);
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
            pending.extend(redecide(stored, self.tickets, self.window_ms, report)?);
            if pending.len() >= CHUNK {
                self.flush(&mut pending).await?;
            }
            if report.events.is_multiple_of(10_000) {
                progress(Progress { done: report.events, total: self.total });
            }
        }
        self.flush(&mut pending).await
    }

    async fn flush(&self, pending: &mut Vec<Rewrite>) -> Result<(), StoreError> {
        if self.dry_run || pending.is_empty() {
            pending.clear();
            return Ok(());
        }
        let (company, window_ms) = (self.company, self.window_ms);
        let store = self.store;
        let chunk: &[Rewrite] = pending;
        let now = store.inner.clock.now_ms();
        in_transaction!(store, |tx| rewrite(&tx, company, chunk, window_ms, now).await)?;
        pending.clear();
        Ok(())
    }
}

async fn rewrite(
    tx: &Tx<'_>,
    company: &CompanyId,
    chunk: &[Rewrite],
    window_ms: i64,
    now: i64,
) -> Result<(), StoreError> {
    let mut batch = Pipeline::default();
    for w in chunk {
        // The event leaves its old rollup row for its new one in the same
        // transaction; FOR UPDATE: an ingest refund on it waits.
        let found = rows(tx, ROLLUP_OF_LOCKED, args![w.event_pk]).await?;
        let row = found.first().ok_or_else(|| StoreError::Corrupt(format!("event {} vanished", w.event_pk)))?;
        let (was, contribution) = reattribute::rollup_of(row)?;
        apply::push(&mut batch, company, reattribute::rewrite(w.clone(), was, contribution, window_ms, now), now)?;
    }
    batch.run(tx).await.map(drop)
}

/// `engine::reattribute::ROLLUP_OF`, locking the event's row.
const ROLLUP_OF_LOCKED: &str = "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, usd_cents,
        quantity_signed, refunded_cents FROM events WHERE event_pk = $1 FOR UPDATE";
