//! Ingest: tickets, cart events, checkout events, cart tokens and visits
//! (SPEC §7). Each handler parses the wire body into validated store inputs,
//! then makes one store call.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use jiff::Timestamp;
use revtrace_core::{CartEventType, Currency, Fingerprint};
use revtrace_store::{
    CartTokenInput, EventInput, EventKind, EventReceipt, IdempotencyKey, IngestOutcome, KeyKind, LineItem,
    MessageInput, Principal, SourceCategory, TicketInput, TicketSummary, request_digest,
};

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{JsonBody, ingest_principal},
    wire::Amount,
};

mod bodies;

pub use bodies::{CartEventBody, CartTokenBody, CheckoutEventBody, LineItemBody, MessageBody, TicketBody, VisitBody};

/// An instant more than this far in the future is refused.
const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;

fn fingerprint(field: &str, raw: &str) -> Result<Fingerprint, ApiError> {
    Fingerprint::parse(raw).map_err(|e| ApiError::invalid_field(field, e.to_string()))
}

fn optional_fingerprint(field: &str, raw: Option<&str>) -> Result<Option<Fingerprint>, ApiError> {
    raw.filter(|s| !s.is_empty()).map(|s| fingerprint(field, s)).transpose()
}

fn text_id(field: &str, raw: &str, max: usize) -> Result<(), ApiError> {
    if raw.is_empty() || raw.len() > max {
        return Err(ApiError::invalid_field(field, format!("{field} is 1 to {max} characters")));
    }
    Ok(())
}

/// A slug: 1–64 characters of letters, digits, '_', '-' or '.'.
fn profile_slug(raw: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field("ai_profile_id", "ai_profile_id is 1 to 64 letters, digits, '_', '-' or '.'"))
    }
}

fn instant(field: &str, at: Option<Timestamp>, now_ms: i64) -> Result<i64, ApiError> {
    let at_ms = at.map(|t| t.as_millisecond()).unwrap_or(now_ms);
    if at_ms > now_ms + MAX_FUTURE_MS {
        return Err(ApiError::invalid_field(field, format!("{field} is more than 5 minutes in the future")));
    }
    Ok(at_ms)
}

fn currency(raw: &str) -> Result<Currency, ApiError> {
    Currency::parse(raw).map_err(|e| ApiError::invalid_field("currency", e.to_string()))
}

fn positive_quantity(field: &str, quantity: i64) -> Result<i64, ApiError> {
    if quantity > 0 && quantity <= 1_000_000 {
        Ok(quantity)
    } else {
        Err(ApiError::invalid_field(field, format!("{field} is a positive integer")))
    }
}

fn non_negative(field: &str, amount: Amount) -> Result<rust_decimal::Decimal, ApiError> {
    if amount.0.is_sign_negative() && !amount.0.is_zero() {
        return Err(ApiError::invalid_field(field, format!("{field} must not be negative")));
    }
    Ok(amount.0)
}

/// The idempotency id of a call: the `Idempotency-Key` header or the body field.
fn idempotency(headers: &HeaderMap, body_id: Option<&str>, raw: &Bytes) -> Result<Option<IdempotencyKey>, ApiError> {
    let header = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or_default());
    let id = match (header, body_id) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::invalid_field(
                "idempotency_id",
                "the Idempotency-Key header and idempotency_id differ",
            ));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Ok(None),
    };
    if id.is_empty() || id.len() > 255 {
        return Err(ApiError::invalid_field("idempotency_id", "an idempotency id is 1 to 255 characters"));
    }
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "bad JSON"))?;
    Ok(Some(IdempotencyKey { id: id.to_owned(), request_sha256: request_digest(&value) }))
}

fn source_of(principal: &Principal) -> SourceCategory {
    match principal.kind {
        KeyKind::Public => SourceCategory::Sdk,
        KeyKind::Secret => SourceCategory::Api,
    }
}

fn event_response(outcome: IngestOutcome) -> Response {
    match outcome {
        IngestOutcome::Created(receipt) => {
            metrics::counter!("revtrace_decisions_total", "reason" => receipt.reason.as_str()).increment(1);
            (StatusCode::CREATED, Json(receipt)).into_response()
        }
        IngestOutcome::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

/// Upsert a ticket and append its new messages.
#[utoipa::path(post, path = "/analytics/tickets", tag = "ingest", request_body = TicketBody,
    responses((status = 200, body = TicketSummary), (status = "4XX", body = ErrorBody)))]
pub async fn tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, .. }: JsonBody<TicketBody>,
) -> Result<Json<TicketSummary>, ApiError> {
    let principal = ingest_principal(&*state.store, &headers, body.company_key.as_deref()).await?;
    let now = state.clock.now_ms();
    text_id("ticket_id", &body.ticket_id, 255)?;
    if let Some(profile) = &body.ai_profile_id {
        profile_slug(profile)?;
    }
    let mut messages = Vec::with_capacity(body.messages.len());
    for (i, m) in body.messages.into_iter().enumerate() {
        text_id(&format!("messages[{i}].message_id"), &m.message_id, 255)?;
        let sent_at_ms = instant(&format!("messages[{i}].sent_at"), Some(m.sent_at), now)?;
        let metadata = m.metadata.map(serde_json::Value::Object);
        messages.push(MessageInput {
            message_id: m.message_id,
            sent_at_ms,
            role: m.role,
            text: m.text,
            has_answer_found: m.has_answer_found,
            metadata,
            product_ids: m.product_ids.unwrap_or_default().into_iter().map(|p| p.0).collect(),
        });
    }
    let input = TicketInput {
        ticket_id: body.ticket_id,
        ai_profile_id: body.ai_profile_id,
        channel: body.channel,
        fingerprint: fingerprint("fingerprint", &body.fingerprint)?,
        messages,
    };
    Ok(Json(state.store.ingest_ticket(&principal.company_id, input).await?))
}

