//! What goes into the store and what comes out of it.

use revtrace_core::{CartEventType, Channel, Currency, Fingerprint, MessageSource, Multiplier, Reason, Role, Winner};
use rust_decimal::Decimal;
use serde::Serialize;

pub use revtrace_core::{CompanyId, EventId, OrderId, ProductId, TicketId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The company key: safe in a browser, ingest only.
    Public,
    /// A secret API key: server-side ingest and all reads.
    Secret,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub company_id: CompanyId,
    pub kind: KeyKind,
    /// Requests per minute per client address this key may make: the
    /// company's setting for its public key (`None`: the server's default;
    /// 0: no limit), a secret key's own (`None`: no limit).
    pub rate_per_minute: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct MessageInput {
    pub message_id: String,
    pub sent_at_ms: i64,
    pub role: Role,
    pub text: Option<String>,
    pub has_answer_found: Option<bool>,
    pub metadata: Option<serde_json::Value>,
    pub product_ids: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct TicketInput {
    pub ticket_id: TicketId,
    /// `None` keeps the stored profile (or `default` for a new ticket).
    pub ai_profile_id: Option<String>,
    pub channel: Channel,
    pub fingerprint: Fingerprint,
    pub messages: Vec<MessageInput>,
}

/// The answer to a ticket upsert, over all known messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketSummary {
    pub ticket_id: TicketId,
    pub message_source: MessageSource,
    /// Has at least one AI message with a grounded answer.
    pub qualifies: bool,
    /// RFC 3339; null while the ticket has no message.
    pub first_message_at: Option<String>,
    pub last_message_at: Option<String>,
}

/// Where a commerce event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SourceCategory {
    Shopify,
    Sdk,
    Api,
}

impl SourceCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopify => "SHOPIFY",
            Self::Sdk => "SDK",
            Self::Api => "API",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "SHOPIFY" => Some(Self::Shopify),
            "SDK" => Some(Self::Sdk),
            "API" => Some(Self::Api),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LineItem {
    pub product_id: ProductId,
    pub variant_id: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
    pub unit_price: Decimal,
}

#[derive(Clone, Debug)]
pub enum EventKind {
    Cart {
        event_type: CartEventType,
        product_id: ProductId,
        variant_id: Option<String>,
        /// `None` only for `ITEM_REMOVED` (the whole net quantity).
        quantity: Option<i64>,
        unit_price: Decimal,
        cart_token: Option<String>,
    },
    Checkout {
        order_id: OrderId,
        order_value: Decimal,
        line_items: Vec<LineItem>,
    },
}

/// A validated commerce event, ready to be decided and stored.
#[derive(Clone, Debug)]
pub struct EventInput {
    pub source: SourceCategory,
    pub occurred_at_ms: i64,
    pub received_at_ms: i64,
    pub user_fingerprint: Option<Fingerprint>,
    pub user_faq_fingerprint: Option<Fingerprint>,
    pub currency: Currency,
    pub is_test: bool,
    pub kind: EventKind,
}

impl EventInput {
    /// The identity set F of SPEC §3.
    pub fn identity(&self) -> Vec<&str> {
        self.user_fingerprint.iter().chain(self.user_faq_fingerprint.iter()).map(Fingerprint::as_str).collect()
    }
}

/// An idempotency id with the digest of the request body it came with, and
/// the endpoint it belongs to (set by the store from the call it comes with:
/// ids are scoped to (company, endpoint)).
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub id: String,
    pub request_sha256: [u8; 32],
    pub(crate) endpoint: &'static str,
}

impl IdempotencyKey {
    pub fn new(id: String, request_sha256: [u8; 32]) -> Self {
        Self { id, request_sha256, endpoint: "" }
    }

    pub(crate) fn scoped(self, endpoint: &'static str) -> Self {
        Self { endpoint, ..self }
    }
}

/// The 201 answer to an ingested commerce event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventReceipt {
    pub event_id: EventId,
    pub attributed: bool,
    pub ticket_id: Option<TicketId>,
    pub message_source: Option<MessageSource>,
    pub reason: Reason,
    /// Signed USD value, exact to the cent; null when the currency has no rate.
    pub usd_value: Option<String>,
}

/// The answer to an ingest call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestOutcome<T> {
    Created(T),
    /// A retry with a known idempotency id: the original answer's body,
    /// verbatim (empty for a call answered without one).
    Replayed {
        body: String,
    },
}

