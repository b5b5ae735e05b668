//! Shopify webhooks: payloads in Shopify's REST shape, signed in the test with
//! its own HMAC (not the service's code), delivered to the real server.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;

pub(crate) const SHOP: &str = "glow-skincare.myshopify.com";
pub(crate) const SECRET: &str = "shpss_5f3c0e2d9b7a41c6";
const ORDER_ID: u64 = 820_982_911_946_154_508; // above 2^53: a float would round it

pub(crate) fn sign(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

pub(crate) async fn connect(app: &TestApp, extra: &[&str]) {
    let mut args = vec!["shopify", "connect", "--company", &app.company_id, "--shop", SHOP, "--secret", SECRET];
    args.extend_from_slice(extra);
    let out = app.cli(&args);
    assert!(out.status.success(), "{out:?}");
}

/// Delivers `body` as Shopify would: signed with `secret`, with its headers.
async fn deliver_signed(app: &TestApp, topic: &str, webhook_id: &str, body: &str, secret: &str) -> Answer {
    let signature = sign(body.as_bytes(), secret);
    app.post_raw(
        "/webhooks/shopify",
        body.to_owned(),
        &[
            ("content-type", "application/json"),
            ("x-shopify-topic", topic),
            ("x-shopify-shop-domain", SHOP),
            ("x-shopify-hmac-sha256", &signature),
            ("x-shopify-webhook-id", webhook_id),
            ("x-shopify-api-version", "2026-07"),
            ("x-shopify-triggered-at", "2026-09-14T15:47:15Z"),
        ],
    )
    .await
}

pub(crate) async fn deliver(app: &TestApp, topic: &str, webhook_id: &str, body: &Value) -> Answer {
    deliver_signed(app, topic, webhook_id, &body.to_string(), SECRET).await
}

fn money(amount: &str, presentment: &str) -> Value {
    json!({"shop_money": {"amount": amount, "currency_code": "USD"},
           "presentment_money": {"amount": presentment, "currency_code": "EUR"}})
}

/// An `orders/paid` body in the REST Order shape (abridged, every field revtrace reads).
pub(crate) fn paid_order(id: u64, cart_token: Option<&str>, property: Option<&str>, note: Option<&str>) -> Value {
    let mut properties = vec![json!({"name": "engraving", "value": "Happy Birthday"})];
    if let Some(fp) = property {
        properties.push(json!({"name": "_revtrace_fingerprint", "value": fp}));
    }
    let mut notes = vec![json!({"name": "gift wrap", "value": "yes"})];
    if let Some(fp) = note {
        notes.push(json!({"name": "_revtrace_fingerprint", "value": fp}));
    }
    json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "name": "#1001", "order_number": 1001, "number": 1,
        "cart_token": cart_token,
        "checkout_token": "bd5a8aa1ecd019dd3520ff791ee3a24c",
        "token": "b1946ac92492d2347c6235b4d2611184",
        "email": "bob.norman@mail.example.com",
        "created_at": "2026-09-14T11:47:10-04:00",
        "processed_at": "2026-09-14T11:47:14-04:00",
        "updated_at": "2026-09-14T11:47:15-04:00",
        "cancelled_at": null,
        "currency": "USD", "presentment_currency": "EUR",
        "financial_status": "paid", "test": false,
        "total_price": "52.40", "subtotal_price": "48.00", "total_tax": "4.40", "total_discounts": "0.00",
        "total_price_set": money("52.40", "48.51"), "subtotal_price_set": money("48.00", "44.44"),
        "customer": {"id": 115_310_627_314_723_954u64, "email": "bob.norman@mail.example.com", "first_name": "Bob"},
        "note_attributes": notes,
        "line_items": [{
            "id": 466_157_049, "admin_graphql_api_id": "gid://shopify/LineItem/466157049",
            "product_id": 632_910_392, "variant_id": 39_072_856, "sku": "HBC-50",
            "title": "Hydra Barrier Cream", "name": "Hydra Barrier Cream - 50 ml", "variant_title": "50 ml",
            "quantity": 1, "current_quantity": 1, "price": "48.00", "price_set": money("48.00", "44.44"),
            "total_discount": "0.00", "discount_allocations": [], "tax_lines": [],
            "properties": properties
        }],
        "refunds": []
    })
}

async fn grounded_conversation(app: &TestApp, fingerprint: &str) {
    let t = app.ticket(grounded_ticket("TK-2291", fingerprint, "2026-09-14T15:02:11Z", "2026-09-14T15:02:14Z")).await;
    assert_eq!(t.status, 200);
}

