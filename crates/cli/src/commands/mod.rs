//! One module per top-level command.

pub mod company;
pub mod rates;
pub mod reattribute;
pub mod serve;