#[derive(Clone, Debug)]
pub struct CartTokenInput {
    /// Without any `?key=` suffix.
    pub cart_token: String,
    pub user_fingerprint: Fingerprint,
}

/// One candidate of a decision receipt, with RFC 3339 times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateView {
    pub ticket_id: TicketId,
    pub fingerprint: String,
    pub message_source: MessageSource,
    pub first_message_at: String,
    pub last_touch_at: String,
    /// Milliseconds from the last touch to the event.
    pub distance_ms: i64,
    pub qualifies: bool,
    pub in_window: bool,
    pub winner: bool,
}

/// The audit trail of one decision (`GET /v1/events/{event_id}/attribution`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttributionReceipt {
    pub event_id: EventId,
    /// `CART_EVENT` or `CHECKOUT`.
    pub cart_type: String,
    pub source_category: SourceCategory,
    pub occurred_at: String,
    pub user_fingerprint: Option<String>,
    pub user_faq_fingerprint: Option<String>,
    pub order_id: Option<OrderId>,
    pub attributed: bool,
    pub reason: Reason,
    pub winner: Option<Winner>,
    /// The attribution window the decision used.
    pub window_ms: i64,
    pub candidates: Vec<CandidateView>,
    pub decided_at: String,
    pub decided_by: DecidedBy,
}

/// Which path made a stored decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// When the event was ingested.
    Ingest,
    /// A later `revtrace reattribute` (a changed window or history).
    Reattribute,
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::Reattribute => "reattribute",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ingest" => Some(Self::Ingest),
            "reattribute" => Some(Self::Reattribute),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewCompany {
    pub name: String,
    /// An IANA zone name, already checked.
    pub timezone: String,
    pub window_ms: i64,
}

#[derive(Clone, Serialize)]
pub struct CompanyCredentials {
    pub company_id: String,
    pub company_key: String,
    pub secret_key: String,
}

/// Secrets never reach logs: `Debug` shows only the key's prefix.
impl std::fmt::Debug for CompanyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompanyCredentials")
            .field("company_id", &self.company_id)
            .field("company_key", &self.company_key)
            .field("secret_key", &redacted(&self.secret_key))
            .finish()
    }
}

/// A secret's first characters and a mark that the rest is hidden.
pub fn redacted(secret: &str) -> String {
    format!("{}…[redacted]", secret.get(..7).unwrap_or_default())
}

/// A change to a company's keys and rate limits (`revtrace company keys`).
#[derive(Clone, Debug)]
pub enum KeyChange {
    List,
    /// A new secret key; the old ones stay live, so a rotation needs no downtime.
    Add {
        rate_per_minute: Option<u32>,
    },
    /// Revokes the secret key with this prefix (`sk_` and 7 characters); the
    /// last one cannot be revoked.
    Revoke {
        prefix: String,
    },
    SetKeyRate {
        prefix: String,
        rate_per_minute: Option<u32>,
    },
    /// The public key's limit per client address (None: the server's default; 0: none).
    PublicRate(Option<u32>),
}

/// A company's keys after a change: never a secret, except one just added.
#[derive(Clone, Serialize)]
pub struct CompanyKeys {
    pub company_key: String,
    pub public_rate_per_minute: Option<u32>,
    pub secret_keys: Vec<SecretKeyInfo>,
    /// The key an `Add` created, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added: Option<String>,
}

