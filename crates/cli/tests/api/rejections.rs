//! Every rejection answers the SPEC's JSON error and stores nothing.

use serde_json::json;

use crate::helpers::*;

/// Row counts of every table a rejected call could touch.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    app.db
        .counts(&[
            "events",
            "line_items",
            "tickets",
            "messages",
            "cart_positions",
            "idempotency_keys",
            "cart_tokens",
            "visitor_days",
        ])
        .await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let Some(app) = spawn_app().await else { return };
    let before = snapshot(&app).await;
    for body in ["{", "{\"company_key\": }", "", "[1, 2", "{} {}"] {
        let a = app.post_raw("/analytics/cart_events", body, &[]).await;
        assert_eq!((a.status, a.error_code()), (400, "malformed_json"), "{body:?}");
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let Some(app) = spawn_app().await else { return };
    let before = snapshot(&app).await;
    let huge = format!("{{\"company_key\": \"{}\", \"pad\": \"{}\"}}", app.company_key, "x".repeat(2 * 1024 * 1024));
    let a = app.post_raw("/analytics/checkout_events", huge, &[]).await;
    assert_eq!((a.status, a.error_code()), (413, "payload_too_large"));
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn unknown_or_missing_keys_are_401() {
    let Some(app) = spawn_app().await else { return };
    let before = snapshot(&app).await;
    let mut body = add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z");
    body["company_key"] = json!("pk_nope");
    let a = app.post_raw("/analytics/cart_events", body.to_string(), &[]).await;
    assert_eq!((a.status, a.error_code()), (401, "unauthorized"));
    let no_key = add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z");
    let a = app.post_raw("/analytics/cart_events", no_key.to_string(), &[]).await;
    assert_eq!(a.status, 401);
    let a = app.post_raw("/analytics/cart_events", no_key.to_string(), &[("authorization", "Bearer sk_wrong")]).await;
    assert_eq!(a.status, 401);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn invalid_fields_are_422_and_name_the_field() {
    let Some(app) = spawn_app().await else { return };
    let before = snapshot(&app).await;
    let good = add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z");
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("user_fingerprint", json!("has space"), "user_fingerprint"),
        ("user_fingerprint", json!("x".repeat(129)), "user_fingerprint"),
        ("event_type", json!("ITEM_STOLEN"), "event_type"),
        ("quantity", json!(0), "quantity"),
        ("quantity", json!(-1), "quantity"),
        ("quantity", json!(1.5), "quantity"),
        ("quantity", json!("two"), "quantity"),
        ("unit_price", json!("-1.00"), "unit_price"),
        ("unit_price", json!("abc"), "unit_price"),
        ("currency", json!("EURO"), "currency"),
        ("occurred_at", json!("yesterday"), "occurred_at"),
        ("occurred_at", json!("2999-01-01T00:00:00Z"), "occurred_at"),
    ];
    for (field, value, expected_field) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let a = app.cart(body).await;
        assert_eq!((a.status, a.error_code()), (422, "invalid_field"), "{field} = {value}");
        assert_eq!(a.body["error"]["field"], expected_field, "{field} = {value}");
        assert!(a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Required fields, named when missing.
    for field in ["user_fingerprint", "event_type", "product_id", "unit_price", "currency"] {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        let a = app.cart(body).await;
        assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some(field)));
    }
    let mut no_quantity = good.clone();
    no_quantity.as_object_mut().unwrap().remove("quantity");
    assert_eq!(app.cart(no_quantity).await.body["error"]["field"], "quantity");

    // Amounts too large for exact arithmetic are refused, not a crash.
    let mut huge = good.clone();
    huge["unit_price"] = json!("79228162514264337593543950335");
    huge["quantity"] = json!(2);
    let a = app.cart(huge).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("unit_price")));
    // Each part is allowed, but their USD value in cents would leave i64:
    // the store's rule refuses it and names the field.
    let mut past_i64 = good.clone();
    past_i64["unit_price"] = json!("999999999999999");
    past_i64["quantity"] = json!(1_000_000);
    let a = app.cart(past_i64).await;
    assert_eq!(
        (a.status, a.error_code(), a.body["error"]["field"].as_str()),
        (422, "invalid_field", Some("unit_price"))
    );
    let a = app.checkout(order(Some("FP-1"), "big", "79228162514264337593543950335", "2026-09-01T10:00:00Z")).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("line_items[0].unit_price")));
    assert_eq!(app.get("/readyz", None).await.status, 200, "the writer is still up");

    let mut bad_line = order(Some("FP-1"), "9", "10.00", "2026-09-01T10:00:00Z");
    bad_line["line_items"][0]["quantity"] = json!("many");
    let a = app.checkout(bad_line).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("line_items[0].quantity")));

    let a = app.ticket(json!({"ticket_id": "T1", "channel": "sms", "fingerprint": "FP-1", "messages": []})).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("channel")));
    let a = app
        .ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "m", "sent_at": "2026-09-01T09:00:00Z", "role": "robot"}]}))
        .await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("messages[0].role")));
    let a = app
        .ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "m", "sent_at": "2026-09-01T09:00:00Z", "role": "ai", "metadata": "nudge"}]}))
        .await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("messages[0].metadata")));
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn removals_without_an_add_or_beyond_the_net_are_refused() {
    let Some(app) = spawn_app().await else { return };
    let removal = |kind: &str, quantity: Option<i64>| {
        let mut body = json!({"user_fingerprint": "FP-1", "event_type": kind, "product_id": "p1", "variant_id": "v1",
            "unit_price": "5.00", "currency": "USD", "occurred_at": "2026-09-01T10:00:00Z"});
        if let Some(q) = quantity {
            body["quantity"] = json!(q);
        }
        body
    };
    let before = snapshot(&app).await;
    let a = app.cart(removal("ITEM_REMOVED", Some(1))).await;
    assert_eq!((a.status, a.error_code()), (422, "orphan_removal"));
    let a = app.cart(removal("QUANTITY_DECREASED", Some(1))).await;
    assert_eq!((a.status, a.error_code()), (422, "orphan_removal"));
    assert_eq!(snapshot(&app).await, before);

    let mut add = add_to_cart("FP-1", "p1", 2, "5.00", "2026-09-01T09:00:00Z");
    add["variant_id"] = json!("v1");
    assert_eq!(app.cart(add).await.status, 201);
    let before = snapshot(&app).await;
    let a = app.cart(removal("QUANTITY_DECREASED", Some(3))).await;
    assert_eq!((a.status, a.error_code()), (422, "exceeds_net_quantity"));
    assert_eq!(snapshot(&app).await, before);
    // Another variant of the same product is another key.
    let mut other = removal("ITEM_REMOVED", Some(1));
    other["variant_id"] = json!("v2");
    assert_eq!(app.cart(other).await.error_code(), "orphan_removal");

    // ITEM_REMOVED without a quantity takes the whole net; a second one has nothing left.
    let a = app.cart(removal("ITEM_REMOVED", None)).await;
    assert_eq!((a.status, a.body["usd_value"].as_str()), (201, Some("-10.00")));
    let before = snapshot(&app).await;
    let a = app.cart(removal("ITEM_REMOVED", None)).await;
    assert_eq!((a.status, a.error_code()), (422, "exceeds_net_quantity"));
    assert_eq!(snapshot(&app).await, before);
    // QUANTITY_INCREASED needs no earlier add.
    let mut inc = add_to_cart("FP-2", "p9", 1, "5.00", "2026-09-01T09:00:00Z");
    inc["event_type"] = json!("QUANTITY_INCREASED");
    assert_eq!(app.cart(inc).await.status, 201);
}

