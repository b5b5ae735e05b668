//! The store's rules, written once. Every use case is a pure function from
//! the facts a backend read (inside its transaction, under its locks) to a
//! [`Plan`]: the writes to apply and the answer to give. Nothing here does
//! I/O or reads the clock; the backends read facts, apply plans, and own
//! transactions, locks, retries and their storage tricks (SQLite's writer
//! and packed rows, PostgreSQL's pipelines and sharded counters).
//!
//! A new rule goes here; a backend that needs a new fact reads it and passes
//! it in. docs/architecture.md walks one ingest call through both sides.

pub(crate) mod experiments;
pub(crate) mod ingest;
pub(crate) mod reattribute;
pub(crate) mod refunds;
pub(crate) mod shopify;
pub(crate) mod visitors;

use revtrace_core::{
    Channel, Currency, EventId, MessageSource, Multiplier, OrderId, ProductId, Role, TicketId, UsdCents,
};
use rust_decimal::Decimal;

use crate::rows::{Ingested, RollupKey};
pub(crate) use visitors::{StoredDay, VisitorDays, VisitorWrite};

/// A company's settings, as every call reads them.
#[derive(Clone)]
pub(crate) struct Settings {
    pub window_ms: i64,
    pub timezone: jiff::tz::TimeZone,
}

/// What the backend must write, in order, and what the call answers.
pub(crate) struct Plan {
    pub writes: Vec<Write>,
    pub answer: Ingested,
}

/// One write of a plan. Rows are named by their natural keys (ticket id,
/// event id, refund id); a backend maps them to its own row ids.
/// What the funnel reads of a ticket, over all its messages so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FunnelFacts {
    pub first_message_ms: Option<i64>,
    pub message_source: MessageSource,
    /// Has a grounded AI answer.
    pub grounded: bool,
}

#[derive(Debug)]
pub(crate) enum Write {
    /// A conversation seen for the first time.
    Ticket {
        ticket_id: TicketId,
        ai_profile_id: String,
        channel: Channel,
        fingerprint: String,
        /// Over the messages it arrives with.
        facts: FunnelFacts,
    },
    /// A new message of a ticket stored or planned before it.
    Message { ticket_id: TicketId, message: NewMessage },
    /// A stored ticket's funnel facts, changed by its new messages.
    TicketFacts { ticket_id: TicketId, facts: FunnelFacts },
    /// A non-test event credited to a ticket: its first cart add or
    /// checkout moves earlier when this one is.
    TicketCredited { ticket_id: TicketId, checkout: bool, at_ms: i64 },
    /// A ticket whose credited events changed in a replay: its first cart
    /// add and checkout, read again from its events.
    TicketFirsts { ticket_id: String },
    /// A cart or checkout event with its decision (and its line items).
    Event(Box<NewEvent>),
    /// Moves a shopper's net quantity of one product variant. A position is
    /// created by an addition only; a removal updates an existing one.
    CartPosition { fingerprint: String, product_id: ProductId, variant_key: String, delta: i64 },
    /// Adds `[events, unconverted, usd_cents, quantity, refunded_cents]` to a
    /// rollup row.
    Rollup { key: RollupKey, sums: [i64; 5] },
    /// Part of marking what a visitor did on a day.
    Visitor(VisitorWrite),
    /// Links a cart token to a fingerprint (last writer wins).
    CartToken { cart_token: String, fingerprint: String },
    /// A new refund; `applied` when its order is stored.
    Refund { refund_id: String, order_id: OrderId, amount: Decimal, usd_cents: Option<UsdCents>, applied: bool },
    /// A waiting refund whose order has now arrived.
    RefundApplied { refund_id: String, usd_cents: Option<UsdCents> },
    /// Adds refunded cents to a stored or planned order's event.
    CreditOrder { event_id: EventId, cents: UsdCents },
    /// A stored event decided again (`reattribute`).
    Redecided { rewrite: reattribute::Rewrite, window_ms: i64, decided_at_ms: i64 },
    /// A visitor's exposure to an experiment with its outcome so far: `new`,
    /// or moved earlier (its outcome counted again from then).
    Exposure {
        experiment: String,
        fingerprint: String,
        arm: String,
        exposed_at_ms: i64,
        outcome: experiments::Outcome,
        with_ticket: bool,
        new: bool,
    },
    /// Moves every exposure of `fingerprint` that holds an event at `at_ms`.
    Outcome { fingerprint: String, at_ms: i64, outcome: experiments::Outcome },
    /// A ticket is now stored under `fingerprint`.
    TicketSeen { fingerprint: String },
    /// The answer a retry with this idempotency id gets.
    Answer { endpoint: &'static str, id: String, request_sha256: [u8; 32], body: String },
}

/// A message row to insert.
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub message_id: String,
    pub sent_at_ms: i64,
    pub role: Role,
    pub has_answer_found: Option<bool>,
    pub nudge_id: Option<String>,
    pub text: Option<String>,
    /// JSON text.
    pub metadata: Option<String>,
    /// A JSON array of product ids, when the message named any.
    pub product_ids: Option<String>,
}

/// An event row to insert, every column decided.
#[derive(Debug)]
pub(crate) struct NewEvent {
    pub event_id: EventId,
    pub cart_type: crate::rows::CartType,
    pub source_category: &'static str,
    pub occurred_at_ms: i64,
    pub day: String,
    pub received_at_ms: i64,
    pub user_fingerprint: Option<String>,
    pub user_faq_fingerprint: Option<String>,
    pub event_type: Option<&'static str>,
    pub product_id: Option<ProductId>,
    pub variant_id: Option<String>,
    pub quantity_signed: Option<i64>,
    pub unit_price: Option<String>,
    pub order_id: Option<OrderId>,
    pub cart_token: Option<String>,
    pub amount: String,
    pub currency: Currency,
    pub usd_multiplier: Option<String>,
    pub rate_effective_from: Option<String>,
    pub rate_source: Option<String>,
    pub usd_cents: Option<UsdCents>,
    pub is_test: bool,
    pub reason: &'static str,
    pub attributed: bool,
    pub ticket_id: Option<TicketId>,
    pub ai_profile_id: Option<String>,
    pub message_source: Option<revtrace_core::MessageSource>,
    pub window_ms: i64,
    /// The decision's candidates, as JSON.
    pub candidates: String,
    pub decided_at_ms: i64,
    pub line_items: Vec<NewLineItem>,
}

#[derive(Debug)]
pub(crate) struct NewLineItem {
    pub product_id: ProductId,
    pub variant_id: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
    pub unit_price: String,
}

/// A stored currency rate: the multiplier, the day it took effect, its source.
pub(crate) struct RateRow {
    pub multiplier: Multiplier,
    pub effective_from: String,
    pub source: String,
}
