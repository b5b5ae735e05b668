//! What one client may take: connections, time, and requests per minute.
//!
//! Rate limits are GCRA buckets (`governor`) per client address: a public
//! key's calls per (company, address), calls with an unknown key per
//! address, and optionally a secret key's calls. A refused call is 429
//! `rate_limited` with `Retry-After`, before anything is parsed past its key.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, RwLock},
    time::Duration,
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock as _};
use ipnet::IpNet;
use revtrace_store::KeyKind;

use crate::{AppState, MAX_BODY_BYTES, error::ApiError, extract::bearer};

/// The connection and rate limits of one server (`revtrace serve --help`).
#[derive(Clone, Debug)]
pub struct Limits {
    /// A request's headers must arrive within this (slow-loris clients).
    pub header_read_timeout: Duration,
    /// A connection that moves no byte for this long is closed. Longer than
    /// the request deadline, so it never cuts a request being answered.
    pub idle_timeout: Duration,
    /// Open connections at once; kept below the process's file limit.
    pub max_connections: usize,
    /// Open connections from one client address (trusted proxies excepted).
    pub max_connections_per_client: usize,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Public-key calls per minute per (company, client address), for
    /// companies without a setting of their own; 0: no limit.
    pub public_rate_per_minute: u32,
    /// Calls per minute per client address with a missing or unknown key; 0: no limit.
    pub unknown_key_rate_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 16_384,
            max_connections_per_client: 512,
            trusted_proxies: Vec::new(),
            // A storefront sends a few calls a minute per shopper; this leaves
            // room for many shoppers behind one address.
            public_rate_per_minute: 1_200,
            unknown_key_rate_per_minute: 120,
        }
    }
}

impl Limits {
    /// Limits for tests and benchmarks that send many calls from one address.
    pub fn unmetered() -> Self {
        Self { public_rate_per_minute: 0, unknown_key_rate_per_minute: 0, ..Self::default() }
    }

    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy,
    /// the right-most address of `X-Forwarded-For` that is not one.
    pub fn client_ip(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        if !self.is_trusted_proxy(peer) {
            return peer;
        }
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
        hops.into_iter().rev().find(|ip| !self.is_trusted_proxy(*ip)).unwrap_or(peer)
    }
}

/// The address a connection came from, set on every request by the listener.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// One keyed limiter per distinct rate, created on first use.
type Buckets<K> = RwLock<HashMap<u32, Arc<DefaultKeyedRateLimiter<K>>>>;

#[derive(Default)]
pub struct RateLimiters {
    public: Buckets<(String, IpAddr)>,
    secret: Buckets<String>,
    unknown: Buckets<IpAddr>,
}

fn quota(per_minute: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    // A quarter of a minute's calls may come at once (a page load, a retry).
    let burst = NonZeroU32::new((per_minute / 4).max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(rate).allow_burst(burst)
}

fn bucket<K: std::hash::Hash + Eq + Clone>(map: &Buckets<K>, per_minute: u32) -> Arc<DefaultKeyedRateLimiter<K>> {
    if let Some(found) = map.read().ok().and_then(|m| m.get(&per_minute).cloned()) {
        return found;
    }
    let mut map = map.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(per_minute).or_insert_with(|| Arc::new(DefaultKeyedRateLimiter::keyed(quota(per_minute)))).clone()
}

/// `Err(wait)` when `key` has used its bucket up.
fn take<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration> {
    limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(governor::clock::DefaultClock::default().now()))
}

impl RateLimiters {
    /// Forgets buckets that are full again, so memory follows active clients.
    pub fn forget_idle(&self) {
        for map in self.public.read().iter() {
            map.values().for_each(|l| l.retain_recent());
        }
        for map in self.secret.read().iter() {
            map.values().for_each(|l| l.retain_recent());
        }
        for map in self.unknown.read().iter() {
            map.values().for_each(|l| l.retain_recent());
        }
    }
}

fn limited(which: &'static str, wait: Duration) -> Response {
    metrics::counter!("revtrace_rate_limited_total", "limit" => which).increment(1);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests from this client; retry in {} s", seconds.max(1)),
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// Only the key of a body; every other field is skipped unread.
#[derive(serde::Deserialize)]
struct KeyOnly {
    company_key: Option<String>,
}

/// The rate-limit layer of the API routes (`/analytics/…`, `/v1/…`).
pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let metered = path.starts_with("/analytics/") || path.starts_with("/v1/");
    let Some(ClientAddr(peer)) = request.extensions().get::<ClientAddr>().copied() else {
        return next.run(request).await;
    };
    if !metered || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let limits = &state.limits;
    let client = limits.client_ip(peer.ip(), request.headers());
    let (request, key) = match bearer(request.headers()).map(str::to_owned) {
        Some(key) => (request, Some(key)),
        None if request.method() == Method::POST && path.starts_with("/analytics/") => {
            // The public key travels in the body: read it (within the body
            // limit) and hand the same bytes on to the handler.
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
                .into_response();
            };
            let key = serde_json::from_slice::<KeyOnly>(&bytes).ok().and_then(|k| k.company_key);
            (Request::from_parts(parts, Body::from(bytes)), key)
        }
        None => (request, None),
    };
    let principal = match &key {
        Some(key) => state.store.authenticate(key).await.ok().flatten(),
        None => None,
    };
    let verdict = match (&principal, &key) {
        (None, _) => match limits.unknown_key_rate_per_minute {
            0 => Ok(()),
            rate => take(&bucket(&state.rate_limiters.unknown, rate), &client).map_err(|w| ("unknown_key", w)),
        },
        (Some(p), _) if p.kind == KeyKind::Public => match p.rate_per_minute.unwrap_or(limits.public_rate_per_minute) {
            0 => Ok(()),
            rate => take(&bucket(&state.rate_limiters.public, rate), &(p.company_id.to_string(), client))
                .map_err(|w| ("public_key", w)),
        },
        (Some(p), Some(key)) => match p.rate_per_minute {
            None | Some(0) => Ok(()),
            Some(rate) => take(&bucket(&state.rate_limiters.secret, rate), key).map_err(|w| ("secret_key", w)),
        },
        (Some(_), None) => Ok(()),
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err((which, wait)) => limited(which, wait),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let limits = Limits { trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()], ..Limits::default() };
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.3".parse().unwrap());
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(limits.client_ip(proxy, &headers), "198.51.100.7".parse::<IpAddr>().unwrap());
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(limits.client_ip(stranger, &headers), stranger);
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_and_says_how_long() {
        let limiter = DefaultKeyedRateLimiter::keyed(quota(60));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..15 {
            assert!(take(&limiter, &ip).is_ok());
        }
        let wait = take(&limiter, &ip).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(take(&limiter, &"192.0.2.2".parse().unwrap()).is_ok(), "another client has its own bucket");
    }
}
