//! A SQLite connection as the shared flows' [`Db`]: statements run at once;
//! no locks (one writer); the writer's settings cache serves its batch.

use rusqlite::Connection;

use super::{apply, run, settings::Companies};
use crate::{
    StoreError,
    engine::Write,
    model::CompanyId,
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
}

impl Db for SqliteDb<'_> {
    type Row = SqliteRow;
    const DIALECT: Dialect = Dialect::Sqlite;
    const LOCKS: bool = false;

    async fn rows(&self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<SqliteRow>, StoreError> {
        run::rows(self.conn, sql, args)
    }

    async fn all(&self, batch: Batch) -> Result<Vec<Vec<SqliteRow>>, StoreError> {
        run::all(self.conn, batch)
    }

    async fn changes(&self, sql: &'static str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(self.conn.prepare_cached(crate::sql::sqlite_text(sql))?.execute(rusqlite::params_from_iter(args.iter()))?
            as u64)
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

    async fn all_locked(&self, _: &[String], batch: Batch) -> Result<Vec<Vec<SqliteRow>>, StoreError> {
        run::all(self.conn, batch)
    }

    fn cached_settings(&self, company: &CompanyId) -> Result<Option<crate::engine::Settings>, StoreError> {
        match &self.companies {
            Some(cell) => Ok(Some(cell.borrow_mut().get(self.conn, company)?.clone())),
            None => Ok(None),
        }
    }
}
