//! Health, readiness, metrics, the OpenAPI document, cart tokens and visits.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness_answer() {
    let Some(app) = spawn_app().await else { return };
    let h = app.get("/healthz", None).await;
    assert_eq!((h.status, h.body["status"].as_str()), (200, Some("ok")));
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ready")));
}

#[tokio::test]
async fn metrics_count_requests_rejections_decisions_and_batches() {
    let Some(app) = spawn_app().await else { return };
    app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z")).await;
    app.post_raw("/analytics/cart_events", "{", &[]).await;
    let response = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for needle in [
        "revtrace_http_requests_total{method=\"POST\",route=\"/analytics/cart_events\",status=\"201\"}",
        "revtrace_rejections_total{code=\"malformed_json\"}",
        "revtrace_decisions_total{reason=\"NO_TICKET\"}",
        match crate::BACKEND {
            Backend::Sqlite => "revtrace_commit_batch_size",
            Backend::Postgres => "revtrace_pg_transaction_attempts",
        },
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let Some(app) = spawn_app().await else { return };
    let doc = app.get("/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/analytics/tickets", "post"),
        ("/analytics/cart_events", "post"),
        ("/analytics/checkout_events", "post"),
        ("/analytics/cart_tokens", "post"),
        ("/analytics/visits", "post"),
        ("/analytics/refunds", "post"),
        ("/webhooks/shopify", "post"),
        ("/v1/company", "get"),
        ("/v1/tickets", "get"),
        ("/v1/funnel", "get"),
        ("/", "get"),
        ("/sdk/revtrace.js", "get"),
        ("/v1/events/{event_id}/attribution", "get"),
        ("/v1/revenue-impact", "get"),
        ("/v1/revenue-impact/daily", "get"),
        ("/v1/tickets/{ticket_id}/revenue", "get"),
        ("/v1/export/revenue-impact", "get"),
        ("/v1/products", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing from /openapi.json");
    }
    // Every documented path is actually served (no 404 from the fallback).
    for path in paths.keys() {
        let url = format!("{}{}", app.base, path.replace("{event_id}", "evt_x").replace("{ticket_id}", "T"));
        let status = app.client.get(url).send().await.unwrap().status();
        assert_ne!(status, 404, "{path}: {status}");
    }
}

#[tokio::test]
async fn cart_tokens_are_recorded_without_their_key_suffix() {
    let Some(app) = spawn_app().await else { return };
    let a = app
        .ingest("/analytics/cart_tokens", json!({"cart_token": "c1-7a8b?key=fe12", "user_fingerprint": "FP-1"}))
        .await;
    assert_eq!(a.status, 204);
    // A second call for the same token updates the pairing rather than adding a row.
    app.ingest("/analytics/cart_tokens", json!({"cart_token": "c1-7a8b", "user_fingerprint": "FP-2"})).await;
    let pairs = app.db.rows("SELECT cart_token, user_fingerprint FROM cart_tokens").await;
    assert_eq!(pairs, vec![vec![json!("c1-7a8b"), json!("FP-2")]]);
    let bad = app.ingest("/analytics/cart_tokens", json!({"cart_token": "", "user_fingerprint": "FP-1"})).await;
    assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (422, Some("cart_token")));
}

#[tokio::test]
async fn visits_count_distinct_visitors_per_company_day() {
    let Some(app) = spawn_app_with("America/New_York", 24).await else { return };
    for at in ["2026-09-01T12:00:00Z", "2026-09-01T13:00:00Z", "2026-09-02T02:00:00Z"] {
        let a = app.ingest("/analytics/visits", json!({"user_fingerprint": "FP-1", "occurred_at": at})).await;
        assert_eq!(a.status, 204);
    }
    // 02:00 UTC on the 2nd is still the 1st in New York: one visitor-day.
    assert_eq!(app.count("visitor_days").await, 1);
    let a = app
        .ingest("/analytics/visits", json!({"user_fingerprint": "FP-1", "occurred_at": "2026-09-02T12:00:00Z"}))
        .await;
    assert_eq!(a.status, 204);
    assert_eq!(app.count("visitor_days").await, 2);
}

#[tokio::test]
async fn concurrent_calls_share_commits_and_duplicates_store_once() {
    let Some(app) = spawn_app().await else { return };
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            // Half the calls race on one order id.
            let order_id = if i % 2 == 0 { "RACE".to_owned() } else { format!("O-{i}") };
            app.checkout(order(Some("FP-1"), &order_id, "10.00", "2026-09-01T10:00:00Z")).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 33);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 31);
    assert_eq!(app.count("events").await, 33);
}
