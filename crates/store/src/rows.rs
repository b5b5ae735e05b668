//! Shapes the engine, the statements and both backends share: the rollup
//! row an event counts in and what it adds, a visitor's day flags, an ingest
//! call and its answer, a currency rate, an event's kind columns. No rules
//! live here (they are in `engine`).

use revtrace_core::{MessageSource, Multiplier, OrderId, ProductId, UsdCents};
use rust_decimal::Decimal;

use crate::{
    Rejection, StoreError,
    model::{
        Assignment, AssignmentInput, CartTokenInput, EventInput, EventReceipt, IngestOutcome, RefundInput,
        RefundReceipt, TicketInput, TicketSummary,
    },
};

/// Which rollup row an event counts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RollupKey {
    pub day: String,
    pub cart_type: CartType,
    pub attributed: bool,
    /// '' when not attributed.
    pub ai_profile_id: String,
    /// `None` when not attributed (stored as '': the column is in the key).
    pub message_source: Option<MessageSource>,
    pub is_test: bool,
}

impl RollupKey {
    /// The `message_source` column of the row.
    pub fn source_column(&self) -> &'static str {
        self.message_source.map_or("", MessageSource::as_str)
    }
}

/// A stored `message_source` ('' or NULL when not attributed).
pub(crate) fn message_source(raw: Option<String>) -> Result<Option<MessageSource>, StoreError> {
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => MessageSource::parse(s).map(Some).ok_or_else(|| StoreError::corrupt(format!("message_source {s}"))),
    }
}

/// What one event adds to its row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Contribution {
    pub usd_cents: Option<UsdCents>,
    pub quantity: i64,
    pub refunded_cents: UsdCents,
}

impl Contribution {
    /// `[events, unconverted, usd_cents, quantity, refunded_cents]` of this
    /// contribution, added (`sign` 1) or taken away (-1).
    pub fn sums(self, sign: i64) -> Result<[i64; 5], Rejection> {
        let unconverted = i64::from(self.usd_cents.is_none());
        let signed = |x: i64| x.checked_mul(sign).ok_or(Rejection::TotalOutOfRange);
        Ok([
            sign,
            sign * unconverted,
            signed(self.usd_cents.map_or(0, UsdCents::cents))?,
            signed(self.quantity)?,
            signed(self.refunded_cents.cents())?,
        ])
    }
}

/// Which kind of commerce event a row holds (the `cart_type` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CartType {
    CartEvent,
    Checkout,
}

impl CartType {
    pub fn of(checkout: bool) -> Self {
        if checkout { Self::Checkout } else { Self::CartEvent }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CartEvent => "CART_EVENT",
            Self::Checkout => "CHECKOUT",
        }
    }

    /// The column's text; anything else is a corrupt row.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "CART_EVENT" => Ok(Self::CartEvent),
            "CHECKOUT" => Ok(Self::Checkout),
            other => Err(StoreError::corrupt(format!("cart type {other}"))),
        }
    }
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
    Assignment(Assignment),
    NoContent,
    /// A retry with a known idempotency id: the original answer, verbatim.
    Replayed {
        body: String,
    },
}

impl Ingested {
    /// The answer to a ticket upsert, or the replay of a known idempotency id.
    pub(crate) fn into_ticket(self) -> Result<IngestOutcome<TicketSummary>, StoreError> {
        match self {
            Self::Ticket(summary) => Ok(IngestOutcome::Created(summary)),
            other => other.into_replayed(),
        }
    }

    pub(crate) fn into_event(self) -> Result<IngestOutcome<EventReceipt>, StoreError> {
        match self {
            Self::Event(receipt) => Ok(IngestOutcome::Created(receipt)),
            other => other.into_replayed(),
        }
    }

    pub(crate) fn into_refund(self) -> Result<IngestOutcome<RefundReceipt>, StoreError> {
        match self {
            Self::Refund(receipt) => Ok(IngestOutcome::Created(receipt)),
            other => other.into_replayed(),
        }
    }

    pub(crate) fn into_assignment(self) -> Result<IngestOutcome<Assignment>, StoreError> {
        match self {
            Self::Assignment(answer) => Ok(IngestOutcome::Created(answer)),
            other => other.into_replayed(),
        }
    }

    pub(crate) fn into_no_content(self) -> Result<IngestOutcome<()>, StoreError> {
        match self {
            Self::NoContent => Ok(IngestOutcome::Created(())),
            other => other.into_replayed(),
        }
    }

    /// The receipt of an event stored outside an ingest call.
    pub(crate) fn into_created_event(self) -> Result<EventReceipt, StoreError> {
        match self {
            Self::Event(receipt) => Ok(receipt),
            _ => Err(StoreError::corrupt("an event was answered like another kind of call")),
        }
    }

