//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::routes::{
    catalog, company, dashboard, experiments, exports, funnel, ingest, ops, receipts, reports, shopify, tickets,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "revtrace", description = "Attribution of AI shopping-assistant conversations to cart and checkout revenue."),
    paths(
        ingest::tickets, ingest::cart_events, ingest::checkout_events, ingest::cart_tokens, ingest::visits,
        ingest::refunds, ingest::assignments,
        experiments::create, experiments::list, experiments::results, experiments::end,
        receipts::event_attribution, reports::revenue_impact, reports::revenue_impact_daily, tickets::ticket_revenue,
        exports::revenue_impact_export, exports::exposures_export, catalog::upsert_products, shopify::webhook, company::company,
        tickets::top_conversations, funnel::funnel, dashboard::page, dashboard::sdk,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    modifiers(&SecretKey),
    tags(
        (name = "ingest", description = "Conversation tickets and commerce events; public company key or secret key"),
        (name = "reports", description = "Reads; secret key as Bearer"),
        (name = "experiments", description = "Holdouts and A/B splits: assignments (public or secret key) and results (secret key)"),
        (name = "shopify", description = "Shopify webhooks, signed with the shop's secret"),
        (name = "dashboard", description = "The web dashboard and the browser script"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct SecretKey;

impl Modify for SecretKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "secret_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("sk_…").build()),
        );
    }
}
