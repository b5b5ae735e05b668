//! The embedded SQLite backend: WAL mode; one group-committing writer thread
//! whose batches are flushed by a syncer thread before any caller is answered
//! (durable answers, see `syncer`); background checkpoints; a pool of readers.

mod apply;
mod checkpoint;
mod db;
mod migrate;
mod reattribute;
mod reports;
mod rollups;
mod run;
mod settings;
mod syncer;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};
use writer::{Call, Command, Job, Reply};

use crate::{
    ExportRows, StoreError,
    model::{CompanyId, IdempotencyKey, Progress, ReattributeOptions, ReattributeReport},
    rows::Ingested,
};
use db::SqliteDb;
use revtrace_core::report::DayRange;

use crate::sql::db::block_on;

/// Rows per chunk of an export stream.
const EXPORT_CHUNK: usize = 1024;

/// Calls waiting for the writer beyond this make callers wait (back-pressure).
const QUEUE_DEPTH: usize = 8192;
const READERS: u32 = 8;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL for every connection but the writer's (whose syncer flushes).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -16_384)?;
    Ok(())
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Job>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Keys seen lately; an unknown one is looked up again (a key created by
    /// the CLI works at once, a revoked one stops within the cache's TTL).
    principals: crate::principals::PrincipalCache,
    clock: Arc<dyn crate::Clock>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating when absent) the database at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_clock(path, Arc::new(crate::SystemClock))
    }

    /// [`SqliteStore::open`], reading "now" from `clock`.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn crate::Clock>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate::run(&mut conn)?;

        // The writer never auto-checkpoints inline (that would stall every
        // queued call); a companion thread does it in the background.
        // The writer commits without flushing; the syncer flushes the WAL and
        // only then answers, so disk waits overlap the next batch's work.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let syncer = syncer::spawn(&path).map_err(StoreError::thread)?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        writer::spawn(conn, rx, syncer, clock.clone()).map_err(StoreError::thread)?;
        let checkpoints = checkpoint::spawn(&path)?;
        let manager = SqliteConnectionManager::file(&path).with_init(|c: &mut Connection| configure(c));
        let readers = r2d2::Pool::builder().max_size(READERS).min_idle(Some(1)).build(manager)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: tx,
                readers,
                principals: Default::default(),
                clock,
                _checkpoints: checkpoints,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn ingest(
        &self,
        company: &CompanyId,
        idempotency: Option<IdempotencyKey>,
        call: Call,
    ) -> Result<Ingested, StoreError> {
        let idempotency = idempotency.map(|key| key.scoped(call.endpoint()));
        match self.write(Command::Ingest { company: company.clone(), idempotency, call }).await? {
            Reply::Ingested(answer) => Ok(answer),
            _ => Err(unexpected("admin")),
        }
    }

    /// Runs `f` on the writer thread, in its batch transaction (under the
    /// call's savepoint), with the batch's settings cache and time.
    async fn write_flow<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &mut settings::Companies, i64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let flow: writer::Flow = Box::new(move |conn, companies, now| {
            f(conn, companies, now).map(|v| Box::new(v) as Box<dyn std::any::Any + Send>)
        });
        match self.write(Command::Flow(flow)).await? {
            Reply::Flow(answer) => {
                answer.downcast::<T>().map(|v| *v).map_err(|_| StoreError::corrupt("a flow answered another type"))
            }
            _ => Err(unexpected("flow")),
        }
    }

    async fn write(&self, command: Command) -> Result<Reply, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(Job { command, reply }).await.map_err(|_| StoreError::closed())?;
        answer.await.map_err(|_| StoreError::closed())?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.inner.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await?
    }
}

fn unexpected(what: &str) -> StoreError {
    StoreError::corrupt(format!("the writer answered a call with an unexpected {what} reply"))
}

/// `sql`'s flows on this backend (see `store_impl`): reads on a pooled
/// reader's blocking thread, writes on the writer thread, in its batch.
macro_rules! read_db {
    ($store:expr, $db:ident => $body:expr) => {
        $store
            .read(move |conn| {
                let $db = &SqliteDb::reader(conn);
                block_on(async { $body })
            })
            .await
    };
}

macro_rules! write_db {
    ($store:expr, $db:ident, $now:ident => $body:expr) => {
        $store
            .write_flow(move |conn, companies, $now| {
                let $db = &SqliteDb::writer(conn, companies);
                block_on(async { $body })
            })
            .await
    };
}

impl_store!(SqliteStore);

impl SqliteStore {
    fn export_rows(&self, company: &CompanyId, range: DayRange) -> ExportRows {
        let (tx, rx) = mpsc::channel(4);
        let (pool, company) = (self.inner.readers.clone(), company.clone());
        tokio::task::spawn_blocking(move || {
            let conn = match pool.get() {
                Ok(conn) => conn,
                Err(e) => return drop(tx.blocking_send(Err(e.into()))),
            };
            let mut chunk = Vec::with_capacity(EXPORT_CHUNK);
            let mut open = true;
            let scanned = reports::export(&conn, &company, &range, |row| {
                match row {
                    Ok(row) => chunk.push(row),
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        open = false;
                    }
                }
                if open && chunk.len() >= EXPORT_CHUNK {
                    // A closed channel (the client went away) stops the scan.
                    open = tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_ok();
                }
                open
            });
            match scanned {
                Ok(()) if open && !chunk.is_empty() => drop(tx.blocking_send(Ok(chunk))),
                Ok(()) => {}
                Err(e) => drop(tx.blocking_send(Err(e))),
            }
        });
        rx
    }

    async fn run_reattribute(
        &self,
        options: ReattributeOptions,
        progress: Box<dyn Fn(Progress) + Send>,
    ) -> Result<ReattributeReport, StoreError> {
        let (path, clock) = (self.inner.path.clone(), self.inner.clock.clone());
        tokio::task::spawn_blocking(move || {
            let read = Connection::open(&path)?;
            configure(&read)?;
            let mut write = Connection::open(&path)?;
            configure(&write)?;
            reattribute::run(&read, &mut write, &options, &*progress, &*clock)
        })
        .await?
    }
}
