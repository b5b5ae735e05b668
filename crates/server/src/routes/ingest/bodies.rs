//! The wire shapes of the ingest calls, with the constraints the OpenAPI
//! document states. Fields the SPEC does not name are ignored.

use revtrace_core::{CartEventType, Channel, Role};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::wire::{Amount, IdText, Instant};

#[derive(Deserialize, ToSchema)]
pub struct TicketBody {
    /// The public company key (browser); or send a secret key as Bearer.
    pub company_key: Option<String>,
    #[schema(min_length = 1, max_length = 255, example = "TK-2291")]
    pub ticket_id: String,
    /// The assistant configuration (a slug); `default` when absent.
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "skincare-advisor")]
    pub ai_profile_id: Option<String>,
    pub channel: Channel,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub fingerprint: String,
    #[serde(default)]
    pub messages: Vec<MessageBody>,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct MessageBody {
    #[schema(min_length = 1, max_length = 255)]
    pub message_id: String,
    /// RFC 3339; at most 5 minutes in the future.
    pub sent_at: Instant,
    pub role: Role,
    pub text: Option<String>,
    /// AI messages only: true when the answer was grounded in catalog or store data.
    pub has_answer_found: Option<bool>,
    /// Free-form; a non-empty string `nudge_id` marks a proactive nudge.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub product_ids: Option<Vec<IdText>>,
}

#[derive(Deserialize, ToSchema)]
pub struct CartEventBody {
    /// The public company key (browser); or send a secret key as Bearer.
    pub company_key: Option<String>,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub user_fingerprint: String,
    /// The Product-FAQ session's fingerprint, when it differs.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub user_faq_fingerprint: Option<String>,
    pub event_type: CartEventType,
    pub product_id: IdText,
    pub variant_id: Option<IdText>,
    /// A positive integer; may be absent for `ITEM_REMOVED` (removes the whole net quantity).
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: Option<i64>,
    /// Non-negative, in `currency`.
    pub unit_price: Amount,
    #[schema(pattern = "^[A-Za-z]{3}$", example = "USD")]
    pub currency: String,
    /// RFC 3339, default now; at most 5 minutes in the future.
    pub occurred_at: Option<Instant>,
    /// Shopify cart token, if any (a `?key=…` suffix is dropped).
    #[schema(pattern = "^[^?\\s]", max_length = 255)]
    pub cart_token: Option<String>,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CheckoutEventBody {
    /// The public company key (browser); or send a secret key as Bearer.
    pub company_key: Option<String>,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub user_fingerprint: Option<String>,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub user_faq_fingerprint: Option<String>,
    /// Unique per company.
    pub order_id: IdText,
    /// What the order earned (not the sum of line items), non-negative.
    pub order_value: Amount,
    #[schema(pattern = "^[A-Za-z]{3}$", example = "USD")]
    pub currency: String,
    /// RFC 3339, default now; at most 5 minutes in the future.
    pub occurred_at: Option<Instant>,
    #[serde(default)]
    pub line_items: Vec<LineItemBody>,
    /// A test order (as Shopify's `test`): stored, flagged, and left out of
    /// reports unless they ask for `include_test`.
    #[serde(default)]
    pub test: bool,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LineItemBody {
    pub product_id: IdText,
    pub variant_id: Option<IdText>,
    pub sku: Option<String>,
    pub title: Option<String>,
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: i64,
    pub unit_price: Amount,
}

#[derive(Deserialize, ToSchema)]
pub struct CartTokenBody {
    /// The public company key (browser); or send a secret key as Bearer.
    pub company_key: Option<String>,
    /// Shopify's cart token; a `?key=…` suffix is dropped.
    #[schema(pattern = "^[^?\\s]", max_length = 255)]
    pub cart_token: String,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub user_fingerprint: String,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct VisitBody {
    /// The public company key (browser); or send a secret key as Bearer.
    pub company_key: Option<String>,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub user_fingerprint: String,
    /// RFC 3339, default now; at most 5 minutes in the future.
    pub occurred_at: Option<Instant>,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AssignmentBody {
    /// The public company key (browser); or send a secret key as Bearer.
    pub company_key: Option<String>,
    /// The experiment's key.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$", example = "ai-holdout")]
    pub experiment: String,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$", example = "FP-8a3c")]
    pub fingerprint: String,
    /// RFC 3339, default now; at most 5 minutes in the future. Whether the
    /// visitor is in the experiment's window is decided by this time.
    pub occurred_at: Option<Instant>,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RefundBody {
    /// Your id for this refund, unique per company (Shopify's refund id, say).
    pub refund_id: IdText,
    /// The order refunded; it may arrive later (the refund waits for it).
    pub order_id: IdText,
    /// In the order's currency; positive. Refunds of an order never exceed its value.
    pub amount: Amount,
    /// RFC 3339; defaults to the time of receipt.
    pub occurred_at: Option<Instant>,
    /// Retry-safe id (or the `Idempotency-Key` header).
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_id: Option<String>,
}
