//! A SQLite connection as the shared flows' [`Db`]: statements run at once;
//! no locks (one writer); events outside an ingest call go through the same
//! reads, engine and writes as ingest.

use rusqlite::Connection;

use super::{apply, history::Companies, ingest, run};
use crate::{
    StoreError,
    engine::Write,
    model::{CompanyId, EventInput, EventReceipt, RefundInput, RefundReceipt},
    sql::{
        Arg, SqliteRow,
        db::{Db, Dialect},
        reads::Batch,
    },
};

pub(crate) struct SqliteDb<'c> {
    conn: &'c Connection,
    /// The writer's settings cache, when this is the writer's connection.
    companies: Option<std::cell::RefCell<&'c mut Companies>>,
}

impl<'c> SqliteDb<'c> {
    /// A reader's connection.
    pub fn reader(conn: &'c Connection) -> Self {
        Self { conn, companies: None }
    }

    /// The writer's connection, inside its batch transaction.
    pub fn writer(conn: &'c Connection, companies: &'c mut Companies) -> Self {
        Self { conn, companies: Some(std::cell::RefCell::new(companies)) }
    }

    fn with_companies<T>(&self, f: impl FnOnce(&mut Companies) -> Result<T, StoreError>) -> Result<T, StoreError> {
        match &self.companies {
            Some(cell) => f(&mut cell.borrow_mut()),
            None => f(&mut Companies::default()),
        }
    }
}

impl Db for SqliteDb<'_> {
    type Row = SqliteRow;
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn rows(&self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<SqliteRow>, StoreError> {
        run::rows(self.conn, sql, args)
    }

    async fn all(&self, batch: Batch) -> Result<Vec<Vec<SqliteRow>>, StoreError> {
        run::all(self.conn, batch)
    }

    async fn exec(&self, batch: Batch) -> Result<(), StoreError> {
        run::exec(self.conn, batch)
    }

    async fn lock(&self, _: &[String]) -> Result<(), StoreError> {
        Ok(())
    }

    async fn apply(&self, company: &CompanyId, writes: Vec<Write>, now_ms: i64) -> Result<(), StoreError> {
        apply::apply(self.conn, company, writes, now_ms)
    }

    async fn store_event(
        &self,
        company: &CompanyId,
        input: EventInput,
        now_ms: i64,
    ) -> Result<EventReceipt, StoreError> {
        self.with_companies(|companies| ingest::event(self.conn, companies, company, input, now_ms))
    }

    async fn store_refund(
        &self,
        company: &CompanyId,
        input: RefundInput,
        now_ms: i64,
    ) -> Result<RefundReceipt, StoreError> {
        self.with_companies(|companies| ingest::refund(self.conn, companies, company, input, now_ms))
    }
}
