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
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool error")]
    Pool(#[from] r2d2::Error),
    #[error("database error")]
    Postgres(#[from] tokio_postgres::Error),
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