#[tokio::test]
async fn a_paid_order_is_attributed_through_its_recorded_cart_token() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    grounded_conversation(&app, "FP-8a3c").await;
    let token = "Z2NwLWV1cm9wZS13ZXN0NDowMUhaNEYzN0cxRTI1WUU4TjBEUFY1REFZUA";
    // The browser records /cart.js's token, which carries ?key=…; the order's does not.
    let recorded = app
        .ingest(
            "/analytics/cart_tokens",
            json!({"cart_token": format!("{token}?key=824bdj25"), "user_fingerprint": "FP-8a3c"}),
        )
        .await;
    assert_eq!(recorded.status, 204);

    // The line-item property names someone else: the cart token comes first.
    let a = deliver(&app, "orders/paid", "wh-1", &paid_order(ORDER_ID, Some(token), Some("FP-other"), None)).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        (a.body["status"].as_str(), a.body["reason"].as_str(), a.body["fingerprint_source"].as_str()),
        (Some("processed"), Some("ATTRIBUTED"), Some("cart_token"))
    );
    let receipt = app.receipt(a.body["event_id"].as_str().unwrap()).await.body;
    assert_eq!(receipt["order_id"], ORDER_ID.to_string(), "order ids are kept exactly");
    assert_eq!(receipt["source_category"], "SHOPIFY");
    assert_eq!(receipt["user_fingerprint"], "FP-8a3c");
    assert_eq!(receipt["occurred_at"], "2026-09-14T15:47:14Z", "the rules apply at processed_at");
    assert_eq!(receipt["winner"]["ticket_id"], "TK-2291");

    let (_, _, table) = app.export_bytes("from=2026-09-14&to=2026-09-14").await;
    let row: Value = serde_json::from_slice(table.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        (&row["order_id"], &row["cart_value"], &row["usd_cart_value"], &row["source_category"]),
        (&json!(ORDER_ID.to_string()), &json!("52.40"), &json!("52.40"), &json!("SHOPIFY")),
        "the total_price basis, in the shop currency"
    );
    let stored = app
        .db
        .rows(
            "SELECT presentment_currency, presentment_amount, shop_domain,
                    (SELECT count(*) FROM line_items l WHERE l.event_pk = e.event_pk)
             FROM events e",
        )
        .await;
    assert_eq!(stored, vec![vec![json!("EUR"), json!("48.51"), json!(SHOP), json!(1)]]);
    let item = app.db.rows("SELECT product_id, variant_id, sku, unit_price FROM line_items").await;
    assert_eq!(item, vec![vec![json!("632910392"), json!("39072856"), json!("HBC-50"), json!("48.00")]]);
}

#[tokio::test]
async fn the_fingerprint_falls_back_to_the_line_property_then_the_note_attribute() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &["--revenue-basis", "subtotal_price"]).await;
    grounded_conversation(&app, "FP-8a3c").await;
    let cases = [
        // An unrecorded cart token falls through to the line-item property.
        (paid_order(1, Some("c1-unknown"), Some("FP-8a3c"), Some("FP-note")), Some("line_item_property"), "FP-8a3c"),
        // A property that is no fingerprint is skipped for the note attribute.
        (paid_order(2, None, Some("not a fingerprint!"), Some("FP-note")), Some("note_attribute"), "FP-note"),
        (paid_order(3, None, None, None), None, ""),
    ];
    for (i, (body, source, fingerprint)) in cases.into_iter().enumerate() {
        let a = deliver(&app, "orders/paid", &format!("wh-{i}"), &body).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(a.body["fingerprint_source"].as_str(), source, "case {i}");
        let receipt = app.receipt(a.body["event_id"].as_str().unwrap()).await.body;
        assert_eq!(receipt["user_fingerprint"].as_str().unwrap_or(""), fingerprint, "case {i}");
        if source.is_none() {
            assert_eq!(receipt["reason"], "NO_FINGERPRINT");
        }
    }
    let report = app.report("from=2026-09-14&to=2026-09-14").await.body;
    assert_eq!(report["metrics"]["checkout_revenue_usd"], "48.00", "the subtotal_price basis");
}

