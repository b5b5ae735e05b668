//! One module per top-level command.

pub mod company;
pub mod copy;
pub mod demo;
pub mod experiment;
pub mod export;
pub mod input;
pub mod privacy;
pub mod products;
pub mod rates;
pub mod reattribute;
pub mod serve;
pub mod shopify;