impl std::fmt::Debug for CompanyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompanyKeys")
            .field("secret_keys", &self.secret_keys)
            .field("added", &self.added.as_deref().map(redacted))
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretKeyInfo {
    /// `sk_` and 7 characters: enough to name the key, not to use it.
    pub prefix: String,
    pub created_at: String,
    pub rate_per_minute: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct RateInput {
    pub currency: Currency,
    pub multiplier: Multiplier,
    pub effective_from: jiff::civil::Date,
    pub source: String,
}

#[derive(Clone, Debug, Default)]
pub struct ReattributeOptions {
    pub company: Option<CompanyId>,
    /// Sets the company's window before recomputing (unless a dry run).
    pub window_ms: Option<i64>,
    pub dry_run: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReattributeReport {
    pub companies: u64,
    pub events: u64,
    /// Events whose reason or winning ticket changed.
    pub decisions_changed: u64,
    /// Events whose stored receipt was rewritten (decision or candidates).
    pub receipts_rewritten: u64,
    pub dry_run: bool,
}

/// Money returned on an order, in the order's currency.
#[derive(Clone, Debug)]
pub struct RefundInput {
    /// Unique per company (Shopify's refund id, or the caller's own).
    pub refund_id: String,
    pub order_id: OrderId,
    pub amount: Decimal,
    pub occurred_at_ms: i64,
    /// Refuse refunds that would take the order's refunds past its value.
    /// API calls do; Shopify's refunds are Shopify's to check (they may
    /// include shipping that a subtotal revenue basis leaves out).
    pub within_order_value: bool,
}

/// The 201 answer to a stored refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundReceipt {
    pub refund_id: String,
    pub order_id: OrderId,
    /// False while its order has not arrived: it is applied when it does.
    pub applied: bool,
    /// The refund in USD at the order's rate; null until applied, or when the
    /// order's currency has no rate.
    pub usd_value: Option<String>,
}

/// One catalog entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub product_id: ProductId,
    pub title: Option<String>,
    pub image_url: Option<String>,
    pub url: Option<String>,
}

/// A company's settings as reads need them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyProfile {
    pub name: String,
    /// IANA zone name.
    pub timezone: String,
    pub window_ms: i64,
}

/// What `/v1/revenue-impact` is computed from: the rollup rows of both
/// periods (ordered by day) and the distinct visitors of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevenueFacts {
    pub rows: Vec<revtrace_core::report::RollupRow>,
    pub current_visitors: revtrace_core::report::Visitors,
    pub previous_visitors: revtrace_core::report::Visitors,
    pub has_checkout_data: bool,
}

/// A product as the per-conversation view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductView {
    pub product_id: ProductId,
    pub variant_id: Option<String>,
    pub title: Option<String>,
    pub image_url: Option<String>,
    pub url: Option<String>,
    pub quantity: i64,
    /// In the event's currency.
    pub unit_price: String,
}

/// One attributed event of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketEvent {
    pub event_id: EventId,
    /// `CART_EVENT` or `CHECKOUT`.
    pub cart_type: String,
    pub source_category: SourceCategory,
    pub occurred_at: String,
    /// Cart events only: `ITEM_ADDED`, `QUANTITY_INCREASED`, …
    pub event_type: Option<String>,
    pub order_id: Option<OrderId>,
    /// Signed, in the original currency.
    pub amount: String,
    pub currency: String,
    /// Signed; null when the currency has no rate.
    pub usd_value: Option<String>,
    pub refunded_usd: String,
    pub is_test: bool,
    /// Checkouts: the order was cancelled (Shopify `orders/cancelled`).
    pub cancelled: bool,
    /// The cart event's product, or the order's line items.
    pub products: Vec<ProductView>,
}

/// Totals of a conversation's attributed, non-test events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketTotals {
    pub checkout_revenue_usd: String,
    pub refunds_usd: String,
    pub net_checkout_revenue_usd: String,
    pub orders: i64,
    pub cart_gmv_usd: String,
    pub products_in_cart: i64,
    pub events: i64,
    pub unconverted_events: i64,
}

/// `GET /v1/tickets/{ticket_id}/revenue`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketRevenue {
    pub ticket_id: TicketId,
    pub ai_profile_id: String,
    pub channel: Channel,
    pub fingerprint: String,
    pub message_source: MessageSource,
    pub qualifies: bool,
    pub first_message_at: Option<String>,
    pub last_message_at: Option<String>,
    pub messages: i64,
    /// Every message in time order (SPEC §12): the exchange itself.
    pub transcript: Vec<TranscriptMessage>,
    /// Attributed events in time order.
    pub events: Vec<TicketEvent>,
    pub totals: TicketTotals,
}

/// One message of a conversation, as the assistant sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscriptMessage {
    pub message_id: String,
    pub sent_at: String,
    /// `shopper`, `ai` or `human_agent`.
    pub role: String,
    /// Null when none was sent, or after `revtrace privacy erase`.
    pub text: Option<String>,
    pub has_answer_found: Option<bool>,
    /// The products the message showed (`product_ids`), in its order, with
    /// the catalog's title, image and link where the catalog has them.
    pub products: Vec<ShownProduct>,
}

/// A product an AI message showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShownProduct {
    pub product_id: ProductId,
    pub title: Option<String>,
    pub image_url: Option<String>,
    pub url: Option<String>,
}

