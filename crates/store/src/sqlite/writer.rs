//! The single writer: one thread owns the write connection and commits
//! whatever ingest calls are queued in one transaction (group commit). Each
//! call runs under its own savepoint, so a rejected call leaves no trace while
//! its neighbours commit. A committed batch goes to the syncer, which answers
//! its callers once the WAL is flushed; a failed one is answered at once.

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::{db::SqliteDb, settings::Companies, syncer::Answers};
use crate::sql::{self, db::block_on};
use crate::{
    StoreError,
    model::{CompanyId, IdempotencyKey},
    rows::Ingested,
};

/// At most this many calls share one transaction.
const MAX_BATCH: usize = 1024;

/// A flow of `sql` to run on the writer's connection: its result, boxed.
pub(super) type Flow =
    Box<dyn FnOnce(&Connection, &mut Companies, i64) -> Result<Box<dyn std::any::Any + Send>, StoreError> + Send>;

pub(super) enum Command {
    Ingest { company: CompanyId, idempotency: Option<IdempotencyKey>, call: Call },
    Flow(Flow),
}

pub(super) use crate::rows::Call;

pub(super) enum Reply {
    Ingested(Ingested),
    Flow(Box<dyn std::any::Any + Send>),
}

pub(super) struct Job {
    pub command: Command,
    pub reply: oneshot::Sender<Result<Reply, StoreError>>,
}

pub(super) fn spawn(
    conn: Connection,
    queue: mpsc::Receiver<Job>,
    syncer: std::sync::mpsc::Sender<Answers>,
    clock: std::sync::Arc<dyn crate::Clock>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("revtrace-sqlite-writer".into()).spawn(move || run(conn, queue, syncer, &*clock))
}

/// When the WAL holds more pages than this, the writer completes a checkpoint.
const CHECKPOINT_PAGES: i32 = 4096;

thread_local! {
    /// Pages in the WAL after the last commit on this (the writer's) thread.
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::os::raw::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|p| p.set(pages));
    Ok(())
}

fn run(
    mut conn: Connection,
    mut queue: mpsc::Receiver<Job>,
    syncer: std::sync::mpsc::Sender<Answers>,
    clock: &dyn crate::Clock,
) {
    // Replaces SQLite's inline auto-checkpoint: the hook only counts pages.
    conn.wal_hook(Some(note_wal_pages));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("revtrace_commit_batch_size").record(batch.len() as f64);
        // A bug that panics must not take the only writer down with it: the
        // batch rolls back, its callers get an error, the next batch runs.
        let committed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(&mut conn, &mut batch, &syncer, clock)));
        if committed.is_err() {
            tracing::error!("the writer panicked; the batch was rolled back and its calls refused");
            batch.clear();
        }
        if WAL_PAGES.with(|p| p.get()) > CHECKPOINT_PAGES {
            finish_checkpoint(&conn);
            WAL_PAGES.with(|p| p.set(0));
        }
    }
}

/// The background thread copies most of the WAL back while the writer works,
/// but a checkpoint only completes when no commit lands during it, and only a
/// completed one lets the next transaction restart the WAL from its start.
/// Between two transactions the writer completes it, copying only the few
/// frames the background thread has not, so the WAL stays bounded.
fn finish_checkpoint(conn: &Connection) {
    let result =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
    match result {
        Ok((log, done)) => metrics::gauge!("revtrace_wal_frames_pending").set((log - done).max(0) as f64),
        Err(error) => tracing::warn!(%error, "WAL checkpoint failed; it will be retried"),
    }
}

fn commit(
    conn: &mut Connection,
    batch: &mut Vec<Job>,
    syncer: &std::sync::mpsc::Sender<Answers>,
    clock: &dyn crate::Clock,
) {
    let now = clock.now_ms();
    let mut answers: Answers = Vec::with_capacity(batch.len());
    let mut waiting = std::mem::take(batch).into_iter();
    let outcome = (|| -> rusqlite::Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut companies = Companies::default();
        for Job { command, reply } in waiting.by_ref() {
            // A savepoint per call: a rejected call leaves no trace while its
            // neighbours commit. Cached statements: this runs on every call.
            tx.prepare_cached("SAVEPOINT call")?.execute([])?;
            let result = execute(&tx, &mut companies, command, now);
            if result.is_err() {
                tx.prepare_cached("ROLLBACK TO call")?.execute([])?;
            }
            tx.prepare_cached("RELEASE call")?.execute([])?;
            answers.push((reply, result));
        }
        tx.commit()
    })();
    match outcome {
        // Answers leave only once the whole batch is on disk: the syncer
        // sends them after flushing the WAL.
        Ok(()) => {
            if let Err(std::sync::mpsc::SendError(answers)) = syncer.send(answers) {
                for (reply, _) in answers {
                    let _ = reply.send(Err(StoreError::commit_failed("the WAL syncer has stopped")));
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, calls = answers.len(), "group commit failed; every call of the batch is refused");
            let unanswered = answers.into_iter().map(|(reply, _)| reply).chain(waiting.map(|job| job.reply));
            for reply in unanswered {
                let _ = reply.send(Err(StoreError::commit_failed(error.to_string())));
            }
        }
    }
}

fn execute(conn: &Connection, companies: &mut Companies, command: Command, now: i64) -> Result<Reply, StoreError> {
    match command {
        Command::Ingest { company, idempotency, call } => {
            let db = SqliteDb::writer(conn, companies);
            block_on(sql::ingest::call(&db, &company, idempotency.as_ref(), &call, now)).map(Reply::Ingested)
        }
        Command::Flow(flow) => flow(conn, companies, now).map(Reply::Flow),
    }
}
