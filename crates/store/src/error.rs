//! What can go wrong in the store: rule rejections (the client's to fix) and
//! internal failures (ours).

use revtrace_core::CartRejection;

/// An ingest call the rules refuse. Nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("order {order_id} is already stored")]
    DuplicateOrder { order_id: String, event_id: String },
    #[error(transparent)]
    Cart(#[from] CartRejection),
    #[error("this idempotency id was used with a different body")]
    IdempotencyMismatch,
    #[error("ticket {ticket_id} is stored with a different {field}")]
    TicketConflict { ticket_id: String, field: &'static str },
    #[error("refund {refund_id} is already stored")]
    DuplicateRefund { refund_id: String },
    #[error("refunds of order {order_id} would exceed its value of {order_value}")]
    RefundExceedsOrder { order_id: String, order_value: String },
    #[error("unknown company {0}")]
    UnknownCompany(String),
    /// A stored total (one day's rollup row, in USD cents) would leave `i64`.
    #[error("this call would take a stored total past 92,233,720,368,547,758.07 USD; nothing was stored")]
    TotalOutOfRange,
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("database error")]
    Sqlite(rusqlite::Error),
    #[error("connection pool error")]
    Pool(#[from] r2d2::Error),
    #[error("database error")]
    Postgres(tokio_postgres::Error),
    #[error("PostgreSQL connection pool error")]
    PgPool(#[from] deadpool_postgres::PoolError),
    #[error("stored data is not what this version expects: {0}")]
    Corrupt(String),
    #[error("cannot start a store thread")]
    Thread(#[source] std::io::Error),
    #[error("the transaction could not be committed: {0}")]
    CommitFailed(String),
    #[error("{0}")]
    Config(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("a store task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// What SQLite's guard trigger on the rollups says when a sum would leave
/// `i64` (SQLite would otherwise turn it into a float).
pub(crate) const TOTAL_OUT_OF_RANGE: &str = "revtrace: total out of range";

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match &error {
            rusqlite::Error::SqliteFailure(_, Some(message)) if message == TOTAL_OUT_OF_RANGE => {
                Self::Rejected(Rejection::TotalOutOfRange)
            }
            _ => Self::Sqlite(error),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        // `bigint out of range`: a counter would overflow. The transaction
        // is rolled back, so the call stored nothing.
        if error.code() == Some(&tokio_postgres::error::SqlState::NUMERIC_VALUE_OUT_OF_RANGE) {
            return Self::Rejected(Rejection::TotalOutOfRange);
        }
        Self::Postgres(error)
    }
}