/// Record a cart event and its attribution decision.
#[utoipa::path(post, path = "/analytics/cart_events", tag = "ingest", request_body = CartEventBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 201, body = EventReceipt), (status = "4XX", body = ErrorBody)))]
pub async fn cart_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<CartEventBody>,
) -> Result<Response, ApiError> {
    let principal = ingest_principal(&*state.store, &headers, body.company_key.as_deref()).await?;
    let key = idempotency(&headers, body.idempotency_id.as_deref(), &raw)?;
    let now = state.clock.now_ms();
    text_id("product_id", &body.product_id.0, 255)?;
    let quantity = body.quantity.map(|q| positive_quantity("quantity", q)).transpose()?;
    if quantity.is_none() && body.event_type != CartEventType::ItemRemoved {
        return Err(ApiError::invalid_field("quantity", "quantity is required for this event type"));
    }
    let input = EventInput {
        source: source_of(&principal),
        occurred_at_ms: instant("occurred_at", body.occurred_at, now)?,
        received_at_ms: now,
        user_fingerprint: Some(fingerprint("user_fingerprint", &body.user_fingerprint)?),
        user_faq_fingerprint: optional_fingerprint("user_faq_fingerprint", body.user_faq_fingerprint.as_deref())?,
        currency: currency(&body.currency)?,
        is_test: false,
        kind: EventKind::Cart {
            event_type: body.event_type,
            product_id: body.product_id.0,
            variant_id: body.variant_id.map(|v| v.0),
            quantity,
            unit_price: non_negative("unit_price", body.unit_price)?,
            cart_token: body.cart_token.map(|t| strip_cart_key(&t).to_owned()),
        },
    };
    Ok(event_response(state.store.ingest_event(&principal.company_id, input, key).await?))
}

/// Record a completed purchase and its attribution decision.
#[utoipa::path(post, path = "/analytics/checkout_events", tag = "ingest", request_body = CheckoutEventBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 201, body = EventReceipt), (status = 409, body = ErrorBody), (status = "4XX", body = ErrorBody)))]
pub async fn checkout_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<CheckoutEventBody>,
) -> Result<Response, ApiError> {
    let principal = ingest_principal(&*state.store, &headers, body.company_key.as_deref()).await?;
    let key = idempotency(&headers, body.idempotency_id.as_deref(), &raw)?;
    let now = state.clock.now_ms();
    let mut line_items = Vec::with_capacity(body.line_items.len());
    for (i, item) in body.line_items.into_iter().enumerate() {
        line_items.push(LineItem {
            product_id: item.product_id.0,
            variant_id: item.variant_id.map(|v| v.0),
            sku: item.sku,
            title: item.title,
            quantity: positive_quantity(&format!("line_items[{i}].quantity"), item.quantity)?,
            unit_price: non_negative(&format!("line_items[{i}].unit_price"), item.unit_price)?,
        });
    }
    let input = EventInput {
        source: source_of(&principal),
        occurred_at_ms: instant("occurred_at", body.occurred_at, now)?,
        received_at_ms: now,
        user_fingerprint: optional_fingerprint("user_fingerprint", body.user_fingerprint.as_deref())?,
        user_faq_fingerprint: optional_fingerprint("user_faq_fingerprint", body.user_faq_fingerprint.as_deref())?,
        currency: currency(&body.currency)?,
        is_test: false,
        kind: EventKind::Checkout {
            order_id: body.order_id.0,
            order_value: non_negative("order_value", body.order_value)?,
            line_items,
        },
    };
    Ok(event_response(state.store.ingest_event(&principal.company_id, input, key).await?))
}

/// Shopify's `/cart.js` token carries a `?key=…` suffix that orders do not.
pub fn strip_cart_key(token: &str) -> &str {
    token.split_once('?').map_or(token, |(bare, _)| bare)
}

/// Link a Shopify cart token to a visitor fingerprint.
#[utoipa::path(post, path = "/analytics/cart_tokens", tag = "ingest", request_body = CartTokenBody,
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn cart_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, .. }: JsonBody<CartTokenBody>,
) -> Result<StatusCode, ApiError> {
    let principal = ingest_principal(&*state.store, &headers, body.company_key.as_deref()).await?;
    let token = strip_cart_key(body.cart_token.trim());
    text_id("cart_token", token, 255)?;
    let input = CartTokenInput {
        cart_token: token.to_owned(),
        user_fingerprint: fingerprint("user_fingerprint", &body.user_fingerprint)?,
    };
    state.store.record_cart_token(&principal.company_id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Count a visitor, for conversion rates.
#[utoipa::path(post, path = "/analytics/visits", tag = "ingest", request_body = VisitBody,
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, .. }: JsonBody<VisitBody>,
) -> Result<StatusCode, ApiError> {
    let principal = ingest_principal(&*state.store, &headers, body.company_key.as_deref()).await?;
    let now = state.clock.now_ms();
    let visitor = fingerprint("user_fingerprint", &body.user_fingerprint)?;
    let at_ms = instant("occurred_at", body.occurred_at, now)?;
    state.store.record_visit(&principal.company_id, visitor.as_str().to_owned(), at_ms).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::strip_cart_key;

    #[test]
    fn cart_tokens_lose_their_key_suffix() {
        assert_eq!(strip_cart_key("c1-abc?key=123"), "c1-abc");
        assert_eq!(strip_cart_key("c1-abc"), "c1-abc");
    }
}
