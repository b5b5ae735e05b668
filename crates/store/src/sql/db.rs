//! What the shared flows need of a backend: a connection inside its
//! transaction that runs `sql`'s statements, applies engine plans, takes
//! locks and stores events outside an ingest call. SQLite's answers are
//! ready at once (its flows run on the writer's thread, or a reader's, with
//! [`block_on`]); PostgreSQL's are awaited.

use std::future::Future;

use super::{Arg, Cells, reads::Batch};
use crate::{StoreError, engine::Write, model::CompanyId};

/// The SQL a flow must spell differently.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

pub(crate) trait Db {
    type Row: Cells;
    const DIALECT: Dialect;
    /// Whether `lock` does anything: flows skip naming locks a backend
    /// does not take (SQLite's single writer).
    const LOCKS: bool;

    /// Every row of one query.
    async fn rows(&self, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Self::Row>, StoreError>;
    /// Every row of each query of a batch (PostgreSQL: one round trip).
    async fn all(&self, batch: Batch) -> Result<Vec<Vec<Self::Row>>, StoreError>;
    /// One statement that answers no rows; how many rows it changed.
    async fn changes(&self, sql: &'static str, args: Vec<Arg>) -> Result<u64, StoreError>;
    /// Statements that answer no rows, in order.
    async fn exec(&self, batch: Batch) -> Result<(), StoreError>;
    /// Holds these keys until the transaction ends (SQLite's single writer
    /// needs no locks).
    async fn lock(&self, keys: &[String]) -> Result<(), StoreError>;
    /// Writes an engine plan.
    async fn apply(&self, company: &CompanyId, writes: Vec<Write>, now_ms: i64) -> Result<(), StoreError>;
    /// Every row of each query of a batch, run after taking `keys`' locks
    /// (PostgreSQL: locks and queries in one round trip).
    async fn all_locked(&self, keys: &[String], batch: Batch) -> Result<Vec<Vec<Self::Row>>, StoreError>;
    /// The company's settings when the backend holds them already (SQLite's
    /// writer keeps them per batch); otherwise the flow reads them.
    fn cached_settings(&self, company: &CompanyId) -> Result<Option<crate::engine::Settings>, StoreError>;
}

/// The lock every write about one shopper takes.
pub(crate) fn shopper_lock(company: &CompanyId, fingerprint: &str) -> String {
    format!("shopper\u{0}{}\u{0}{fingerprint}", company.as_str())
}

/// The lock every write about one order takes (the order, its refunds).
pub(crate) fn order_lock(company: &CompanyId, order_id: &revtrace_core::OrderId) -> String {
    format!("order\u{0}{}\u{0}{order_id}", company.as_str())
}

/// The lock a shop's connection takes.
pub(crate) fn shop_lock(shop_domain: &str) -> String {
    format!("shop\u{0}{shop_domain}")
}

/// The lock a company's key changes take.
pub(crate) fn keys_lock(company: &CompanyId) -> String {
    format!("keys\u{0}{}", company.as_str())
}

/// Runs a future that never waits (a SQLite flow) to its end on this thread.
pub(crate) fn block_on<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => value,
        // A SQLite statement never yields; a pending flow is a bug.
        std::task::Poll::Pending => panic!("a SQLite flow waited on something"),
    }
}
