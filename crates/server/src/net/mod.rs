//! The network edge: the accept loop with its timeouts and connection caps,
//! and the per-client rate limits.

pub mod limits;
pub mod listener;
