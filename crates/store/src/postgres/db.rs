//! A PostgreSQL connection (a transaction, or a reader) as the shared
//! flows' [`Db`]: batches go out as pipelines; locks are advisory,
//! transaction-scoped, taken in the same round trip as a call's reads.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{
    apply, lock,
    pipeline::{Param, Pipeline, params},
};

/// Takes advisory locks in one fixed order (sorted), so two calls that share
/// keys never wait on each other in a cycle.
const LOCK: &str = "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::int8[]) k ORDER BY k) s";
use crate::{
    StoreError,
    engine::Write,
    model::CompanyId,
    sql::{
        Arg,
        db::{Db, Dialect},
        reads::Batch,
    },
};

pub(crate) struct PgDb<'a, C>(pub &'a C);

fn pipeline(batch: Batch) -> Pipeline {
    let mut p = Pipeline::default();
    for (sql, args) in batch.queries {
        p.push(sql, args.into_iter().map(|a| Box::new(a) as Param).collect());
    }
    p
}

impl<C: GenericClient + Sync> Db for PgDb<'_, C> {
    type Row = Row;
    const DIALECT: Dialect = Dialect::Postgres;
    const LOCKS: bool = true;

    async fn rows(&self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Row>, StoreError> {
        super::rows(self.0, sql, args).await
    }

    async fn all(&self, batch: Batch) -> Result<Vec<Vec<Row>>, StoreError> {
        pipeline(batch).run(self.0).await
    }

    async fn changes(&self, sql: &'static str, args: Vec<Arg>) -> Result<u64, StoreError> {
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
        let statement = self.0.prepare_cached(sql).await?;
        Ok(self.0.execute(&statement, &params).await?)
    }

    async fn exec(&self, batch: Batch) -> Result<(), StoreError> {
        pipeline(batch).run(self.0).await.map(drop)
    }

    async fn lock(&self, keys: &[String]) -> Result<(), StoreError> {
        lock(self.0, keys).await
    }

    async fn apply(&self, company: &CompanyId, writes: Vec<Write>, now_ms: i64) -> Result<(), StoreError> {
        let mut p = Pipeline::default();
        apply::push(&mut p, company, writes, now_ms)?;
        p.run(self.0).await.map(drop)
    }

    async fn all_locked(&self, keys: &[String], batch: Batch) -> Result<Vec<Vec<Row>>, StoreError> {
        let mut p = Pipeline::default();
        p.push(LOCK, params![super::lock_ids(keys)]);
        for (sql, args) in batch.queries {
            p.push(sql, args.into_iter().map(|a| Box::new(a) as Param).collect());
        }
        let mut rows = p.run(self.0).await?;
        rows.remove(0);
        Ok(rows)
    }

    /// Read in every call's own transaction, so a window changed by the CLI
    /// applies to the next call of every server.
    fn cached_settings(&self, _: &CompanyId) -> Result<Option<crate::engine::Settings>, StoreError> {
        Ok(None)
    }
}
