//! The one mapping from failures to HTTP: `{"error": {"code", "message", "field"}}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use revtrace_store::{Rejection, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// A failed call, as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub event_id: Option<String>,
}

/// The error envelope of every non-2xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `invalid_field`, `duplicate_order`.
    pub code: &'static str,
    pub message: String,
    /// The offending field's path, for field errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The stored event a duplicate refers to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, event_id: None }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: Some(field.into()), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message) }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        metrics::counter!("revtrace_rejections_total", "code" => self.code).increment(1);
        let body = ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message, field: self.field, event_id: self.event_id },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Rejected(rejection) => rejection.into(),
            other => {
                // 5xx answers are opaque to the client and logged in full.
                tracing::error!(error = ?other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        let message = rejection.to_string();
        match rejection {
            Rejection::DuplicateOrder { event_id, .. } => ApiError {
                event_id: Some(event_id.into_string()),
                ..ApiError::new(StatusCode::CONFLICT, "duplicate_order", message)
            },
            Rejection::Cart(cart) => match cart {
                revtrace_core::CartRejection::QuantityRequired => ApiError::invalid_field("quantity", message),
                other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, other.code(), message),
            },
            Rejection::IdempotencyMismatch => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_mismatch", message)
            }
            Rejection::TicketConflict { field, .. } => ApiError {
                field: Some(field.into()),
                ..ApiError::new(StatusCode::CONFLICT, "ticket_conflict", message)
            },
            Rejection::DuplicateRefund { .. } => ApiError::new(StatusCode::CONFLICT, "duplicate_refund", message),
            Rejection::RefundExceedsOrder { .. } => ApiError {
                field: Some("amount".into()),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refund_exceeds_order", message)
            },
            Rejection::UnknownCompany(_) => ApiError::unauthorized(message),
            Rejection::UnknownExperiment { .. } => ApiError::not_found(message),
            Rejection::DuplicateExperiment { .. } => ApiError {
                field: Some("key".into()),
                ..ApiError::new(StatusCode::CONFLICT, "duplicate_experiment", message)
            },
            Rejection::TotalOutOfRange => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "total_out_of_range", message)
            }
            Rejection::Invalid { field, .. } => ApiError {
                field: field.map(Into::into),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
            },
        }
    }
}

/// The stable code of a status that some layer outside the handlers answered
/// (axum's extractors, body limits, timeouts).
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "invalid_field",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "unavailable",
        500..=599 => "internal",
        _ => "error",
    }
}

/// Every error the service sends is the JSON error shape, whatever layer
/// produced it: a non-JSON error answer (a body limit, a path that is not
/// UTF-8) is rewritten here, keeping its status and, for 4xx, its text.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if status.is_server_error() || text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_ascii_lowercase()
    } else {
        text
    };
    let mut rewritten = ApiError::new(status, code_of(status), message).into_response();
    // Keep what the layer said beyond the body (Retry-After, Allow).
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}
