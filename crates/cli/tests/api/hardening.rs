//! What a hostile browser, a flaky network and a noisy neighbour must not
//! break (issue: reliability and security). One test per defect found,
//! each on both backends where a database is involved.

use std::time::Duration;

use revtrace_server::net::limits::Limits;
use serde_json::{Value, json};

use crate::{
    BACKEND,
    helpers::*,
    shopify::{SHOP, connect, deliver, paid_order},
};

const DAY: &str = "2026-09-01";

fn big_cart_add(fingerprint: &str, i: usize) -> Value {
    json!({"user_fingerprint": fingerprint, "event_type": "ITEM_ADDED", "product_id": format!("p-{i}"),
           "quantity": 9, "unit_price": "999999999999999", "currency": "USD", "occurred_at": format!("{DAY}T10:00:00Z")})
}

#[tokio::test]
async fn sums_past_i64_stay_exact_and_reports_never_fail() {
    let Some(app) = spawn_app().await else { return };
    // Each event is 9 × (10^15 − 1) USD, within the accepted limits; eleven
    // of them pass i64 cents (9.22·10^18) on one day and one rollup key.
    let mut accepted = 0i128;
    for i in 0..11 {
        let answer = app.cart(big_cart_add("FP-big", i)).await;
        match (answer.status, BACKEND) {
            (201, _) => accepted += 1,
            // PostgreSQL refuses a call that would overflow its connection's
            // counter shard; nothing of it is stored.
            (422, Backend::Postgres) => assert_eq!(answer.error_code(), "total_out_of_range"),
            other => panic!("{other:?}: {:?}", answer.body),
        }
    }
    if BACKEND == Backend::Sqlite {
        assert_eq!(accepted, 11, "SQLite spreads the sum over shards");
    }
    assert_eq!(app.count("events").await as i128, accepted);
    let cents = accepted * 9 * 99_999_999_999_999_900;
    let expected = format!("{}.{:02}", cents / 100, cents % 100);
    for query in [format!("from={DAY}&to={DAY}"), "from=2026-09-02&to=2026-09-02".to_owned()] {
        let report = app.report(&query).await;
        assert_eq!(report.status, 200, "{query}: {:?}", report.body);
    }
    let report = app.report(&format!("from={DAY}&to={DAY}")).await;
    assert_eq!(report.body["metrics"]["unattributed_checkout_revenue_usd"], "0.00");
    let daily = app.get(&format!("/v1/revenue-impact/daily?from={DAY}&to={DAY}"), Some(&app.secret_key)).await;
    assert_eq!(daily.status, 200, "{:?}", daily.body);
    // Cart GMV is attributed-only; the events are unattributed, so read the
    // exact total straight from the rollups, which reports sum in i128.
    let rows = app.db.rows("SELECT CAST(usd_cents AS TEXT) FROM rollups WHERE cart_type = 'CART_EVENT'").await;
    let stored: i128 = rows.iter().map(|r| r[0].as_str().unwrap().parse::<i128>().unwrap()).sum();
    assert_eq!(format!("{}.{:02}", stored / 100, stored % 100), expected);
    let events = app.db.rows("SELECT CAST(usd_cents AS TEXT) FROM events").await;
    let raw: i128 = events.iter().map(|r| r[0].as_str().unwrap().parse::<i128>().unwrap()).sum();
    assert_eq!(raw, stored, "the rollups hold exactly the events' sum");
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field_and_store_nothing() {
    let Some(app) = spawn_app().await else { return };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/analytics/cart_events",
            json!({"user_fingerprint": "FP-1", "event_type": "ITEM_ADDED", "product_id": "a\u{0}b",
            "quantity": 1, "unit_price": "5.00", "currency": "USD"}),
            "product_id",
        ),
        (
            "/analytics/checkout_events",
            json!({"user_fingerprint": "FP-1", "order_id": "o\u{0}1", "order_value": "5.00",
            "currency": "USD", "line_items": []}),
            "order_id",
        ),
        (
            "/analytics/checkout_events",
            json!({"user_fingerprint": "FP-1", "order_id": "o1", "order_value": "5.00",
            "currency": "USD", "line_items": [{"product_id": "p", "title": "x\u{0}", "quantity": 1, "unit_price": "5"}]}),
            "line_items[0].title",
        ),
        (
            "/analytics/tickets",
            json!({"ticket_id": "T\u{0}1", "channel": "chat", "fingerprint": "FP-1", "messages": []}),
            "ticket_id",
        ),
        (
            "/analytics/tickets",
            json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "m1", "sent_at": "2026-09-01T10:00:00Z", "role": "shopper", "text": "hi\u{0}"}]}),
            "messages[0].text",
        ),
        ("/analytics/cart_tokens", json!({"cart_token": "c\u{0}", "user_fingerprint": "FP-1"}), "cart_token"),
        (
            "/analytics/cart_events",
            json!({"user_fingerprint": "FP-1", "event_type": "ITEM_ADDED", "product_id": "p",
            "quantity": 1, "unit_price": "5.00", "currency": "USD", "idempotency_id": "k\u{0}"}),
            "idempotency_id",
        ),
    ];
    for (path, body, field) in cases {
        let answer = app.ingest(path, body).await;
        assert_eq!((answer.status, answer.error_code()), (422, "invalid_field"), "{path}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["field"], field, "{path}");
    }
    let refund = app
        .ingest_secret("/analytics/refunds", &json!({"refund_id": "r\u{0}", "order_id": "o1", "amount": "1"}), &[])
        .await;
    assert_eq!(refund.body["error"]["field"], "refund_id");
    for path in ["/v1/tickets/a%00b/revenue", "/v1/events/evt%00/attribution", "/v1/revenue-impact?ai_profile=a%00"] {
        let answer = app.get(path, Some(&app.secret_key)).await;
        assert_eq!(answer.status, 422, "{path}: {:?}", answer.body);
    }
    assert_eq!(app.db.counts(&["events", "tickets", "messages", "cart_tokens", "refunds"]).await, vec![0; 5]);
}

