//! A PostgreSQL connection (a transaction, or a reader) as the shared
//! flows' [`Db`]: batches go out as pipelines; locks are advisory,
//! transaction-scoped; events outside an ingest call take their shopper's
//! and order's locks.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{
    apply, ingest, lock,
    pipeline::{Param, Pipeline},
};
use crate::{
    StoreError,
    engine::Write,
    model::{CompanyId, EventInput, EventKind, EventReceipt, RefundInput, RefundReceipt},
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

    async fn rows(&self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Row>, StoreError> {
        super::rows(self.0, sql, args).await
    }

    async fn all(&self, batch: Batch) -> Result<Vec<Vec<Row>>, StoreError> {
        pipeline(batch).run(self.0).await
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

    async fn store_event(
        &self,
        company: &CompanyId,
        input: EventInput,
        now_ms: i64,
    ) -> Result<EventReceipt, StoreError> {
        let mut keys: Vec<String> = input.identity().into_iter().map(|f| ingest::shopper_lock(company, f)).collect();
        if let EventKind::Checkout { order_id, .. } = &input.kind {
            keys.push(ingest::order_lock(company, order_id));
        }
        ingest::event(self.0, company, &input, &keys, now_ms).await
    }

    async fn store_refund(
        &self,
        company: &CompanyId,
        input: RefundInput,
        now_ms: i64,
    ) -> Result<RefundReceipt, StoreError> {
        lock(self.0, &[ingest::order_lock(company, &input.order_id)]).await?;
        ingest::refund(self.0, company, &input, now_ms).await
    }
}
