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
use revtrace_core::{CartEventType, Fingerprint};
use revtrace_store::{
    Assignment, AssignmentInput, CartTokenInput, EventInput, EventKind, EventReceipt, IdempotencyKey, IngestOutcome,
    KeyKind, LineItem, MessageInput, Principal, RefundInput, RefundReceipt, SourceCategory, TicketInput, TicketSummary,
};

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{JsonBody, SecretKey, ingest_principal},
};

mod bodies;
mod fields;

pub use bodies::{
    AssignmentBody, CartEventBody, CartTokenBody, CheckoutEventBody, LineItemBody, MessageBody, RefundBody, TicketBody,
    VisitBody,
};
pub use fields::strip_cart_key;
use fields::{
    amount, currency, fingerprint, idempotency, instant, optional_fingerprint, positive_quantity, profile_slug, text_id,
};

/// Who is calling, with which idempotency key, and when the call arrived.
struct Caller {
    principal: Principal,
    key: Option<IdempotencyKey>,
    now: i64,
}

/// The preamble of every ingest call: the key (Bearer or body `company_key`),
/// the idempotency id (header or body) with the body's digest, and "now".
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    company_key: Option<&str>,
    idempotency_id: Option<&str>,
    raw: &Bytes,
) -> Result<Caller, ApiError> {
    let principal = ingest_principal(&*state.store, headers, company_key).await?;
    allowed_origin(state, headers, &principal).await?;
    let key = idempotency(headers, idempotency_id, raw)?;
    Ok(Caller { principal, key, now: state.clock.now_ms() })
}

/// A call from a web page (it has an `Origin`) must come from one of the
/// company's allowed origins; server-side calls send none.
async fn allowed_origin(state: &AppState, headers: &HeaderMap, principal: &Principal) -> Result<(), ApiError> {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    if state.store.allowed_origins(&principal.company_id).await?.iter().any(|o| o == origin) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
        format!("{origin} may not send this company's events; allow it with `revtrace company origins`"),
    ))
}

/// What cart and checkout events share: who sent it, when, by whom, in what money.
struct Envelope<'a> {
    occurred_at: Option<crate::wire::Instant>,
    user_fingerprint: Option<Fingerprint>,
    user_faq_fingerprint: Option<&'a str>,
    currency: &'a str,
}

fn event_input(
    principal: &Principal,
    now: i64,
    envelope: Envelope<'_>,
    kind: EventKind,
) -> Result<EventInput, ApiError> {
    Ok(EventInput {
        source: source_of(principal),
        occurred_at_ms: instant("occurred_at", envelope.occurred_at, now)?,
        received_at_ms: now,
        user_fingerprint: envelope.user_fingerprint,
        user_faq_fingerprint: optional_fingerprint("user_faq_fingerprint", envelope.user_faq_fingerprint)?,
        currency: currency(envelope.currency)?,
        is_test: false,
        kind,
    })
}

fn source_of(principal: &Principal) -> SourceCategory {
    match principal.kind {
        KeyKind::Public => SourceCategory::Sdk,
        KeyKind::Secret => SourceCategory::Api,
    }
}

/// The answer to an ingest call: the fresh result with `status`, or a
/// replay of the original answer, byte for byte.
fn respond<T: serde::Serialize>(outcome: IngestOutcome<T>, status: StatusCode) -> Response {
    match outcome {
        IngestOutcome::Created(_) if status == StatusCode::NO_CONTENT => status.into_response(),
        IngestOutcome::Created(value) => (status, Json(value)).into_response(),
        // Ids are scoped to their endpoint, and an endpoint answers one status.
        IngestOutcome::Replayed { body } => {
            if body.is_empty() {
                status.into_response()
            } else {
                (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
            }
        }
    }
}

fn event_response(outcome: IngestOutcome<EventReceipt>) -> Response {
    if let IngestOutcome::Created(receipt) = &outcome {
        metrics::counter!("revtrace_decisions_total", "reason" => receipt.reason.as_str()).increment(1);
    }
    respond(outcome, StatusCode::CREATED)
}

/// Upsert a ticket and append its new messages.
#[utoipa::path(post, path = "/analytics/tickets", tag = "ingest", request_body = TicketBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 200, body = TicketSummary),
        (status = 409, description = "the ticket is stored with another channel, fingerprint or profile", body = ErrorBody),
        (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<TicketBody>,
) -> Result<Response, ApiError> {
    let Caller { principal, key, now } =
        caller(&state, &headers, body.company_key.as_deref(), body.idempotency_id.as_deref(), &raw).await?;
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
        ticket_id: body.ticket_id.into(),
        ai_profile_id: body.ai_profile_id,
        channel: body.channel,
        fingerprint: fingerprint("fingerprint", &body.fingerprint)?,
        messages,
    };
    Ok(respond(state.store.ingest_ticket(&principal.company_id, input, key).await?, StatusCode::OK))
}

