//! Request extractors: JSON bodies with field-path errors, and the caller's key.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use revtrace_store::{KeyKind, Principal, Store};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body parsed into `T`, keeping the raw bytes (idempotency digests).
///
/// Malformed JSON is a 400; a well-formed body whose fields do not fit is a
/// 422 naming the field (`line_items[0].quantity`); an oversized one is a 413.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", rejection.body_text())
            }
        })?;
        let value = parse(&raw)?;
        Ok(Self { value, raw })
    }
}

pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    // The plain parser is the fast path; the path-tracking one runs again
    // only to name the field of a body that failed.
    match serde_json::from_slice(raw) {
        Ok(value) => {
            refuse_nul(raw)?;
            Ok(value)
        }
        Err(_) => Err(explain::<T>(raw)),
    }
}

/// Text with a NUL character is refused everywhere (PostgreSQL's text cannot
/// hold it, and no id, title or message needs it), so both backends answer
/// the same. JSON can only carry NUL as the escape `\u0000`: the raw scan is
/// the fast path, and the walk names the field (or finds an escaped
/// backslash followed by `u0000`, which is not a NUL).
fn refuse_nul(raw: &[u8]) -> Result<(), ApiError> {
    if !raw.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw) else { return Ok(()) };
    match nul_path(&value, String::new()) {
        Some(path) => {
            let field = if path.is_empty() { "body".to_owned() } else { path };
            Err(ApiError::invalid_field(field.clone(), format!("{field} contains a NUL character (\\u0000)")))
        }
        None => Ok(()),
    }
}

/// The path of the first string or key holding a NUL, `line_items[0].title` style.
fn nul_path(value: &serde_json::Value, at: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(at),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| nul_path(item, format!("{at}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
            if key.contains('\0') { Some(path) } else { nul_path(item, path) }
        }),
        _ => None,
    }
}

/// A path or query value holding a NUL names nothing that can be stored.
/// A call's query parameters: a malformed query string is 400, NUL text 422.
pub fn query(uri: &axum::http::Uri) -> Result<std::collections::HashMap<String, String>, ApiError> {
    let axum::extract::Query(params) =
        axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(uri).map_err(|e| {
            ApiError::new(axum::http::StatusCode::BAD_REQUEST, "malformed_query", format!("bad query string: {e}"))
        })?;
    for (name, value) in &params {
        refuse_nul_text(name, value)?;
    }
    Ok(params)
}

/// Refuses a parameter the call does not take: a misspelled `form=` would
/// otherwise be a silent default.
pub fn refuse_unknown(params: &std::collections::HashMap<String, String>, takes: &[&str]) -> Result<(), ApiError> {
    match params.keys().filter(|k| !takes.contains(&k.as_str())).min() {
        Some(unknown) => Err(ApiError::invalid_field(
            unknown.clone(),
            format!("unknown query parameter {unknown}; this call takes {}", takes.join(", ")),
        )),
        None => Ok(()),
    }
}

pub fn refuse_nul_text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::invalid_field(field, format!("{field} contains a NUL character")));
    }
    Ok(())
}

/// Why `raw` does not parse as `T`: 400 for bad JSON, 422 naming the field.
fn explain<T: DeserializeOwned>(raw: &[u8]) -> ApiError {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value: Result<T, ApiError> = serde_path_to_error::deserialize(&mut de).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // serde may notice a type mismatch before the syntax error (`[1, 2`):
        // a body that is not JSON at all is malformed, whatever came first.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(raw);
        match (inner.classify(), well_formed) {
            (serde_json::error::Category::Data, Ok(_)) => {
                let message = strip_position(&inner.to_string());
                ApiError::invalid_field(field_name(&path, &message), message)
            }
            (_, Err(syntax)) => malformed(&syntax),
            (_, Ok(_)) => malformed(&inner),
        }
    });
    match value {
        Err(error) => error,
        Ok(_) => match de.end() {
            Err(trailing) => malformed(&trailing),
            // Unreachable in practice: the fast path failed on the same bytes.
            Ok(()) => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "the body could not be read"),
        },
    }
}

fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {error}"))
}

/// serde reports a missing field at its parent's path; name the field itself.
fn field_name(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (missing, path) {
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "body".to_owned(),
        (None, path) => path.to_owned(),
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The bearer token of the `Authorization` header, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim())
}

/// Ingest accepts a secret key as Bearer, else the body's public `company_key`.
pub async fn ingest_principal(
    store: &dyn Store,
    headers: &HeaderMap,
    company_key: Option<&str>,
) -> Result<Principal, ApiError> {
    let key = bearer(headers).or(company_key).ok_or_else(|| {
        ApiError::unauthorized("send the public company_key in the body or a secret key as 'Authorization: Bearer …'")
    })?;
    store.authenticate(key).await?.ok_or_else(|| ApiError::unauthorized("unknown key"))
}

/// A call signed with one of the company's secret keys (reads, and the
/// server-side writes): who it is for. Extracted before any body, so a call
/// without a valid key learns that first.
pub struct SecretKey(pub Principal);

impl FromRequestParts<crate::AppState> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &crate::AppState) -> Result<Self, ApiError> {
        secret_principal(&*state.store, &parts.headers).await.map(SecretKey)
    }
}

/// Reads need a secret key as Bearer.
pub async fn secret_principal(store: &dyn Store, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let key =
        bearer(headers).ok_or_else(|| ApiError::unauthorized("send a secret key as 'Authorization: Bearer …'"))?;
    match store.authenticate(key).await? {
        Some(p) if p.kind == KeyKind::Secret => Ok(p),
        Some(_) => Err(ApiError::unauthorized("this call needs a secret key; the company key is for ingest only")),
        None => Err(ApiError::unauthorized("unknown key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        quantity: i64,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[test]
    fn field_errors_name_the_path() {
        let e = parse::<Body>(br#"{"name": "x", "items": [{"quantity": "two"}]}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("items[0].quantity"));
        let e = parse::<Body>(br#"{"items": []}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        let e = parse::<Body>(br#"{"name": "x", "items": [{}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[0].quantity"));
    }

    #[test]
    fn nul_characters_are_refused_with_their_path() {
        let e = parse::<Body>(br#"{"name": "x", "items": [], "extra": {"t": ["ok", "a\u0000b"]}}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("invalid_field", Some("extra.t[1]")));
        let e = parse::<Body>(br#"{"name": "a\u0000", "items": []}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        // An escaped backslash before "u0000" is not a NUL.
        assert!(parse::<Body>(br#"{"name": "a\\u0000", "items": []}"#).is_ok());
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        for body in [&b"{"[..], b"{\"name\": }", b"", b"{} trailing"] {
            let e = parse::<Body>(body).unwrap_err();
            assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "malformed_json"), "{body:?}");
        }
    }
}
