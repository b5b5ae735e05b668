//! revtrace-store: where revtrace keeps its history.
//!
//! One [`Store`] trait for the server and the CLI, with two backends: the
//! embedded default in [`sqlite`] and the shared one in [`postgres`] (several
//! servers, one database). Every write that carries a rule (an ingest call) goes through
//! one transaction that checks the rule, asks `revtrace_core::attribute` for the
//! decision and writes the event with it, so a backend can never answer 2xx
//! for something it did not commit.

mod clock;
#[macro_use]
mod store_impl;
mod engine;
mod error;
mod keys;
mod model;
pub mod postgres;
mod principals;
mod rows;
#[cfg(test)]
mod schema_guards;
mod sql;
pub mod sqlite;

use async_trait::async_trait;

pub use clock::{Clock, SystemClock};
pub use error::{Rejection, StoreError};
pub use keys::request_digest;
pub use model::*;
use revtrace_core::report::DayRange;

/// Chunks of reporting-table rows; a failure ends the stream.
pub type ExportRows = tokio::sync::mpsc::Receiver<Result<Vec<ExportRow>, StoreError>>;

/// The persistence boundary. Implementations must be cheap to share (`Arc`).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Who holds this key: a company's public key or one of its secret keys.
    async fn authenticate(&self, key: &str) -> Result<Option<Principal>, StoreError>;

    /// Lists or changes a company's keys and rate limits.
    async fn keys(&self, company: &CompanyId, change: KeyChange) -> Result<CompanyKeys, StoreError>;

    // Every ingest call takes an optional idempotency key: a retry with the
    // same id and body gets the original answer; another body is refused.

    /// Upserts a ticket and appends its new messages.
    async fn ingest_ticket(
        &self,
        company: &CompanyId,
        ticket: TicketInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<TicketSummary>, StoreError>;

    /// Stores a cart or checkout event with its attribution decision.
    async fn ingest_event(
        &self,
        company: &CompanyId,
        event: EventInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<EventReceipt>, StoreError>;

    async fn record_cart_token(
        &self,
        company: &CompanyId,
        token: CartTokenInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<()>, StoreError>;

    async fn record_visit(
        &self,
        company: &CompanyId,
        fingerprint: String,
        at_ms: i64,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<()>, StoreError>;

    /// Stores a refund against its order (applied when the order arrives, if
    /// it has not yet).
    async fn record_refund(
        &self,
        company: &CompanyId,
        refund: RefundInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<RefundReceipt>, StoreError>;

    /// Inserts or replaces catalog entries; returns how many were written.
    async fn upsert_products(&self, company: &CompanyId, products: Vec<Product>) -> Result<u64, StoreError>;

    async fn company_profile(&self, company: &CompanyId) -> Result<Option<CompanyProfile>, StoreError>;

    /// The rollup rows of a period and, when a previous period is given,
    /// its rows too and the distinct visitors of both (the daily series
    /// passes none and needs no visitor counts).
    async fn revenue_facts(
        &self,
        company: &CompanyId,
        current: DayRange,
        previous: Option<DayRange>,
    ) -> Result<RevenueFacts, StoreError>;

    /// The company's name, zone, AI profiles and whether it has checkouts.
    async fn company_overview(&self, company: &CompanyId) -> Result<Option<CompanyOverview>, StoreError>;

    /// The conversations that earned the most in a day range (attributed,
    /// non-test events), best first.
    async fn top_conversations(
        &self,
        company: &CompanyId,
        range: DayRange,
        filter: revtrace_core::report::Filter,
        limit: u32,
    ) -> Result<Vec<ConversationRow>, StoreError>;

    /// The conversations whose first message falls in the range (within
    /// the filters), each with its first credited cart add and checkout:
    /// what `revtrace_core::funnel` folds.
    async fn funnel_tickets(
        &self,
        company: &CompanyId,
        range: DayRange,
        filter: revtrace_core::report::Filter,
    ) -> Result<Vec<revtrace_core::funnel::FunnelTicket>, StoreError>;

    /// A conversation with its attributed events, products and totals.
    async fn ticket_revenue(
        &self,
        company: &CompanyId,
        ticket_id: &TicketId,
    ) -> Result<Option<TicketRevenue>, StoreError>;

    /// The reporting table rows of a day range, in time order, in chunks,
    /// read on a background thread (constant memory whatever the range).
    fn export(&self, company: &CompanyId, range: DayRange) -> ExportRows;

    /// The web origins allowed to send this company's events from a browser.
    async fn allowed_origins(&self, company: &CompanyId) -> Result<Vec<String>, StoreError>;

    /// Adds and removes allowed origins; returns the resulting list.
    async fn set_origins(
        &self,
        company: &CompanyId,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<Vec<String>, StoreError>;

    /// A connected Shopify shop, with its live webhook secrets.
    async fn shopify_store(&self, shop_domain: &str) -> Result<Option<ShopifyShop>, StoreError>;

    /// Connects a shop (or updates it, adding a secret for rotation).
    async fn connect_shopify(&self, connect: ShopifyConnect) -> Result<ShopifyShop, StoreError>;

    /// Records a verified delivery and does what its topic asks, once per
    /// (shop, webhook id).
    async fn shopify_delivery(
        &self,
        company: &CompanyId,
        delivery: ShopifyDelivery,
    ) -> Result<DeliveryOutcome, StoreError>;

    /// Everything held about a fingerprint (or a data request's), as JSON;
    /// `None` for an unknown request.
    async fn privacy_export(
        &self,
        company: &CompanyId,
        subject: PrivacySubject,
    ) -> Result<Option<serde_json::Value>, StoreError>;

    /// Erases a fingerprint (see `sqlite::privacy`); returns its replacement.
    async fn privacy_erase(&self, company: &CompanyId, fingerprint: &str) -> Result<String, StoreError>;

    /// The decision receipt of one event of this company.
    async fn event_attribution(
        &self,
        company: &CompanyId,
        event_id: &EventId,
    ) -> Result<Option<AttributionReceipt>, StoreError>;

    async fn create_company(&self, company: NewCompany) -> Result<CompanyCredentials, StoreError>;

    /// Every company, oldest first.
    async fn companies(&self) -> Result<Vec<CompanySummary>, StoreError>;

    /// Sets currency rates, all in one transaction; returns how many.
    async fn set_rates(&self, rates: Vec<RateInput>) -> Result<u64, StoreError>;

    /// Recomputes every decision from stored history with the same core rules.
    async fn reattribute(
        &self,
        options: ReattributeOptions,
        progress: Box<dyn Fn(Progress) + Send>,
    ) -> Result<ReattributeReport, StoreError>;

    /// Whether the store answers (readiness).
    /// Records a visitor's exposure (the earliest kept) and answers its arm.
    async fn assign(
        &self,
        company: &CompanyId,
        assignment: AssignmentInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<Assignment>, StoreError>;

    /// Stores a new experiment, already validated (`NewExperiment::validate`).
    async fn create_experiment(&self, company: &CompanyId, experiment: Experiment) -> Result<(), StoreError>;

    /// The company's experiments with their exposed visitors per arm.
    async fn experiments(&self, company: &CompanyId) -> Result<Vec<ExperimentVisitors>, StoreError>;

    /// An experiment with its arms' sums, up to its end (or now).
    async fn experiment_outcomes(
        &self,
        company: &CompanyId,
        key: &str,
    ) -> Result<Option<(Experiment, Vec<ArmOutcome>)>, StoreError>;

    /// Ends an experiment at `at_ms` (now when `None`).
    async fn end_experiment(
        &self,
        company: &CompanyId,
        key: &str,
        at_ms: Option<i64>,
    ) -> Result<Option<ExperimentVisitors>, StoreError>;

    /// An experiment's exposures for the export (`None`: no such experiment).
    async fn exposures(&self, company: &CompanyId, key: &str) -> Result<Option<Vec<ExposureRow>>, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;

    /// The clock every call of this store reads "now" from.
    fn clock(&self) -> std::sync::Arc<dyn Clock>;
}