/// Record a cart event and its attribution decision.
#[utoipa::path(post, path = "/analytics/cart_events", tag = "ingest", request_body = CartEventBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 201, body = EventReceipt), (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn cart_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<CartEventBody>,
) -> Result<Response, ApiError> {
    let Caller { principal, key, now } =
        caller(&state, &headers, body.company_key.as_deref(), body.idempotency_id.as_deref(), &raw).await?;
    text_id("product_id", &body.product_id.0, 255)?;
    let quantity = body.quantity.map(|q| positive_quantity("quantity", q)).transpose()?;
    if quantity.is_none() && body.event_type != CartEventType::ItemRemoved {
        return Err(ApiError::invalid_field("quantity", "quantity is required for this event type"));
    }
    let envelope = Envelope {
        occurred_at: body.occurred_at,
        user_fingerprint: Some(fingerprint("user_fingerprint", &body.user_fingerprint)?),
        user_faq_fingerprint: body.user_faq_fingerprint.as_deref(),
        currency: &body.currency,
    };
    let kind = EventKind::Cart {
        event_type: body.event_type,
        product_id: body.product_id.0.clone().into(),
        variant_id: body.variant_id.as_ref().map(|v| v.0.clone()),
        quantity,
        unit_price: amount("unit_price", body.unit_price)?,
        cart_token: body.cart_token.as_deref().map(|t| strip_cart_key(t).to_owned()),
    };
    let input = event_input(&principal, now, envelope, kind)?;
    Ok(event_response(state.store.ingest_event(&principal.company_id, input, key).await?))
}

/// Record a completed purchase and its attribution decision.
#[utoipa::path(post, path = "/analytics/checkout_events", tag = "ingest", request_body = CheckoutEventBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 201, body = EventReceipt), (status = 409, body = ErrorBody), (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn checkout_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: mut body, raw }: JsonBody<CheckoutEventBody>,
) -> Result<Response, ApiError> {
    let Caller { principal, key, now } =
        caller(&state, &headers, body.company_key.as_deref(), body.idempotency_id.as_deref(), &raw).await?;
    let mut line_items = Vec::with_capacity(body.line_items.len());
    for (i, item) in std::mem::take(&mut body.line_items).into_iter().enumerate() {
        line_items.push(LineItem {
            product_id: item.product_id.0.into(),
            variant_id: item.variant_id.map(|v| v.0),
            sku: item.sku,
            title: item.title,
            quantity: positive_quantity(&format!("line_items[{i}].quantity"), item.quantity)?,
            unit_price: amount(&format!("line_items[{i}].unit_price"), item.unit_price)?,
        });
    }
    let envelope = Envelope {
        occurred_at: body.occurred_at,
        user_fingerprint: optional_fingerprint("user_fingerprint", body.user_fingerprint.as_deref())?,
        user_faq_fingerprint: body.user_faq_fingerprint.as_deref(),
        currency: &body.currency,
    };
    let kind = EventKind::Checkout {
        order_id: body.order_id.0.clone().into(),
        order_value: amount("order_value", body.order_value)?,
        line_items,
    };
    let mut input = event_input(&principal, now, envelope, kind)?;
    input.is_test = body.test;
    Ok(event_response(state.store.ingest_event(&principal.company_id, input, key).await?))
}