/// One row of the reporting table (SPEC §9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ExportRow {
    pub company_id: String,
    pub event_id: String,
    pub occurred_at: String,
    pub day: String,
    pub cart_type: String,
    pub source_category: String,
    pub message_source: Option<String>,
    pub ticket_id: Option<String>,
    pub ai_profile_id: Option<String>,
    pub user_fingerprint: Option<String>,
    pub event_type: Option<String>,
    pub product_id: Option<String>,
    pub variant_id: Option<String>,
    pub quantity_signed: Option<i64>,
    pub order_id: Option<String>,
    pub cart_value: String,
    pub currency: String,
    pub currency_multiplier: Option<String>,
    pub usd_cart_value: Option<String>,
    pub attributed: bool,
    pub reason: String,
    pub is_test: bool,
    pub refunded_usd: String,
}

/// Which order total counts as a Shopify order's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RevenueBasis {
    TotalPrice,
    SubtotalPrice,
}

impl RevenueBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotalPrice => "total_price",
            Self::SubtotalPrice => "subtotal_price",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "total_price" => Some(Self::TotalPrice),
            "subtotal_price" => Some(Self::SubtotalPrice),
            _ => None,
        }
    }
}

/// A connected Shopify shop.
#[derive(Clone, PartialEq, Eq)]
pub struct ShopifyShop {
    pub shop_domain: String,
    pub company_id: CompanyId,
    pub ai_profile_id: String,
    pub fingerprint_property: String,
    pub revenue_basis: RevenueBasis,
    /// The webhook signing secrets in force, newest first (two during a rotation).
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for ShopifyShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyShop")
            .field("shop_domain", &self.shop_domain)
            .field("company_id", &self.company_id)
            .field("ai_profile_id", &self.ai_profile_id)
            .field("fingerprint_property", &self.fingerprint_property)
            .field("revenue_basis", &self.revenue_basis)
            .field("secrets", &format!("[{} redacted]", self.secrets.len()))
            .finish()
    }
}

/// `revtrace shopify connect`: settings left `None` keep their stored value
/// (or the default for a new shop); a new secret joins the newest one.
#[derive(Clone)]
pub struct ShopifyConnect {
    pub company: CompanyId,
    pub shop_domain: String,
    pub secret: String,
    pub ai_profile_id: Option<String>,
    pub fingerprint_property: Option<String>,
    pub revenue_basis: Option<RevenueBasis>,
}

impl std::fmt::Debug for ShopifyConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyConnect")
            .field("company", &self.company)
            .field("shop_domain", &self.shop_domain)
            .field("secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// An `orders/paid` order, parsed; the store resolves its fingerprint.
#[derive(Clone, Debug)]
pub struct ShopifyOrder {
    /// The checkout event, `user_fingerprint` still empty.
    pub event: EventInput,
    /// Without any `?key=` suffix.
    pub cart_token: Option<String>,
    /// The first non-empty line-item property named like the store's property.
    pub property_fingerprint: Option<Fingerprint>,
    /// The order's `note_attributes` entry of that name.
    pub note_fingerprint: Option<Fingerprint>,
    /// The value in the buyer's currency, as Shopify presented it.
    pub presentment: Option<(String, Decimal)>,
}

/// What a verified delivery asks the store to do.
#[derive(Clone, Debug)]
pub enum ShopifyAction {
    Order(Box<ShopifyOrder>),
    Refund(RefundInput),
    Cancel {
        order_id: OrderId,
        at_ms: i64,
    },
    /// `customers/redact`: erase the fingerprints of these orders.
    RedactCustomer {
        order_ids: Vec<OrderId>,
        payload: serde_json::Value,
    },
    /// `shop/redact`: erase everything of the shop.
    RedactShop {
        payload: serde_json::Value,
    },
    /// `customers/data_request`: record it for `revtrace privacy export`.
    DataRequest {
        payload: serde_json::Value,
    },
    /// A topic revtrace does not use: acknowledged and counted.
    Ignore,
}

#[derive(Clone, Debug)]
pub struct ShopifyDelivery {
    pub shop_domain: String,
    pub webhook_id: String,
    pub topic: String,
    pub action: ShopifyAction,
}

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Acted on.
    Processed,
    /// This delivery (shop, webhook id) was seen before.
    Duplicate,
    /// The order or refund was stored by an earlier call.
    AlreadyStored,
    /// A topic revtrace does not act on.
    Ignored,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::AlreadyStored => "already_stored",
            Self::Ignored => "ignored",
        }
    }
}

