//! revtrace-core: the domain of revtrace.
//!
//! Everything here is a pure function of its inputs: no I/O, no async, no SQL.
//! The store calls [`attribute`] when an event is ingested and again when
//! history is replayed (`revtrace reattribute`), so both paths share one rule
//! book and cannot drift apart.

pub mod attribution;
pub mod cart;
pub mod ecb;
pub mod experiment;
pub mod fingerprint;
pub mod funnel;
pub mod ids;
pub mod money;
pub mod report;
pub mod ticket;
pub mod time;

pub use attribution::{AttributionInput, Candidate, Decision, Reason, TicketHistory, Winner, attribute};
pub use cart::{CartEventType, CartRejection, signed_quantity};
pub use fingerprint::{Fingerprint, InvalidFingerprint};
pub use ids::{CompanyId, EventId, OrderId, ProductId, TicketId};
pub use money::{Currency, InvalidMoney, Multiplier, UsdCents, UsdTotal, usd_cents};
pub use ticket::{Channel, MessageFact, MessageSource, Role, classify, first_message, qualifies};
