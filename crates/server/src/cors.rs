//! CORS for the browser script. A preflight is answered for any origin (it
//! carries no key, so the company is not known yet); the call itself is
//! refused with 403 unless its `Origin` is one of the company's allowed
//! origins (checked before anything is stored, see `routes::ingest`), and
//! only a successful answer carries `Access-Control-Allow-Origin`.

use axum::{
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

fn browser_facing(path: &str) -> bool {
    path.starts_with("/analytics/")
}

pub async fn layer(request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let (Some(origin), true) = (origin, browser_facing(request.uri().path())) else {
        return next.run(request).await;
    };
    if request.method() == Method::OPTIONS {
        return (
            StatusCode::NO_CONTENT,
            [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
                (header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST")),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("content-type, idempotency-key, authorization"),
                ),
                (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600")),
                (header::VARY, HeaderValue::from_static("origin")),
            ],
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    response.headers_mut().append(header::VARY, HeaderValue::from_static("origin"));
    if response.status().is_success() {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}