#[tokio::test]
async fn unsigned_or_unknown_deliveries_are_refused_and_store_nothing() {
    let Some(app) = spawn_app().await else { return };
    let body = paid_order(ORDER_ID, None, Some("FP-1"), None).to_string();
    let unknown = deliver_signed(&app, "orders/paid", "wh-1", &body, SECRET).await;
    assert_eq!((unknown.status, unknown.error_code()), (401, "invalid_signature"), "the shop is not connected yet");
    connect(&app, &[]).await;
    let forged = deliver_signed(&app, "orders/paid", "wh-1", &body, "a-guessed-secret").await;
    assert_eq!((forged.status, forged.error_code()), (401, "invalid_signature"));
    let mut tampered = body.clone().into_bytes();
    let at = tampered.iter().position(|b| *b == b'5').unwrap();
    tampered[at] = b'9';
    let signature = sign(body.as_bytes(), SECRET);
    let headers =
        [("x-shopify-topic", "orders/paid"), ("x-shopify-shop-domain", SHOP), ("x-shopify-webhook-id", "wh-2")];
    let mut with_signature = headers.to_vec();
    with_signature.push(("x-shopify-hmac-sha256", &signature));
    let a = app.post_raw("/webhooks/shopify", tampered, &with_signature).await;
    assert_eq!(a.status, 401, "a body changed after signing");
    let a = app.post_raw("/webhooks/shopify", body.clone(), &headers).await;
    assert_eq!(a.status, 401, "no signature at all");
    // The privacy topics answer 401 on a bad signature too.
    let a = deliver_signed(&app, "customers/redact", "wh-3", r#"{"orders_to_redact":[1]}"#, "wrong").await;
    assert_eq!(a.status, 401);
    assert_eq!((app.count("events").await, app.count("shopify_deliveries").await), (0, 0));

    // Signed, but not JSON, or not an order: refused, nothing stored.
    let a = deliver_signed(&app, "orders/paid", "wh-4", "{not json", SECRET).await;
    assert_eq!((a.status, a.error_code()), (400, "malformed_json"));
    let a = deliver(&app, "orders/paid", "wh-5", &json!({"id": 5, "currency": "USD"})).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("total_price")));
    let a = app
        .post_raw(
            "/webhooks/shopify",
            body.clone(),
            &[
                ("x-shopify-topic", "orders/paid"),
                ("x-shopify-shop-domain", SHOP),
                ("x-shopify-hmac-sha256", &signature),
            ],
        )
        .await;
    assert_eq!((a.status, a.error_code()), (400, "missing_header"), "no webhook id");
    assert_eq!((app.count("events").await, app.count("shopify_deliveries").await), (0, 0));
}

#[tokio::test]
async fn a_rotated_secret_and_its_predecessor_both_verify() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    let rotated =
        app.cli(&["shopify", "connect", "--company", &app.company_id, "--shop", SHOP, "--secret", "shpss_second_1234"]);
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("2 live secrets"), "{rotated:?}");
    let body = paid_order(1, None, None, None).to_string();
    assert_eq!(deliver_signed(&app, "orders/paid", "wh-1", &body, SECRET).await.status, 200);
    let body = paid_order(2, None, None, None).to_string();
    assert_eq!(deliver_signed(&app, "orders/paid", "wh-2", &body, "shpss_second_1234").await.status, 200);
    app.cli(&["shopify", "connect", "--company", &app.company_id, "--shop", SHOP, "--secret", "shpss_third_12345"]);
    let body = paid_order(3, None, None, None).to_string();
    assert_eq!(deliver_signed(&app, "orders/paid", "wh-3", &body, SECRET).await.status, 401, "two rotations ago");
}

#[tokio::test]
async fn each_delivery_and_each_order_is_stored_once() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    let body = paid_order(ORDER_ID, None, Some("FP-1"), None).to_string();
    let racing = (0..16).map(|_| deliver_signed(&app, "orders/paid", "wh-same", &body, SECRET));
    let answers = futures_util::future::join_all(racing).await;
    assert!(answers.iter().all(|a| a.status == 200), "every delivery is acknowledged");
    let processed = answers.iter().filter(|a| a.body["status"] == "processed").count();
    assert_eq!(processed, 1, "{:?}", answers.iter().map(|a| &a.body["status"]).collect::<Vec<_>>());
    assert_eq!((app.count("events").await, app.count("shopify_deliveries").await), (1, 1));

    // Another delivery (another subscription) of the same order stores nothing new.
    let again = deliver_signed(&app, "orders/paid", "wh-other", &body, SECRET).await;
    assert_eq!(again.body["status"], "already_stored");
    // An order sent first through the API is acknowledged and left alone.
    let api = app.checkout(order(Some("FP-1"), "4242", "10.00", "2026-09-14T10:00:00Z")).await;
    let shopify = deliver(&app, "orders/paid", "wh-api", &paid_order(4242, None, None, None)).await;
    assert_eq!(
        (shopify.status, shopify.body["status"].as_str(), shopify.body["event_id"].clone()),
        (200, Some("already_stored"), api.body["event_id"].clone())
    );
    assert_eq!(app.count("events").await, 2);
}