#[tokio::test]
async fn an_idempotency_key_never_answers_another_call() {
    let Some(app) = spawn_app().await else { return };
    let headers = [("idempotency-key", "same-key")];
    let cart = add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z");
    let first = app.ingest_secret("/analytics/cart_events", &cart, &headers).await;
    assert_eq!(first.status, 201);
    // A body valid as a cart event and as a checkout: stored as a checkout.
    let mut both = order(Some("FP-1"), "O-1", "48.00", "2026-09-01T10:05:00Z");
    for (k, v) in cart.as_object().unwrap() {
        both[k] = v.clone();
    }
    let checkout = app.ingest_secret("/analytics/checkout_events", &both, &headers).await;
    assert_eq!(checkout.status, 201, "{:?}", checkout.body);
    assert_ne!(checkout.body["event_id"], first.body["event_id"]);
    assert_eq!(app.count("events").await, 2);
    // Each replays its own answer.
    let again = app.ingest_secret("/analytics/checkout_events", &both, &headers).await;
    assert_eq!(again.body, checkout.body);
    let token = json!({"cart_token": "c1", "user_fingerprint": "FP-2", "occurred_at": "2026-09-01T10:00:00Z"});
    assert_eq!(app.ingest_secret("/analytics/cart_tokens", &token, &[("idempotency-key", "k2")]).await.status, 204);
    let visit = json!({"user_fingerprint": "FP-2", "cart_token": "c1", "occurred_at": "2026-09-01T10:00:00Z"});
    assert_eq!(app.ingest_secret("/analytics/visits", &visit, &[("idempotency-key", "k2")]).await.status, 204);
    let visitors = app.db.rows("SELECT count(*) FROM visitor_days WHERE user_fingerprint = 'FP-2'").await;
    assert_eq!(visitors[0][0], 1, "the visit was recorded");
}

#[tokio::test]
async fn every_error_is_json_whatever_layer_answers() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    let huge = vec![b' '; 6 * 1024 * 1024];
    let answer = app
        .post_raw("/webhooks/shopify", huge, &[("x-shopify-shop-domain", SHOP), ("x-shopify-topic", "orders/paid")])
        .await;
    assert_eq!((answer.status, answer.error_code()), (413, "payload_too_large"), "{:?}", answer.body);
    let answer = app.get("/v1/tickets/%FF%FE/revenue", Some(&app.secret_key)).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body["error"]["code"].is_string(), "{:?}", answer.body);
}

