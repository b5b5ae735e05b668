//! One module per surface of the API.

pub mod ingest;
pub mod ops;
pub mod receipts;
