//! revtrace-server: the HTTP service.
//!
//! [`app`] builds the router (tests drive it over a real socket with
//! [`serve`]); handlers live in [`routes`], one module per surface, and every
//! failure leaves through [`error::ApiError`].

pub mod cors;
pub mod error;
pub mod export;
pub mod extract;
pub mod net;
pub mod openapi;
pub mod routes;
pub mod telemetry;
pub mod wire;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware,
    routing::{get, post},
};
use metrics_exporter_prometheus::PrometheusHandle;
use revtrace_store::Store;
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};

use crate::error::ApiError;

/// Ingest bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The time source: the store's, so handlers and store calls read the same
/// "now" (a test pins it by opening the store with its own clock).
pub use revtrace_store::{Clock, SystemClock};

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub metrics: PrometheusHandle,
    pub limits: Arc<net::limits::Limits>,
    pub rate_limiters: Arc<net::limits::RateLimiters>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_limits(store, net::limits::Limits::default())
    }

    pub fn with_limits(store: Arc<dyn Store>, limits: net::limits::Limits) -> Self {
        Self {
            clock: store.clock(),
            store,
            metrics: telemetry::prometheus(),
            limits: Arc::new(limits),
            rate_limiters: Arc::default(),
        }
    }
}

pub fn app(state: AppState) -> Router {
    use routes::{
        catalog, company, dashboard, experiments, exports, funnel, ingest, ops, receipts, reports, shopify, tickets,
    };
    Router::new()
        .route("/analytics/tickets", post(ingest::tickets))
        .route("/analytics/cart_events", post(ingest::cart_events))
        .route("/analytics/checkout_events", post(ingest::checkout_events))
        .route("/analytics/cart_tokens", post(ingest::cart_tokens))
        .route("/analytics/visits", post(ingest::visits))
        .route("/analytics/refunds", post(ingest::refunds))
        .route("/analytics/assignments", post(ingest::assignments))
        .route("/v1/experiments", post(experiments::create).get(experiments::list))
        .route("/v1/experiments/{key}", get(experiments::results))
        .route("/v1/experiments/{key}/end", post(experiments::end))
        .route("/webhooks/shopify", post(shopify::webhook).layer(DefaultBodyLimit::max(shopify::MAX_WEBHOOK_BYTES)))
        .route("/v1/events/{event_id}/attribution", get(receipts::event_attribution))
        .route("/v1/revenue-impact", get(reports::revenue_impact))
        .route("/v1/revenue-impact/daily", get(reports::revenue_impact_daily))
        .route("/v1/tickets/{ticket_id}/revenue", get(tickets::ticket_revenue))
        .route("/v1/export/revenue-impact", get(exports::revenue_impact_export))
        .route("/v1/export/exposures", get(exports::exposures_export))
        .route("/v1/products", post(catalog::upsert_products))
        .route("/v1/company", get(company::company))
        .route("/v1/tickets", get(tickets::top_conversations))
        .route("/v1/funnel", get(funnel::funnel))
        .route("/", get(dashboard::page))
        .route("/assets/dashboard.css", get(dashboard::stylesheet))
        .route("/assets/dashboard.js", get(dashboard::script))
        .route("/assets/vendor/chart-4.6.1.umd.min.js", get(dashboard::chart_js))
        .route("/sdk/revtrace.js", get(dashboard::sdk))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint takes another method")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), net::limits::rate_limit))
        .layer(middleware::from_fn(cors::layer))
        .layer(middleware::from_fn(telemetry::track))
        .layer(middleware::from_fn(deadline))
        .layer(middleware::from_fn(error::json_errors))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| axum::response::IntoResponse::into_response(ApiError::internal())))
        .with_state(state)
}

/// A request that takes longer than this is answered 503 (as JSON). An ingest
/// call already queued still commits; its retry with the same idempotency id
/// gets the original answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

async fn deadline(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; retry it with the same idempotency id",
        )),
    }
}

/// Serves the app on an already-bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let limiters = state.rate_limiters.clone();
    // Buckets of clients gone quiet are dropped, so memory follows the active ones.
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            limiters.forget_idle();
        }
    });
    let served = net::listener::run(listener, app(state), limits, shutdown).await;
    sweeper.abort();
    served
}