/// Where an order's fingerprint came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FingerprintSource {
    /// The cart token the browser script linked to a fingerprint.
    CartToken,
    /// A line-item property named like the shop's fingerprint property.
    LineItemProperty,
    /// The order's note attribute of that name.
    NoteAttribute,
}

/// The answer to a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryOutcome {
    pub status: DeliveryStatus,
    /// The checkout event of an `orders/paid` delivery.
    pub event_id: Option<EventId>,
    pub reason: Option<Reason>,
    /// Where the order's fingerprint came from; null when none was found.
    pub fingerprint_source: Option<FingerprintSource>,
    /// A recorded `customers/data_request`: `revtrace privacy export --request N`.
    pub privacy_request: Option<i64>,
}

impl DeliveryOutcome {
    pub fn status(status: DeliveryStatus) -> Self {
        Self { status, event_id: None, reason: None, fingerprint_source: None, privacy_request: None }
    }
}

/// Whose data `revtrace privacy export` gathers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivacySubject {
    Fingerprint(String),
    /// A recorded `customers/data_request`: the fingerprints of its orders.
    Request(i64),
}

/// `GET /v1/company`: what the dashboard needs to lay itself out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanyOverview {
    pub company_id: String,
    pub name: String,
    pub timezone: String,
    /// The AI profiles of the company's conversations (filter choices).
    pub ai_profiles: Vec<String>,
    /// At least one non-test checkout is stored: the checkout views apply.
    pub has_checkout_data: bool,
    /// The public key of the browser script and ingest calls (`pk_…`).
    pub company_key: String,
    /// What has arrived so far: a new company's setup checklist.
    pub setup: CompanySetup,
}

/// The first signs of a working integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanySetup {
    /// The browser script has reported a visit.
    pub script_seen: bool,
    /// At least one conversation is stored.
    pub has_tickets: bool,
    /// At least one cart or checkout event is stored (test events too).
    pub has_events: bool,
}

/// One conversation of `GET /v1/tickets`, with what it earned in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationRow {
    pub ticket_id: TicketId,
    pub ai_profile_id: String,
    pub message_source: MessageSource,
    /// Attributed, non-test events of the range.
    pub events: i64,
    pub orders: i64,
    pub checkout_revenue_usd: String,
    pub cart_gmv_usd: String,
    /// RFC 3339: the latest of those events.
    pub last_event_at: String,
}

pub use revtrace_core::experiment::{Arm, ArmOutcome, Experiment, Kind as ExperimentKind, Status as ExperimentStatus};

/// `POST /analytics/assignments`: which arm a visitor is in, at a time.
#[derive(Clone, Debug)]
pub struct AssignmentInput {
    pub experiment: String,
    pub fingerprint: Fingerprint,
    pub occurred_at_ms: i64,
}

/// The answer to an assignment: the arm, or `arm: null` (the default
/// experience, the assistant shown) outside the experiment's window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub experiment: String,
    pub arm: Option<String>,
    /// False: hide the assistant for this visitor.
    pub assistant: bool,
    /// The AI profile the assistant should run for this arm, if it names one.
    pub ai_profile_id: Option<String>,
    /// RFC 3339: the earliest time this visitor was assigned; null when the
    /// call was outside the window.
    pub exposed_at: Option<String>,
}

/// An experiment with its exposed visitors per arm (in the arms' order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExperimentVisitors {
    pub experiment: Experiment,
    pub visitors: Vec<u64>,
}

/// One exposed visitor, as the exposures export writes it: who, which arm,
/// since when, and the outcome revtrace keeps for it (net revenue uncapped).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ExposureRow {
    pub company_id: String,
    pub experiment: String,
    pub fingerprint: String,
    pub arm: String,
    pub exposed_at: String,
    pub orders: i64,
    pub revenue_usd: String,
    pub cart_gmv_usd: String,
    pub attributed_revenue_usd: String,
    pub unconverted_events: i64,
    pub with_ticket: bool,
}

/// A company as `revtrace company list` shows it (no secret, only the
/// public key a browser carries anyway).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompanySummary {
    pub company_id: String,
    pub name: String,
    pub timezone: String,
    pub window_hours: i64,
    pub company_key: String,
    pub created_at: String,
}
