//! `POST /webhooks/shopify`: every topic of a connected shop (SPEC §6).
//!
//! In order: the shop must be connected and the body signed with one of its
//! live secrets (else 401, before any JSON is read); the delivery is then
//! parsed by topic and handed to the store, which records its webhook id and
//! acts on it in one transaction, so a repeat does nothing.

mod payloads;
pub mod signature;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use revtrace_core::{Currency, Fingerprint};
use revtrace_store::{
    DeliveryOutcome, EventInput, EventKind, LineItem, RefundInput, RevenueBasis, ShopifyAction, ShopifyDelivery,
    ShopifyOrder, ShopifyShop, SourceCategory,
};
use rust_decimal::Decimal;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::parse,
    routes::ingest::strip_cart_key,
};

/// Shopify orders can be long: a larger body limit than the ingest calls'.
pub const MAX_WEBHOOK_BYTES: usize = 5 * 1024 * 1024;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn missing(name: &str) -> ApiError {
    ApiError {
        field: Some(name.to_owned()),
        ..ApiError::new(StatusCode::BAD_REQUEST, "missing_header", format!("the {name} header is required"))
    }
}

/// A verified Shopify delivery: counted, deduplicated, acted on.
#[utoipa::path(post, path = "/webhooks/shopify", tag = "shopify",
    params(
        ("X-Shopify-Topic" = String, Header, description = "e.g. `orders/paid`"),
        ("X-Shopify-Shop-Domain" = String, Header, description = "`x.myshopify.com`, connected with `revtrace shopify connect`"),
        ("X-Shopify-Hmac-Sha256" = String, Header, description = "base64 HMAC-SHA256 of the raw body with the shop's secret"),
        ("X-Shopify-Webhook-Id" = String, Header, description = "unique per delivery; repeats are answered 200 and ignored"),
    ),
    request_body(content = Object, description = "Shopify's REST resource for the topic"),
    responses(
        (status = 200, body = DeliveryOutcome),
        (status = 401, description = "unknown shop or bad signature", body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DeliveryOutcome>, ApiError> {
    let shop_domain = header(&headers, "x-shopify-shop-domain").map(str::to_ascii_lowercase).unwrap_or_default();
    let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", "unknown shop or bad signature");
    let store = match state.store.shopify_store(&shop_domain).await? {
        Some(store) if !shop_domain.is_empty() => store,
        _ => return Err(unauthorized()),
    };
    let signature = header(&headers, "x-shopify-hmac-sha256").ok_or_else(unauthorized)?;
    if !signature::verify(&body, signature, &store.secrets) {
        return Err(unauthorized());
    }
    let topic = header(&headers, "x-shopify-topic").ok_or_else(|| missing("X-Shopify-Topic"))?.to_owned();
    let webhook_id =
        header(&headers, "x-shopify-webhook-id").ok_or_else(|| missing("X-Shopify-Webhook-Id"))?.to_owned();
    if webhook_id.len() > 255 {
        return Err(ApiError::invalid_field("X-Shopify-Webhook-Id", "at most 255 bytes"));
    }
    // A signed payload with values Shopify never sends (negative money or
    // quantities, a refund above its order) is refused, counted, not stored.
    let refused = |error: ApiError| {
        metrics::counter!("revtrace_shopify_refused_total", "topic" => topic_label(&topic), "code" => error.code)
            .increment(1);
        tracing::warn!(shop = %shop_domain, topic = %topic, field = ?error.field, message = %error.message, "Shopify delivery refused");
        error
    };
    let action = action(&store, &topic, &body, state.clock.now_ms()).map_err(refused)?;
    let company = store.company_id.clone();
    let delivery = ShopifyDelivery { shop_domain: store.shop_domain, webhook_id, topic: topic.clone(), action };
    let outcome = state.store.shopify_delivery(&company, delivery).await.map_err(|e| refused(e.into()))?;
    metrics::counter!("revtrace_shopify_deliveries_total", "topic" => topic_label(&topic), "outcome" => outcome.status.as_str())
        .increment(1);
    if let Some(reason) = outcome.reason {
        metrics::counter!("revtrace_decisions_total", "reason" => reason.as_str()).increment(1);
    }
    Ok(Json(outcome))
}

/// The topic as a metric label: the ones revtrace acts on, else `other`.
fn topic_label(topic: &str) -> &'static str {
    const KNOWN: [&str; 6] = [
        "orders/paid",
        "refunds/create",
        "orders/cancelled",
        "customers/redact",
        "shop/redact",
        "customers/data_request",
    ];
    KNOWN.into_iter().find(|k| *k == topic).unwrap_or("other")
}

fn action(store: &ShopifyShop, topic: &str, body: &[u8], now_ms: i64) -> Result<ShopifyAction, ApiError> {
    Ok(match topic {
        "orders/paid" => ShopifyAction::Order(Box::new(order(store, parse(body)?, now_ms)?)),
        "refunds/create" => ShopifyAction::Refund(refund(store, parse(body)?, now_ms)?),
        "orders/cancelled" => {
            let order: payloads::Order = parse(body)?;
            let at = order.cancelled_at.as_deref().map(|t| instant("cancelled_at", t)).transpose()?;
            ShopifyAction::Cancel { order_id: order.id.0.into(), at_ms: at.unwrap_or(now_ms) }
        }
        "customers/redact" => {
            let payload: serde_json::Value = parse(body)?;
            let request: payloads::CustomerRequest = serde_json::from_value(payload.clone())
                .map_err(|e| ApiError::invalid_field("orders_to_redact", e.to_string()))?;
            ShopifyAction::RedactCustomer {
                order_ids: request.orders_to_redact.into_iter().map(|i| i.0.into()).collect(),
                payload,
            }
        }
        "shop/redact" => ShopifyAction::RedactShop { payload: parse(body)? },
        "customers/data_request" => ShopifyAction::DataRequest { payload: parse(body)? },
        _ => ShopifyAction::Ignore,
    })
}

fn instant(field: &str, raw: &str) -> Result<i64, ApiError> {
    crate::wire::Instant::parse(raw).map(crate::wire::Instant::as_millisecond).ok_or_else(|| {
        ApiError::invalid_field(field, format!("{field} must be an RFC 3339 instant with an offset, years 1970–9999"))
    })
}

fn fingerprint_from(raw: Option<&str>) -> Option<Fingerprint> {
    raw.and_then(|v| Fingerprint::parse(v).ok())
}

fn order(store: &ShopifyShop, o: payloads::Order, now_ms: i64) -> Result<ShopifyOrder, ApiError> {
    let currency = Currency::parse(&o.currency).map_err(|e| ApiError::invalid_field("currency", e.to_string()))?;
    let (value, bag, field) = match store.revenue_basis {
        RevenueBasis::TotalPrice => (o.total_price, o.total_price_set, "total_price"),
        RevenueBasis::SubtotalPrice => (o.subtotal_price, o.subtotal_price_set, "subtotal_price"),
    };
    let value = value.ok_or_else(|| ApiError::invalid_field(field, format!("{field} is required")))?.0;
    let at = match (o.processed_at.as_deref(), o.created_at.as_deref()) {
        (Some(t), _) => instant("processed_at", t)?,
        (None, Some(t)) => instant("created_at", t)?,
        (None, None) => now_ms,
    };
    let property = &store.fingerprint_property;
    let mut line_items = Vec::with_capacity(o.line_items.len());
    let mut property_fingerprint = None;
    for (i, item) in o.line_items.into_iter().enumerate() {
        if property_fingerprint.is_none() {
            property_fingerprint = fingerprint_from(payloads::named(&item.properties, property));
        }
        let product_id =
            item.product_id.or_else(|| item.variant_id.clone()).map(|id| id.0).unwrap_or_else(|| format!("line-{i}"));
        line_items.push(LineItem {
            product_id: product_id.into(),
            variant_id: item.variant_id.map(|v| v.0),
            sku: item.sku.filter(|s| !s.is_empty()),
            title: item.title.or(item.name),
            quantity: shopify_quantity(i, item.quantity)?,
            unit_price: item.price.0,
        });
    }
    let presentment = bag
        .and_then(|b| b.presentment_money)
        .map(|m| (m.currency_code, m.amount.0))
        .filter(|(code, _)| !code.is_empty());
    let cart_token = o.cart_token.as_deref().map(|t| strip_cart_key(t.trim()).to_owned()).filter(|t| !t.is_empty());
    Ok(ShopifyOrder {
        event: EventInput {
            source: SourceCategory::Shopify,
            occurred_at_ms: at,
            received_at_ms: now_ms,
            user_fingerprint: None,
            user_faq_fingerprint: None,
            currency,
            is_test: o.test,
            kind: EventKind::Checkout { order_id: o.id.0.into(), order_value: value, line_items },
        },
        cart_token,
        property_fingerprint,
        note_fingerprint: fingerprint_from(payloads::named(&o.note_attributes, property)),
        presentment,
    })
}

/// Shopify's line quantities are positive and far below a million.
fn shopify_quantity(line: usize, quantity: i64) -> Result<i64, ApiError> {
    if (1..=1_000_000).contains(&quantity) {
        Ok(quantity)
    } else {
        let field = format!("line_items[{line}].quantity");
        Err(ApiError::invalid_field(field.clone(), format!("{field} must be a positive integer (at most 1,000,000)")))
    }
}

fn refund(store: &ShopifyShop, r: payloads::Refund, now_ms: i64) -> Result<RefundInput, ApiError> {
    let successful: Vec<Decimal> = r
        .transactions
        .iter()
        .filter(|t| t.kind.as_deref() == Some("refund") && t.status.as_deref() == Some("success"))
        .map(|t| t.amount.0)
        .collect();
    // Money actually returned; without transactions, what the lines were worth.
    let amount = if successful.is_empty() {
        r.refund_line_items
            .iter()
            .map(|l| {
                let from_set = l.subtotal_set.as_ref().and_then(|s| s.shop_money.as_ref()).map(|m| m.amount.0);
                from_set.or(l.subtotal.map(|s| s.0)).unwrap_or_default()
            })
            .sum()
    } else {
        successful.into_iter().sum()
    };
    let at = match r.processed_at.as_deref().or(r.created_at.as_deref()) {
        Some(t) => instant("processed_at", t)?,
        None => now_ms,
    };
    if amount > Decimal::from(1_000_000_000_000_000i64) {
        return Err(ApiError::invalid_field("transactions", "the refund is larger than any order revtrace accepts"));
    }
    // On the `total_price` basis the stored value is the order's total, which
    // no refund can exceed; on `subtotal_price` a refund may include shipping
    // the subtotal leaves out, so it is taken as Shopify reports it.
    let within_order_value = store.revenue_basis == RevenueBasis::TotalPrice;
    Ok(RefundInput { refund_id: r.id.0, order_id: r.order_id.0.into(), amount, occurred_at_ms: at, within_order_value })
}
