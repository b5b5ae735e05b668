//! The PostgreSQL backend: for several `revtrace serve` processes sharing one
//! database. Each call runs in its own transaction on a pooled connection.
//! Calls that touch the same shopper, order or idempotency id take the same
//! transaction-scoped advisory locks first, so their rules see each other's
//! writes; every uniqueness rule is still a constraint, and a transaction that
//! loses a race on one (or a deadlock) is run again from the start, where its
//! checks find the winner's row.

mod apply;
mod db;
pub mod import;
mod migrate;
mod pipeline;
mod reattribute;
mod reports;
mod rollups;
#[doc(hidden)]
pub mod scratch;
mod settings;

use std::sync::Arc;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::{NoTls, Row, error::SqlState, types::ToSql};

use crate::sql;
use crate::{
    ExportRows, StoreError,
    model::{CompanyId, IdempotencyKey, Progress, ReattributeOptions, ReattributeReport},
    rows::{Call, Ingested},
};
use db::PgDb;
use revtrace_core::report::DayRange;

/// Connections per server process unless configured.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// A transaction that lost a race (unique violation, deadlock, serialization
/// failure) runs again this many times before its caller gets the error.
const ATTEMPTS: u32 = 8;

/// Rows per chunk of an export stream.
const EXPORT_CHUNK: usize = 1024;

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Runs `$body` (which uses `$tx`) in a transaction, again from the start
/// when it lost a race; commits and yields its value.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut client = $store.inner.pool.get().await?;
            let $tx = client.transaction().await?;
            let result = async { $body }.await;
            let result = match result {
                Ok(value) => $tx.commit().await.map(|()| value).map_err(StoreError::from),
                Err(e) => Err(e),
            };
            match result {
                Err(e) if attempt < crate::postgres::ATTEMPTS && crate::postgres::lost_race(&e) => {
                    tracing::debug!(error = %e, attempt, "a PostgreSQL transaction lost a race; running it again");
                    continue;
                }
                other => {
                    metrics::histogram!("revtrace_pg_transaction_attempts").record(f64::from(attempt));
                    break other;
                }
            }
        }
    }};
}
pub(crate) use in_transaction;

/// Whether running the transaction again may succeed.
pub(crate) fn lost_race(error: &StoreError) -> bool {
    let Some(e) = error.postgres() else { return false };
    matches!(
        e.code(),
        Some(&SqlState::UNIQUE_VIOLATION)
            | Some(&SqlState::T_R_DEADLOCK_DETECTED)
            | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
    )
}

pub(crate) async fn one(c: &impl GenericClient, sql: &str, params: Params<'_>) -> Result<Row, StoreError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_one(&statement, params).await?)
}

pub(crate) async fn all(c: &impl GenericClient, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

/// Every row of a statement written once for both backends (`sql`).
pub(crate) async fn rows(
    c: &impl GenericClient,
    sql: &str,
    args: Vec<crate::sql::Arg>,
) -> Result<Vec<Row>, StoreError> {
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        args.iter().map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    all(c, sql, &params).await
}

/// Takes the transaction-scoped advisory locks named by `keys`, in one fixed
/// order (sorted), so two calls that share keys never wait on each other in a
/// cycle.
pub(crate) async fn lock(tx: &impl GenericClient, keys: &[String]) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    one(
        tx,
        "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::int8[]) k ORDER BY k) s",
        &[&lock_ids(keys)],
    )
    .await?;
    Ok(())
}

/// The advisory lock ids of `keys` (the first 8 bytes of their SHA-256).
pub(crate) fn lock_ids(keys: &[String]) -> Vec<i64> {
    keys.iter()
        .map(|k| {
            let digest = crate::keys::sha256_bytes(k);
            i64::from_be_bytes([digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]])
        })
        .collect()
}

#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    principals: crate::principals::PrincipalCache,
    clock: Arc<dyn crate::Clock>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`, libpq style) with a
    /// pool of at most `pool_size` connections, and migrates the schema.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        Self::connect_with_clock(url, pool_size, Arc::new(crate::SystemClock)).await
    }

    /// [`PgStore::connect`], reading "now" from `clock`.
    pub async fn connect_with_clock(
        url: &str,
        pool_size: usize,
        clock: Arc<dyn crate::Clock>,
    ) -> Result<Self, StoreError> {
        // Statements are prepared once per connection and their plans may be
        // cached: every hot statement looks rows up by equalities on a key's
        // leading columns, so no plan cached while a table was small can
        // scan it once it has grown (an `= ANY($2)` look-up did).
        let config: tokio_postgres::Config =
            url.parse().map_err(|e: tokio_postgres::Error| StoreError::config(format!("database URL: {e}")))?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .build()
            .map_err(|e| StoreError::config(format!("PostgreSQL pool: {e}")))?;
        {
            let mut client = pool.get().await?;
            migrate::run(&mut client).await?;
        }
        Ok(Self { inner: Arc::new(Inner { pool, principals: Default::default(), clock }) })
    }

    async fn ingest(
        &self,
        company: &CompanyId,
        idempotency: Option<IdempotencyKey>,
        call: Call,
    ) -> Result<Ingested, StoreError> {
        let idempotency = idempotency.map(|key| key.scoped(call.endpoint()));
        let now = self.inner.clock.now_ms();
        in_transaction!(self, |tx| sql::ingest::call(&PgDb(&tx), company, idempotency.as_ref(), &call, now).await)
    }

    async fn reader(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.inner.pool.get().await?)
    }
}

/// `sql`'s flows on this backend (see `store_impl`): reads on a pooled
/// connection, writes in a transaction retried when it lost a race.
macro_rules! read_db {
    ($store:expr, $db:ident => $body:expr) => {{
        let client = $store.reader().await?;
        let $db = &PgDb(&client);
        async { $body }.await
    }};
}

macro_rules! write_db {
    ($store:expr, $db:ident, $now:ident => $body:expr) => {{
        let $now = $store.inner.clock.now_ms();
        in_transaction!($store, |tx| {
            let $db = &PgDb(&tx);
            $body
        })
    }};
}

impl_store!(PgStore);

impl PgStore {
    fn export_rows(&self, company: &CompanyId, range: DayRange) -> ExportRows {
        let (tx, rx) = mpsc::channel(4);
        let (store, company) = (self.clone(), company.clone());
        tokio::spawn(async move {
            let result = async {
                let mut client = store.reader().await?;
                reports::export(&mut client, &company, &range, EXPORT_CHUNK, &tx).await
            }
            .await;
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    async fn run_reattribute(
        &self,
        options: ReattributeOptions,
        progress: Box<dyn Fn(Progress) + Send>,
    ) -> Result<ReattributeReport, StoreError> {
        // The callback is Send only; the replay awaits, so it is shared behind a lock.
        let progress = std::sync::Mutex::new(progress);
        let report = |p: Progress| {
            if let Ok(f) = progress.lock() {
                f(p)
            }
        };
        reattribute::run(self, &options, &report).await
    }
}
