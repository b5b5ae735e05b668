//! Statements sent together: tokio-postgres writes each request when its
//! future is first polled, so futures polled in order go out back to back
//! and PostgreSQL runs them in that order, answering them in one round trip
//! instead of one each. An ingest call is a handful of such batches, not a
//! dozen round trips.

use futures_util::future::try_join_all;
use tokio_postgres::{Row, types::ToSql};

use crate::StoreError;
use deadpool_postgres::GenericClient;

/// An owned statement parameter.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// Owned parameters: `params![a, b]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as crate::postgres::pipeline::Param),*]
    };
}
pub(crate) use params;

/// `try_join_all` polls up to this many futures in order (beyond it, its
/// order is not promised), so longer batches are sent in slices of it.
const IN_ORDER: usize = 30;

#[derive(Default)]
pub(crate) struct Pipeline {
    steps: Vec<(&'static str, Vec<Param>)>,
}

impl Pipeline {
    /// Queues a statement; its rows come back at the returned index.
    pub fn push(&mut self, sql: &'static str, params: Vec<Param>) -> usize {
        self.steps.push((sql, params));
        self.steps.len() - 1
    }

    /// Sends every queued statement in order and returns each one's rows.
    /// The first failure (in statement order) is the error returned.
    pub async fn run(self, tx: &impl GenericClient) -> Result<Vec<Vec<Row>>, StoreError> {
        // Prepared first (cached per connection: no round trip after the
        // first call), so that the queries below go out in one go, in order.
        let statements = try_join_all(self.steps.iter().map(|(sql, _)| tx.prepare_cached(sql))).await?;
        let mut out = Vec::with_capacity(self.steps.len());
        for (statements, steps) in statements.chunks(IN_ORDER).zip(self.steps.chunks(IN_ORDER)) {
            let refs: Vec<Vec<&(dyn ToSql + Sync)>> = steps
                .iter()
                .map(|(_, params)| params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect())
                .collect();
            out.extend(try_join_all(statements.iter().zip(&refs).map(|(s, p)| tx.query(s, p))).await?);
        }
        Ok(out)
    }
}