    /// The receipt of a refund stored outside an ingest call.
    pub(crate) fn into_created_refund(self) -> Result<RefundReceipt, StoreError> {
        match self {
            Self::Refund(receipt) => Ok(receipt),
            _ => Err(StoreError::corrupt("a refund was answered like another kind of call")),
        }
    }

    /// A replay; any other answer here is a bug (a call answered like another).
    fn into_replayed<T>(self) -> Result<IngestOutcome<T>, StoreError> {
        match self {
            Self::Replayed { body } => Ok(IngestOutcome::Replayed { body }),
            _ => Err(StoreError::corrupt("an ingest call was answered like another kind of call")),
        }
    }

    /// The body that a retry with the same idempotency id gets (its status
    /// is the endpoint's, which the server knows).
    pub(crate) fn to_stored(&self) -> Result<String, StoreError> {
        let json = |result: serde_json::Result<String>| result.map_err(|e| StoreError::corrupt(e.to_string()));
        Ok(match self {
            Self::Ticket(summary) => json(serde_json::to_string(summary))?,
            Self::Event(receipt) => json(serde_json::to_string(receipt))?,
            Self::Refund(receipt) => json(serde_json::to_string(receipt))?,
            Self::Assignment(answer) => json(serde_json::to_string(answer))?,
            Self::NoContent => String::new(),
            Self::Replayed { body } => body.clone(),
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
        .ok_or_else(|| StoreError::corrupt(format!("multiplier {raw}")))
}

/// An ingest call, as a backend runs it.
pub(crate) enum Call {
    Ticket(TicketInput),
    Event(Box<EventInput>),
    CartToken(CartTokenInput),
    Visit { fingerprint: String, at_ms: i64 },
    Refund(RefundInput),
    Assignment(AssignmentInput),
}

impl Call {
    /// The endpoint an idempotency id belongs to: ids are scoped to
    /// (company, endpoint), so one can never answer another call's request.
    pub fn endpoint(&self) -> &'static str {
        match self {
            Call::Ticket(_) => "tickets",
            Call::Event(event) => match event.kind {
                crate::model::EventKind::Cart { .. } => "cart_events",
                crate::model::EventKind::Checkout { .. } => "checkout_events",
            },
            Call::CartToken(_) => "cart_tokens",
            Call::Visit { .. } => "visits",
            Call::Refund(_) => "refunds",
            Call::Assignment(_) => "assignments",
        }
    }
}

/// The event columns that depend on its kind.
pub(crate) struct EventColumns<'a> {
    pub cart_type: CartType,
    pub event_type: Option<&'static str>,
    pub product_id: Option<&'a ProductId>,
    pub variant_id: Option<&'a str>,
    pub unit_price: Option<String>,
    pub order_id: Option<&'a OrderId>,
    pub cart_token: Option<&'a str>,
}

impl<'a> EventColumns<'a> {
    pub fn of(kind: &'a crate::model::EventKind) -> Self {
        use crate::model::EventKind;
        match kind {
            EventKind::Cart { event_type, product_id, variant_id, unit_price, cart_token, .. } => Self {
                cart_type: CartType::CartEvent,
                event_type: Some(event_type.as_str()),
                product_id: Some(product_id),
                variant_id: variant_id.as_deref(),
                unit_price: Some(unit_price.to_string()),
                order_id: None,
                cart_token: cart_token.as_deref(),
            },
            EventKind::Checkout { order_id, .. } => Self {
                cart_type: CartType::Checkout,
                event_type: None,
                product_id: None,
                variant_id: None,
                unit_price: None,
                order_id: Some(order_id),
                cart_token: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contribution_taken_away_never_wraps() {
        let c = Contribution { usd_cents: Some(UsdCents::new(-250)), quantity: 2, refunded_cents: UsdCents::new(100) };
        assert_eq!(c.sums(1), Ok([1, 0, -250, 2, 100]));
        assert_eq!(c.sums(-1), Ok([-1, 0, 250, -2, -100]));
        let extreme = Contribution { usd_cents: Some(UsdCents::new(i64::MIN)), ..c };
        assert_eq!(extreme.sums(-1), Err(Rejection::TotalOutOfRange));
    }

    #[test]
    fn a_rollup_key_stores_no_source_as_empty_text() {
        assert_eq!(message_source(Some(String::new())).unwrap(), None);
        assert_eq!(message_source(None).unwrap(), None);
        assert_eq!(message_source(Some("FAQ".into())).unwrap(), Some(MessageSource::Faq));
        assert!(message_source(Some("nonsense".into())).is_err());
    }
}
