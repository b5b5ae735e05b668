//! What can go wrong in the store: rule rejections (the client's to fix) and
//! internal failures (ours).

use revtrace_core::{CartRejection, CompanyId, EventId, OrderId, TicketId};

/// An ingest call the rules refuse. Nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("order {order_id} is already stored")]
    DuplicateOrder { order_id: OrderId, event_id: EventId },
    #[error(transparent)]
    Cart(#[from] CartRejection),
    #[error("this idempotency id was used with a different body")]
    IdempotencyMismatch,
    #[error("ticket {ticket_id} is stored with a different {field}")]
    TicketConflict { ticket_id: TicketId, field: &'static str },
    #[error("refund {refund_id} is already stored")]
    DuplicateRefund { refund_id: String },
    #[error("refunds of order {order_id} would exceed its value of {order_value}")]
    RefundExceedsOrder { order_id: OrderId, order_value: String },
    #[error("an experiment with key {key} already exists")]
    DuplicateExperiment { key: String },
    #[error("no experiment {key} in this company")]
    UnknownExperiment { key: String },
    #[error("unknown company {0}")]
    UnknownCompany(CompanyId),
    /// A stored total (one day's rollup row, in USD cents) would leave `i64`.
    #[error("this call would take a stored total past 92,233,720,368,547,758.07 USD; nothing was stored")]
    TotalOutOfRange,
    /// A value the rules refuse, with the request field it came from when
    /// there is one.
    #[error("{message}")]
    Invalid { field: Option<&'static str>, message: String },
}

impl Rejection {
    pub(crate) fn invalid(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    /// The request field this rejection is about, when it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Cart(CartRejection::QuantityRequired) => Some("quantity"),
            Self::TicketConflict { field, .. } => Some(field),
            Self::RefundExceedsOrder { .. } => Some("amount"),
            Self::Invalid { field, .. } => *field,
            Self::DuplicateExperiment { .. } => Some("key"),
            _ => None,
        }
    }
}

/// A store call that failed: refused by a rule, or failed in the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The client's to fix; nothing was stored.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Ours to fix: the client sees an opaque 5xx, the log the whole cause.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// The database, its pool or a store thread failed. Opaque: callers only
/// report it; the cause is kept for the log.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BackendError(Failure);

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("database error")]
    Sqlite(#[source] rusqlite::Error),
    #[error("connection pool error")]
    Pool(#[source] r2d2::Error),
    #[error("database error")]
    Postgres(#[source] tokio_postgres::Error),
    #[error("PostgreSQL connection pool error")]
    PgPool(#[source] deadpool_postgres::PoolError),
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
    Task(#[source] tokio::task::JoinError),
}

impl StoreError {
    fn backend(failure: Failure) -> Self {
        Self::Backend(BackendError(failure))
    }

    /// Stored data this version cannot read.
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self::backend(Failure::Corrupt(what.into()))
    }

    /// A setting (database URL, pool, schema version) that cannot work.
    pub(crate) fn config(what: impl Into<String>) -> Self {
        Self::backend(Failure::Config(what.into()))
    }

    pub(crate) fn thread(error: std::io::Error) -> Self {
        Self::backend(Failure::Thread(error))
    }

    pub(crate) fn commit_failed(what: impl Into<String>) -> Self {
        Self::backend(Failure::CommitFailed(what.into()))
    }

    pub(crate) fn closed() -> Self {
        Self::backend(Failure::Closed)
    }

    /// The PostgreSQL error behind this failure, if that is what it is.
    pub(crate) fn postgres(&self) -> Option<&tokio_postgres::Error> {
        match self {
            Self::Backend(BackendError(Failure::Postgres(e))) => Some(e),
            _ => None,
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        Self::backend(Failure::Pool(error))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Self::backend(Failure::PgPool(error))
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::backend(Failure::Task(error))
    }
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
            _ => Self::backend(Failure::Sqlite(error)),
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
        Self::backend(Failure::Postgres(error))
    }
}
