//! Field checks of the ingest bodies: each turns a wire value into a domain
//! value or a 422 naming the field.

use axum::{
    body::Bytes,
    http::{HeaderMap, StatusCode},
};
use revtrace_core::{Currency, Fingerprint};
use revtrace_store::{IdempotencyKey, request_digest};

use crate::{
    error::ApiError,
    wire::{Amount, Instant},
};

/// An instant more than this far in the future is refused.
const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;

pub(super) fn fingerprint(field: &str, raw: &str) -> Result<Fingerprint, ApiError> {
    Fingerprint::parse(raw).map_err(|e| ApiError::invalid_field(field, e.to_string()))
}

pub(super) fn optional_fingerprint(field: &str, raw: Option<&str>) -> Result<Option<Fingerprint>, ApiError> {
    raw.filter(|s| !s.is_empty()).map(|s| fingerprint(field, s)).transpose()
}

pub(super) fn text_id(field: &str, raw: &str, max: usize) -> Result<(), ApiError> {
    if raw.is_empty() || raw.len() > max {
        return Err(ApiError::invalid_field(field, format!("{field} is 1 to {max} characters")));
    }
    Ok(())
}

/// A slug: 1–64 characters of letters, digits, '_', '-' or '.'.
pub(super) fn profile_slug(raw: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field("ai_profile_id", "ai_profile_id is 1 to 64 letters, digits, '_', '-' or '.'"))
    }
}

pub(super) fn instant(field: &str, at: Option<Instant>, now_ms: i64) -> Result<i64, ApiError> {
    let at_ms = at.map(|t| t.as_millisecond()).unwrap_or(now_ms);
    if at_ms > now_ms + MAX_FUTURE_MS {
        return Err(ApiError::invalid_field(field, format!("{field} is more than 5 minutes in the future")));
    }
    Ok(at_ms)
}

pub(super) fn currency(raw: &str) -> Result<Currency, ApiError> {
    Currency::parse(raw).map_err(|e| ApiError::invalid_field("currency", e.to_string()))
}

pub(super) fn positive_quantity(field: &str, quantity: i64) -> Result<i64, ApiError> {
    if quantity > 0 && quantity <= 1_000_000 {
        Ok(quantity)
    } else {
        Err(ApiError::invalid_field(field, format!("{field} is a positive integer")))
    }
}

/// The largest amount accepted: a quadrillion, far beyond any order, and small
/// enough that quantity × price and the USD conversion stay exact.
const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// A money amount: not negative, at most [`MAX_AMOUNT`].
pub(super) fn amount(field: &str, amount: Amount) -> Result<rust_decimal::Decimal, ApiError> {
    if amount.0.is_sign_negative() && !amount.0.is_zero() {
        return Err(ApiError::invalid_field(field, format!("{field} must not be negative")));
    }
    if amount.0 > rust_decimal::Decimal::from(MAX_AMOUNT) {
        return Err(ApiError::invalid_field(field, format!("{field} is larger than {MAX_AMOUNT}")));
    }
    Ok(amount.0)
}

/// The idempotency id of a call: the `Idempotency-Key` header or the body field.
pub(super) fn idempotency(
    headers: &HeaderMap,
    body_id: Option<&str>,
    raw: &Bytes,
) -> Result<Option<IdempotencyKey>, ApiError> {
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
    Ok(Some(IdempotencyKey::new(id.to_owned(), request_digest(&value))))
}

/// Shopify's `/cart.js` token carries a `?key=…` suffix that orders do not.
pub fn strip_cart_key(token: &str) -> &str {
    token.split_once('?').map_or(token, |(bare, _)| bare)
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