#[tokio::test]
async fn a_duplicate_order_is_409_with_the_stored_event() {
    let Some(app) = spawn_app().await else { return };
    let first = app.checkout(order(Some("FP-1"), "5921371455677", "48.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(first.status, 201);
    let before = snapshot(&app).await;
    let mut again = order(Some("FP-2"), "5921371455677", "99.00", "2026-09-01T11:00:00Z");
    again["order_id"] = json!(5921371455677_u64);
    let a = app.checkout(again).await;
    assert_eq!((a.status, a.error_code()), (409, "duplicate_order"));
    assert_eq!(a.body["error"]["event_id"], first.body["event_id"]);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn idempotency_ids_replay_the_original_answer() {
    let Some(app) = spawn_app().await else { return };
    let body = order(Some("FP-1"), "A-1", "48.00", "2026-09-01T10:00:00Z");
    let first = app.ingest_secret("/analytics/checkout_events", &body, &[("idempotency-key", "k-1")]).await;
    assert_eq!(first.status, 201);
    let events = app.count("events").await;

    // Same id, same JSON value (other key order and white space): the original answer.
    let reordered = serde_json::to_string_pretty(&body).unwrap().replace("\"order_id\"", "  \"order_id\"");
    let bearer = format!("Bearer {}", app.secret_key);
    let retry = app
        .post_raw("/analytics/checkout_events", reordered, &[("authorization", &bearer), ("idempotency-key", "k-1")])
        .await;
    assert_eq!((retry.status, &retry.body), (201, &first.body));
    assert_eq!(app.count("events").await, events);

    // Same id, different body: 422, nothing stored.
    let other = order(Some("FP-1"), "A-2", "12.00", "2026-09-01T10:00:00Z");
    let a = app.ingest_secret("/analytics/checkout_events", &other, &[("idempotency-key", "k-1")]).await;
    assert_eq!((a.status, a.error_code()), (422, "idempotency_mismatch"));
    assert_eq!(app.count("events").await, events);

    // The body field works the same way, and ids are per company.
    let mut cart = add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z");
    cart["idempotency_id"] = json!("c-1");
    let a = app.cart(cart.clone()).await;
    let b = app.cart(cart).await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.body, b.body);
    assert_eq!(app.count("events").await, events + 1);

    // A retry of a call that got 409 gets the same 409.
    let dup = order(Some("FP-1"), "A-1", "48.00", "2026-09-01T10:00:00Z");
    let x = app.ingest_secret("/analytics/checkout_events", &dup, &[("idempotency-key", "k-9")]).await;
    let y = app.ingest_secret("/analytics/checkout_events", &dup, &[("idempotency-key", "k-9")]).await;
    assert_eq!((x.status, y.status), (409, 409));
    assert_eq!(x.body, y.body);
}

#[tokio::test]
async fn every_ingest_call_honours_idempotency_ids() {
    let Some(app) = spawn_app().await else { return };
    // Tickets: the retry gets the original summary even after more messages arrived.
    let mut ticket = grounded_ticket("T1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z");
    ticket["idempotency_id"] = json!("t-1");
    let first = app.ticket(ticket.clone()).await;
    app.ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
        {"message_id": "later", "sent_at": "2026-09-01T10:00:00Z", "role": "shopper"}]}))
        .await;
    let retry = app.ticket(ticket.clone()).await;
    assert_eq!((retry.status, &retry.body), (200, &first.body));
    ticket["ticket_id"] = json!("T2");
    let reused = app.ticket(ticket).await;
    assert_eq!((reused.status, reused.error_code()), (422, "idempotency_mismatch"));
    assert_eq!(app.count("tickets").await, 1);

    // Visits and cart tokens answer 204 again, and refuse a reused id.
    let visit = json!({"user_fingerprint": "FP-1", "occurred_at": "2026-09-01T10:00:00Z", "idempotency_id": "v-1"});
    assert_eq!(app.ingest("/analytics/visits", visit.clone()).await.status, 204);
    let again = app.ingest("/analytics/visits", visit).await;
    assert_eq!((again.status, &again.body), (204, &serde_json::Value::Null));
    let other = json!({"user_fingerprint": "FP-2", "idempotency_id": "v-1"});
    assert_eq!(app.ingest("/analytics/visits", other).await.error_code(), "idempotency_mismatch");
    assert_eq!(app.count("visitor_days").await, 1);

    let token = json!({"cart_token": "c1", "user_fingerprint": "FP-1"});
    let headers = [("idempotency-key", "c-1")];
    let bearer = format!("Bearer {}", app.secret_key);
    let auth = [("authorization", bearer.as_str()), headers[0]];
    assert_eq!(app.post_raw("/analytics/cart_tokens", token.to_string(), &auth).await.status, 204);
    assert_eq!(app.post_raw("/analytics/cart_tokens", token.to_string(), &auth).await.status, 204);
    let changed = json!({"cart_token": "c1", "user_fingerprint": "FP-9"});
    let a = app.post_raw("/analytics/cart_tokens", changed.to_string(), &auth).await;
    assert_eq!((a.status, a.error_code()), (422, "idempotency_mismatch"));
    assert_eq!(app.count("idempotency_keys").await, 3);
}

#[tokio::test]
async fn a_ticket_cannot_change_its_identity() {
    let Some(app) = spawn_app().await else { return };
    app.ticket(grounded_ticket("T1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z")).await;
    let before = snapshot(&app).await;
    let a = app.ticket(grounded_ticket("T1", "FP-2", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z")).await;
    assert_eq!(
        (a.status, a.error_code(), a.body["error"]["field"].as_str()),
        (409, "ticket_conflict", Some("fingerprint"))
    );
    let mut faq = grounded_ticket("T1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z");
    faq["channel"] = json!("faq");
    assert_eq!(app.ticket(faq).await.status, 409);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn unknown_endpoints_and_methods_are_json_errors() {
    let Some(app) = spawn_app().await else { return };
    let a = app.get("/v2/nothing", None).await;
    assert_eq!((a.status, a.error_code()), (404, "not_found"));
    let a = app.get("/analytics/cart_events", None).await;
    assert_eq!((a.status, a.error_code()), (405, "method_not_allowed"));
    let a = app.post_raw("/healthz", "{}", &[]).await;
    assert_eq!((a.status, a.error_code()), (405, "method_not_allowed"));
}
