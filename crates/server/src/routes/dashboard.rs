//! The web dashboard and the browser script, served from the binary itself
//! (no build step: plain HTML, CSS and JavaScript compiled in).

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

const HTML: &str = include_str!("../../assets/dashboard.html");
const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");
const SDK: &str = include_str!("../../../../sdk/js/revtrace.js");
/// Chart.js 4.6.1 from npm (MIT, licence beside it in assets/vendor).
const CHART_JS: &str = include_str!("../../assets/vendor/chart.umd.min.js");

fn asset(content_type: &'static str, body: &'static str, cache: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)], body).into_response()
}

/// The dashboard page (sign in with a secret key).
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses((status = 200, description = "the dashboard", content_type = "text/html")))]
pub async fn page() -> Response {
    asset("text/html; charset=utf-8", HTML, "no-cache")
}

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", CSS, "no-cache")
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", JS, "no-cache")
}

pub async fn chart_js() -> Response {
    // The version is in its path: a new one is a new URL, so it may be cached.
    asset("text/javascript; charset=utf-8", CHART_JS, "public, max-age=31536000, immutable")
}

/// The browser script: fingerprint, cart and checkout events, visits, and
/// the Shopify theme mode. No dependencies.
#[utoipa::path(get, path = "/sdk/revtrace.js", tag = "dashboard",
    responses((status = 200, description = "the browser script", content_type = "text/javascript")))]
pub async fn sdk() -> Response {
    // Any store may load it; short caching so a new version spreads in minutes.
    let mut response = asset("text/javascript; charset=utf-8", SDK, "public, max-age=300");
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, header::HeaderValue::from_static("*"));
    response
}