#[tokio::test]
async fn loose_timestamps_and_amounts_are_refused() {
    let Some(app) = spawn_app().await else { return };
    for at in
        ["2026-09-01T10:00:00+24:00", "2026-09-01T10:00:00+25:00", "0001-01-01T00:00:00Z", "-000001-01-01T00:00:00Z"]
    {
        let answer = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", at)).await;
        assert_eq!((answer.status, answer.body["error"]["field"].as_str()), (422, Some("occurred_at")), "{at}");
    }
    for price in [json!("1_000"), json!("+5"), json!("5."), json!(".5"), json!("1e3"), json!(5e-324), json!(-1)] {
        let mut body = add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z");
        body["unit_price"] = price.clone();
        let answer = app.cart(body).await;
        assert_eq!((answer.status, answer.body["error"]["field"].as_str()), (422, Some("unit_price")), "{price}");
    }
    let mut exact = add_to_cart("FP-1", "p1", 2, "5.00", "2026-09-01T10:00:00Z");
    exact["unit_price"] = json!(19.99);
    let answer = app.cart(exact).await;
    assert_eq!((answer.status, answer.body["usd_value"].as_str()), (201, Some("39.98")));
    assert_eq!(app.count("events").await, 1);
}

#[tokio::test]
async fn signed_shopify_payloads_with_impossible_values_are_refused() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    let mut cases = Vec::new();
    let mut negative = paid_order(1001, None, Some("FP-1"), None);
    negative["total_price"] = json!("-52.40");
    cases.push(("total_price", negative));
    for quantity in [-5i64, 0, 1 << 62] {
        let mut o = paid_order(1002, None, Some("FP-1"), None);
        o["line_items"][0]["quantity"] = json!(quantity);
        cases.push(("line_items[0].quantity", o));
    }
    let mut price = paid_order(1003, None, Some("FP-1"), None);
    price["line_items"][0]["price"] = json!("-48.00");
    cases.push(("line_items[0].price", price));
    for (i, (field, body)) in cases.into_iter().enumerate() {
        let answer = deliver(&app, "orders/paid", &format!("wh-bad-{i}"), &body).await;
        assert_eq!((answer.status, answer.body["error"]["field"].as_str()), (422, Some(field)), "{:?}", answer.body);
    }
    assert_eq!(app.count("events").await, 0);
    // A $52.40 order, then refunds of −50 and of 10^15 on it.
    assert_eq!(deliver(&app, "orders/paid", "wh-ok", &paid_order(1004, None, Some("FP-1"), None)).await.status, 200);
    let refund = |id: u64, amount: &str| {
        json!({"id": id, "order_id": 1004, "created_at": "2026-09-15T10:00:00Z",
               "transactions": [{"kind": "refund", "status": "success", "amount": amount}], "refund_line_items": []})
    };
    let negative = deliver(&app, "refunds/create", "wh-r1", &refund(1, "-50.00")).await;
    assert_eq!(negative.status, 422, "{:?}", negative.body);
    let huge = deliver(&app, "refunds/create", "wh-r2", &refund(2, "999999999999999")).await;
    assert_eq!((huge.status, huge.error_code()), (422, "refund_exceeds_order"), "{:?}", huge.body);
    assert_eq!(deliver(&app, "refunds/create", "wh-r3", &refund(3, "52.40")).await.status, 200);
    assert_eq!(app.count("refunds").await, 1);
}