/// Link a Shopify cart token to a visitor fingerprint.
#[utoipa::path(post, path = "/analytics/cart_tokens", tag = "ingest", request_body = CartTokenBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 204), (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn cart_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<CartTokenBody>,
) -> Result<Response, ApiError> {
    let Caller { principal, key, .. } =
        caller(&state, &headers, body.company_key.as_deref(), body.idempotency_id.as_deref(), &raw).await?;
    let token = strip_cart_key(body.cart_token.trim());
    text_id("cart_token", token, 255)?;
    let input = CartTokenInput {
        cart_token: token.to_owned(),
        user_fingerprint: fingerprint("user_fingerprint", &body.user_fingerprint)?,
    };
    Ok(respond(state.store.record_cart_token(&principal.company_id, input, key).await?, StatusCode::NO_CONTENT))
}

/// Count a visitor, for conversion rates.
#[utoipa::path(post, path = "/analytics/visits", tag = "ingest", request_body = VisitBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 204), (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<VisitBody>,
) -> Result<Response, ApiError> {
    let Caller { principal, key, now } =
        caller(&state, &headers, body.company_key.as_deref(), body.idempotency_id.as_deref(), &raw).await?;
    let visitor = fingerprint("user_fingerprint", &body.user_fingerprint)?;
    let at_ms = instant("occurred_at", body.occurred_at, now)?;
    let outcome = state.store.record_visit(&principal.company_id, visitor.as_str().to_owned(), at_ms, key).await?;
    Ok(respond(outcome, StatusCode::NO_CONTENT))
}

/// Record money returned on an order (secret key only: a refund is a
/// server-side fact). Net revenue is gross minus refunds, in USD at the
/// order's own rate. Shopify stores send refunds by webhook instead.
#[utoipa::path(post, path = "/analytics/refunds", tag = "ingest", request_body = RefundBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    security(("secret_key" = [])),
    responses((status = 201, body = RefundReceipt), (status = 409, body = ErrorBody), (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn refunds(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<RefundBody>,
) -> Result<Response, ApiError> {
    allowed_origin(&state, &headers, &principal).await?;
    let key = idempotency(&headers, body.idempotency_id.as_deref(), &raw)?;
    let now = state.clock.now_ms();
    text_id("refund_id", &body.refund_id.0, 255)?;
    text_id("order_id", &body.order_id.0, 255)?;
    let refund_amount = amount("amount", body.amount)?;
    if refund_amount <= rust_decimal::Decimal::ZERO {
        return Err(ApiError::invalid_field("amount", "amount must be positive"));
    }
    let input = RefundInput {
        refund_id: body.refund_id.0,
        order_id: body.order_id.0.into(),
        amount: refund_amount,
        occurred_at_ms: instant("occurred_at", body.occurred_at, now)?,
        within_order_value: true,
    };
    Ok(respond(state.store.record_refund(&principal.company_id, input, key).await?, StatusCode::CREATED))
}

/// Which arm of an experiment a visitor is in (SPEC §11). The first call
/// records the exposure; later calls answer the same arm and keep the
/// earliest time. Outside the experiment's window: `arm: null`, the
/// assistant shown, nothing recorded.
#[utoipa::path(post, path = "/analytics/assignments", tag = "experiments", request_body = AssignmentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe id; same as body idempotency_id")),
    responses((status = 200, body = Assignment),
        (status = 404, description = "no such experiment", body = ErrorBody),
        (status = 400, description = "malformed JSON", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = ErrorBody)))]
pub async fn assignments(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody { value: body, raw }: JsonBody<AssignmentBody>,
) -> Result<Response, ApiError> {
    let Caller { principal, key, now } =
        caller(&state, &headers, body.company_key.as_deref(), body.idempotency_id.as_deref(), &raw).await?;
    if !revtrace_core::experiment::is_slug(&body.experiment) {
        return Err(ApiError::invalid_field(
            "experiment",
            "an experiment key is 1–64 lower-case letters, digits, '-' or '_'",
        ));
    }
    let input = AssignmentInput {
        experiment: body.experiment,
        fingerprint: fingerprint("fingerprint", &body.fingerprint)?,
        occurred_at_ms: instant("occurred_at", body.occurred_at, now)?,
    };
    Ok(respond(state.store.assign(&principal.company_id, input, key).await?, StatusCode::OK))
}
