//! One module per surface of the API.

pub mod catalog;
pub mod company;
pub mod dashboard;
pub mod experiments;
pub mod exports;
pub mod funnel;
pub mod ingest;
pub mod ops;
pub mod receipts;
pub mod reports;
pub mod shopify;
pub mod tickets;