#[tokio::test]
async fn test_orders_are_flagged_and_left_out_of_reports() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    let mut body = paid_order(1, None, Some("FP-1"), None);
    body["test"] = json!(true);
    assert_eq!(deliver(&app, "orders/paid", "wh-1", &body).await.status, 200);
    let report = app.report("from=2026-09-14&to=2026-09-14").await.body;
    assert_eq!(report["metrics"]["unattributed_orders"], 0);
    assert_eq!(report["has_checkout_data"], false);
    let with_tests = app.report("from=2026-09-14&to=2026-09-14&include_test=true").await.body;
    assert_eq!(with_tests["metrics"]["unattributed_checkout_revenue_usd"], "52.40");
}

#[tokio::test]
async fn refunds_count_money_returned_even_before_their_order() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    grounded_conversation(&app, "FP-8a3c").await;
    // Shopify's REST Refund shape: the line subtotals differ from the money returned.
    let refund = json!({
        "id": 509_562_969, "order_id": ORDER_ID, "created_at": "2026-09-15T10:00:00-04:00",
        "processed_at": "2026-09-15T10:00:00-04:00", "note": "it broke", "restock": true,
        "refund_line_items": [{"id": 104_689_539, "line_item_id": 466_157_049, "quantity": 1,
                               "subtotal": 48.0, "total_tax": 4.4,
                               "subtotal_set": {"shop_money": {"amount": "48.00", "currency_code": "USD"}}}],
        "transactions": [
            {"id": 1, "amount": "20.00", "currency": "USD", "kind": "refund", "status": "success", "gateway": "bogus"},
            {"id": 2, "amount": "99.00", "currency": "USD", "kind": "refund", "status": "failure", "gateway": "bogus"}
        ],
        "order_adjustments": []
    });
    let early = deliver(&app, "refunds/create", "wh-r1", &refund).await;
    assert_eq!((early.status, early.body["status"].as_str()), (200, Some("processed")));
    let paid = deliver(&app, "orders/paid", "wh-o1", &paid_order(ORDER_ID, None, Some("FP-8a3c"), None)).await;
    assert_eq!(paid.body["reason"], "ATTRIBUTED");
    // A second refund with line items only: their subtotals count (as a JSON number here).
    let lines_only = json!({"id": 509_562_970, "order_id": ORDER_ID, "transactions": [],
                            "refund_line_items": [{"quantity": 1, "subtotal": 4.4}]});
    assert_eq!(deliver(&app, "refunds/create", "wh-r2", &lines_only).await.body["status"], "processed");
    // The same refund again under another webhook id changes nothing.
    assert_eq!(deliver(&app, "refunds/create", "wh-r3", &refund).await.body["status"], "already_stored");

    let m = app.report("from=2026-09-14&to=2026-09-14").await.body["metrics"].clone();
    assert_eq!(
        (m["checkout_revenue_usd"].as_str(), m["refunds_usd"].as_str(), m["net_checkout_revenue_usd"].as_str()),
        (Some("52.40"), Some("24.40"), Some("28.00"))
    );
    assert_rollups_match_events(&app.db).await;
}

#[tokio::test]
async fn cancelled_orders_are_flagged_on_the_conversation_page() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    grounded_conversation(&app, "FP-8a3c").await;
    deliver(&app, "orders/paid", "wh-1", &paid_order(ORDER_ID, None, Some("FP-8a3c"), None)).await;
    let mut cancelled = paid_order(ORDER_ID, None, Some("FP-8a3c"), None);
    cancelled["cancelled_at"] = json!("2026-09-15T09:00:00-04:00");
    cancelled["cancel_reason"] = json!("customer");
    assert_eq!(deliver(&app, "orders/cancelled", "wh-2", &cancelled).await.body["status"], "processed");
    let page = app.get("/v1/tickets/TK-2291/revenue", Some(&app.secret_key)).await.body;
    assert_eq!(page["events"][0]["cancelled"], true);
}

