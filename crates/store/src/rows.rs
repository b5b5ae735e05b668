//! Backend-neutral shapes of what the stores write and answer: which rollup
//! row an event counts in, a visitor's day flags, a stored ingest answer, a
//! currency rate. Both backends build and read them the same way.

use revtrace_core::Multiplier;
use rust_decimal::Decimal;

use crate::{
    StoreError,
    model::{CartTokenInput, EventInput, EventReceipt, RefundInput, RefundReceipt, TicketInput, TicketSummary},
};

/// Which rollup row an event counts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RollupKey {
    pub day: String,
    pub cart_type: &'static str,
    pub attributed: bool,
    /// '' when not attributed.
    pub ai_profile_id: String,
    /// '' when not attributed.
    pub message_source: String,
    pub is_test: bool,
}

/// What one event adds to its row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Contribution {
    pub usd_cents: Option<i64>,
    pub quantity: i64,
    pub refunded_cents: i64,
}

pub(crate) fn cart_type_str(checkout: bool) -> &'static str {
    if checkout { "CHECKOUT" } else { "CART_EVENT" }
}

/// What a visitor did on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct VisitorFlags {
    /// A visit or a non-test commerce event.
    pub seen: bool,
    /// A ticket under it got a grounded AI answer.
    pub assisted: bool,
    /// It was in a non-test checkout's identity set.
    pub converted: bool,
}

impl VisitorFlags {
    /// The bits `multi_visitor_days` keeps.
    pub fn bits(self) -> u8 {
        u8::from(self.seen) | (u8::from(self.assisted) << 1) | (u8::from(self.converted) << 2)
    }

    pub fn from_bits(bits: u8) -> Self {
        Self { seen: bits & 1 != 0, assisted: bits & 2 != 0, converted: bits & 4 != 0 }
    }

    pub(crate) fn union(self, other: Self) -> Self {
        Self {
            seen: self.seen || other.seen,
            assisted: self.assisted || other.assisted,
            converted: self.converted || other.converted,
        }
    }
}

/// What an ingest call answered, as the writer hands it back.
pub(crate) enum Ingested {
    Ticket(TicketSummary),
    Event(EventReceipt),
    Refund(RefundReceipt),
    NoContent,
    /// A retry with a known idempotency id: the original answer, verbatim.
    Replayed {
        status: u16,
        body: String,
    },
}

impl Ingested {
    /// The status and body that a retry with the same idempotency id gets.
    pub(crate) fn to_stored(&self) -> Result<(u16, String), StoreError> {
        let json = |result: serde_json::Result<String>| result.map_err(|e| StoreError::Corrupt(e.to_string()));
        Ok(match self {
            Self::Ticket(summary) => (200, json(serde_json::to_string(summary))?),
            Self::Event(receipt) => (201, json(serde_json::to_string(receipt))?),
            Self::Refund(receipt) => (201, json(serde_json::to_string(receipt))?),
            Self::NoContent => (204, String::new()),
            Self::Replayed { status, body } => (*status, body.clone()),
        })
    }
}

/// A USD multiplier with where it came from (none for USD itself).
pub(crate) struct Rate {
    pub multiplier: Multiplier,
    pub effective_from: Option<String>,
    pub source: Option<String>,
}

pub(crate) fn parse_multiplier(raw: &str) -> Result<Multiplier, StoreError> {
    raw.parse::<Decimal>()
        .ok()
        .and_then(|value| Multiplier::new(value).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("multiplier {raw}")))
}

/// An ingest call, as a backend runs it.
pub(crate) enum Call {
    Ticket(TicketInput),
    Event(Box<EventInput>),
    CartToken(CartTokenInput),
    Visit { fingerprint: String, at_ms: i64 },
    Refund(RefundInput),
}