#[tokio::test]
async fn a_flooding_public_key_is_limited_per_client_and_company() {
    let limits = Limits { public_rate_per_minute: 600, unknown_key_rate_per_minute: 60, ..Limits::default() };
    let Some(app) = spawn_app_limited("UTC", 24, limits).await else { return };
    let visit = json!({"user_fingerprint": "FP-1"});
    let mut statuses = Vec::new();
    for _ in 0..200 {
        statuses.push(app.ingest("/analytics/visits", visit.clone()).await);
    }
    let limited: Vec<&Answer> = statuses.iter().filter(|a| a.status == 429).collect();
    assert!(!limited.is_empty(), "a burst of 150 at 600/min, then refusals");
    assert!(statuses.iter().take(150).all(|a| a.status == 204));
    assert_eq!(limited[0].error_code(), "rate_limited");
    // The secret key of the same company is not limited by it.
    let secret = app.ingest_secret("/analytics/visits", &visit, &[]).await;
    assert_eq!(secret.status, 204);
    let report = app.report("").await;
    assert_eq!(report.status, 200);
    // Unknown keys are limited per address: 15 at once, then 429.
    let mut unknown = Vec::new();
    for _ in 0..30 {
        unknown.push(
            app.post_raw(
                "/analytics/visits",
                json!({"company_key": "pk_nope", "user_fingerprint": "F"}).to_string(),
                &[],
            )
            .await
            .status,
        );
    }
    assert!(unknown.contains(&401) && unknown.contains(&429), "{unknown:?}");
    // Retry-After is sent (the bucket refills 10 a second: ask until refused).
    let mut refused = None;
    for _ in 0..100 {
        let response = app
            .client
            .post(format!("{}/analytics/visits", app.base))
            .body(json!({"company_key": app.company_key, "user_fingerprint": "FP-1"}).to_string())
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("a 429 within 100 calls");
    assert!(refused.headers().get("retry-after").is_some());
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("revtrace_rate_limited_total"), "{metrics}");
    // A per-company setting from the CLI takes effect within the key cache's TTL.
    let out = app.cli(&["company", "keys", "public-rate", "--company", &app.company_id, "--rate-per-minute", "0"]);
    assert!(out.status.success(), "{out:?}");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(app.ingest("/analytics/visits", visit.clone()).await.status, 204);
}

#[tokio::test]
async fn secret_keys_rotate_without_downtime() {
    let Some(app) = spawn_app().await else { return };
    let out = app.cli(&["company", "keys", "add", "--company", &app.company_id, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
    let new_key = keys["added"].as_str().unwrap().to_owned();
    assert_eq!(keys["secret_keys"].as_array().unwrap().len(), 2);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&app.secret_key), "old secrets are never printed");
    assert_eq!(app.get("/v1/company", Some(&new_key)).await.status, 200);
    assert_eq!(app.get("/v1/company", Some(&app.secret_key)).await.status, 200);
    let old_prefix = &app.secret_key[..10];
    let out = app.cli(&["company", "keys", "revoke", "--company", &app.company_id, old_prefix]);
    assert!(out.status.success(), "{out:?}");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(app.get("/v1/company", Some(&app.secret_key)).await.status, 401);
    assert_eq!(app.get("/v1/company", Some(&new_key)).await.status, 200);
    let last = app.cli(&["company", "keys", "revoke", "--company", &app.company_id, &new_key[..10]]);
    assert!(!last.status.success(), "the last key stays");
    assert!(String::from_utf8_lossy(&last.stderr).contains("only secret key"), "{last:?}");
}

#[tokio::test]
async fn a_client_holding_sockets_slows_only_itself() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = Limits {
        max_connections_per_client: 20,
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        ..Limits::unmetered()
    };
    let Some(app) = spawn_app_limited("UTC", 24, limits).await else { return };
    let address = app.base.trim_start_matches("http://").to_owned();
    // One client (127.0.0.1) holds 40 sockets: half idle, half with unfinished headers.
    let mut held = Vec::new();
    for i in 0..40 {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        if i % 2 == 1 {
            let _ = socket.write_all(b"POST /analytics/visits HTTP/1.1\r\nHost: shop\r\n").await;
        }
        held.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another client address on this machine is served at once.
    let other =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    for path in ["/healthz", "/readyz"] {
        let answer = other.get(format!("{}{path}", app.base)).timeout(Duration::from_secs(2)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
    }
    // The holder itself is over its cap: its next connection is closed unanswered.
    let fresh =
        reqwest::Client::new().get(format!("{}/healthz", app.base)).timeout(Duration::from_secs(2)).send().await;
    assert!(fresh.is_err(), "{fresh:?}");
    // Past the header-read and idle timeouts every held socket has been closed.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    for socket in &mut held {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) => assert!(n == 0 || buf.starts_with(b"HTTP/1.1 408"), "still open: {n}"),
            Ok(Err(_)) => {}
            Err(_) => panic!("a held socket was never closed"),
        }
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = reqwest::Client::new().get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(again.status(), 200);
}