#[tokio::test]
async fn customer_redaction_keeps_the_totals_and_removes_the_fingerprints() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    grounded_conversation(&app, "FP-8a3c").await;
    app.ingest("/analytics/cart_tokens", json!({"cart_token": "c1-abc", "user_fingerprint": "FP-8a3c"})).await;
    deliver(&app, "orders/paid", "wh-1", &paid_order(ORDER_ID, Some("c1-abc"), None, None)).await;
    let before = app.report("from=2026-09-14&to=2026-09-14").await.body;

    let redact = json!({"shop_id": 954_889, "shop_domain": SHOP,
                        "customer": {"id": 191_167, "email": "john@example.com", "phone": "555-625-1199"},
                        "orders_to_redact": [ORDER_ID, 299_938, 280_263]});
    let a = deliver(&app, "customers/redact", "wh-2", &redact).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("processed")));

    let after = app.report("from=2026-09-14&to=2026-09-14").await.body;
    assert_eq!(after["metrics"], before["metrics"], "amounts and decisions stay");
    let left = app
        .db
        .rows(
            "SELECT (SELECT count(*) FROM events WHERE user_fingerprint = 'FP-8a3c' OR cart_token IS NOT NULL)
                  + (SELECT count(*) FROM tickets WHERE fingerprint = 'FP-8a3c')
                  + (SELECT count(*) FROM visitor_days WHERE user_fingerprint = 'FP-8a3c')
                  + (SELECT count(*) FROM cart_tokens)
                  + (SELECT count(*) FROM messages WHERE text IS NOT NULL)
                  + (SELECT count(*) FROM events WHERE candidates LIKE '%FP-8a3c%')",
        )
        .await;
    assert_eq!(left, vec![vec![json!(0)]], "nothing links the order to the shopper any more");
    let out = app.cli(&["reattribute", "--dry-run"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 decisions changed"), "{out:?}");
}

#[tokio::test]
async fn shop_redaction_erases_the_shop_and_its_orders() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    // A credited shop order: its conversation's funnel firsts go with it.
    grounded_conversation(&app, "FP-1").await;
    let paid = deliver(&app, "orders/paid", "wh-1", &paid_order(1, None, Some("FP-1"), None)).await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    let credited = app.db.rows("SELECT count(*) FROM tickets WHERE first_checkout_ms IS NOT NULL").await;
    assert_eq!(credited, vec![vec![json!(1)]], "the shop order was credited to TK-2291");
    app.checkout(order(Some("FP-2"), "api-1", "10.00", "2026-09-14T10:00:00Z")).await;
    let a = deliver(&app, "shop/redact", "wh-2", &json!({"shop_id": 954_889, "shop_domain": SHOP})).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("processed")));
    assert_eq!(app.count("events").await, 1, "the API order stays");
    assert_eq!(app.count("line_items").await, 1);
    assert_rollups_match_events(&app.db).await;
    let later = deliver(&app, "orders/paid", "wh-3", &paid_order(2, None, None, None)).await;
    assert_eq!(later.status, 401, "the shop is no longer connected");
}

#[tokio::test]
async fn a_data_request_is_recorded_and_answerable_from_the_cli() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    grounded_conversation(&app, "FP-8a3c").await;
    deliver(&app, "orders/paid", "wh-1", &paid_order(ORDER_ID, None, Some("FP-8a3c"), None)).await;
    let request = json!({"shop_id": 954_889, "shop_domain": SHOP, "orders_requested": [ORDER_ID, 299_938],
                         "customer": {"id": 191_167, "email": "john@example.com"}, "data_request": {"id": 9999}});
    let a = deliver(&app, "customers/data_request", "wh-2", &request).await;
    let number = a.body["privacy_request"].as_i64().expect("a request number");
    let out = app.cli(&["privacy", "export", "--company", &app.company_id, "--request", &number.to_string()]);
    assert!(out.status.success(), "{out:?}");
    let data: Value = serde_json::from_slice(&out.stdout).unwrap();
    let person = &data["fingerprints"][0];
    assert_eq!(person["fingerprint"], "FP-8a3c");
    assert_eq!(person["events"][0]["order_id"], ORDER_ID.to_string());
    assert_eq!(person["messages"].as_array().unwrap().len(), 2);

    let erase = app.cli(&["privacy", "erase", "--company", &app.company_id, "--fingerprint", "FP-8a3c"]);
    assert!(erase.status.success(), "{erase:?}");
    let again = app.cli(&["privacy", "export", "--company", &app.company_id, "--fingerprint", "FP-8a3c"]);
    let data: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(data["fingerprints"][0]["events"], json!([]), "nothing is left under the erased fingerprint");
    let missing = app.cli(&["privacy", "export", "--company", &app.company_id, "--request", "777"]);
    assert!(!missing.status.success());
}

#[tokio::test]
async fn other_topics_are_acknowledged_and_counted() {
    let Some(app) = spawn_app().await else { return };
    connect(&app, &[]).await;
    let a = deliver(&app, "products/update", "wh-1", &json!({"id": 632_910_392, "title": "Hydra"})).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("ignored")));
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("revtrace_shopify_deliveries_total")
            && l.contains("topic=\"other\"")
            && l.contains("outcome=\"ignored\"")),
        "{metrics}"
    );
    assert_eq!(app.count("events").await, 0);
}
