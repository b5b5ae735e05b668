//! The README's quick start, end to end: FP-8a3c asks about moisturizer,
//! the assistant answers from the catalog, the shopper adds the $48 cream and
//! checks out 45 minutes later — credited to TK-2291.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn the_moisturizer_journey_is_attributed_to_tk_2291() {
    let Some(app) = spawn_app().await else { return };
    let ticket = app
        .ticket(json!({
            "ticket_id": "TK-2291",
            "ai_profile_id": "skincare-advisor",
            "channel": "chat",
            "fingerprint": "FP-8a3c",
            "messages": [
                {"message_id": "m1", "sent_at": "2026-09-14T15:02:11Z", "role": "shopper",
                 "text": "Which moisturizer is best for dry skin?"},
                {"message_id": "m2", "sent_at": "2026-09-14T15:02:14Z", "role": "ai",
                 "text": "Hydra Barrier Cream: ceramides and squalane, made for dry skin.",
                 "has_answer_found": true, "product_ids": ["hydra-barrier-cream"]}
            ]
        }))
        .await;
    assert_eq!(ticket.status, 200);
    assert_eq!(ticket.body["message_source"], "CHAT_WIDGET");
    assert_eq!(ticket.body["qualifies"], true);

    let cart = app.cart(add_to_cart("FP-8a3c", "hydra-barrier-cream", 1, "48.00", "2026-09-14T15:04:40Z")).await;
    assert_eq!(cart.status, 201);
    assert_eq!(cart.body["ticket_id"], "TK-2291");
    assert_eq!(cart.body["usd_value"], "48.00");

    let checkout = app
        .ingest_secret(
            "/analytics/checkout_events",
            &json!({"user_fingerprint": "FP-8a3c", "order_id": "1001", "order_value": "48.00", "currency": "USD",
                    "occurred_at": "2026-09-14T15:47:14Z",
                    "line_items": [{"product_id": "hydra-barrier-cream", "title": "Hydra Barrier Cream",
                                    "quantity": 1, "unit_price": "48.00"}]}),
            &[("idempotency-key", "order-1001")],
        )
        .await;
    assert_eq!(checkout.status, 201);
    assert_eq!(
        checkout.body,
        json!({"event_id": checkout.body["event_id"], "attributed": true, "ticket_id": "TK-2291",
               "message_source": "CHAT_WIDGET", "reason": "ATTRIBUTED", "usd_value": "48.00"})
    );
    assert_eq!(app.count("line_items").await, 1);

    let receipt = app.receipt(checkout.body["event_id"].as_str().unwrap()).await;
    assert_eq!(receipt.status, 200);
    assert_eq!(receipt.body["reason"], "ATTRIBUTED");
    assert_eq!(receipt.body["order_id"], "1001");
    assert_eq!(receipt.body["winner"]["ticket_id"], "TK-2291");
    assert_eq!(receipt.body["winner"]["ai_profile_id"], "skincare-advisor");
    assert_eq!(receipt.body["window_ms"], 86_400_000);
    let candidate = &receipt.body["candidates"][0];
    assert_eq!(candidate["last_touch_at"], "2026-09-14T15:02:14Z");
    assert_eq!(candidate["distance_ms"], 45 * 60 * 1000);
    assert_eq!(candidate["in_window"], true);
    assert_eq!(receipt.body["decided_by"], "ingest");
}

#[tokio::test]
async fn the_conversation_page_shows_its_products_events_and_totals() {
    let Some(app) = spawn_app().await else { return };
    let mut ticket = grounded_ticket("TK-2291", "FP-8a3c", "2026-09-14T15:02:11Z", "2026-09-14T15:02:14Z");
    // The answer showed the cream and a serum the catalog does not know.
    ticket["messages"][1]["product_ids"] = json!(["hydra-barrier-cream", "night-serum"]);
    app.ticket(ticket).await;
    let catalog = app
        .ingest_secret(
            "/v1/products",
            &json!({"products": [{"product_id": "hydra-barrier-cream", "title": "Hydra Barrier Cream 50 ml",
                                  "image_url": "https://cdn.glow.example/hydra.jpg",
                                  "url": "https://glow.example/products/hydra-barrier-cream"}]}),
            &[],
        )
        .await;
    assert_eq!((catalog.status, catalog.body.clone()), (200, json!({"upserted": 1})));
    let cart = app.cart(add_to_cart("FP-8a3c", "hydra-barrier-cream", 1, "48.00", "2026-09-14T15:04:40Z")).await;
    let checkout = app.checkout(order(Some("FP-8a3c"), "1001", "48.00", "2026-09-14T15:47:14Z")).await;
    // An unattributed order of someone else stays off this page.
    app.checkout(order(Some("FP-other"), "1002", "20.00", "2026-09-14T15:50:00Z")).await;

    let page = app.get("/v1/tickets/TK-2291/revenue", Some(&app.secret_key)).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let product = json!({"product_id": "hydra-barrier-cream", "variant_id": null, "title": "Hydra Barrier Cream 50 ml",
                         "image_url": "https://cdn.glow.example/hydra.jpg",
                         "url": "https://glow.example/products/hydra-barrier-cream", "quantity": 1,
                         "unit_price": "48.00"});
    assert_eq!(
        page.body,
        json!({
            "ticket_id": "TK-2291", "ai_profile_id": "default", "channel": "chat", "fingerprint": "FP-8a3c",
            "message_source": "CHAT_WIDGET", "qualifies": true, "first_message_at": "2026-09-14T15:02:11Z",
            "last_message_at": "2026-09-14T15:02:14Z", "messages": 2,
            "transcript": [
                {"message_id": "q1", "sent_at": "2026-09-14T15:02:11Z", "role": "shopper",
                 "text": "Which moisturizer is best for dry skin?", "has_answer_found": null, "products": []},
                {"message_id": "a1", "sent_at": "2026-09-14T15:02:14Z", "role": "ai",
                 "text": "Hydra Barrier Cream.", "has_answer_found": true,
                 "products": [{"product_id": "hydra-barrier-cream", "title": "Hydra Barrier Cream 50 ml",
                               "image_url": "https://cdn.glow.example/hydra.jpg",
                               "url": "https://glow.example/products/hydra-barrier-cream"},
                              {"product_id": "night-serum", "title": null, "image_url": null, "url": null}]}
            ],
            "events": [
                {"event_id": cart.body["event_id"], "cart_type": "CART_EVENT", "source_category": "SDK",
                 "occurred_at": "2026-09-14T15:04:40Z", "event_type": "ITEM_ADDED", "order_id": null,
                 "amount": "48.00", "currency": "USD", "usd_value": "48.00", "refunded_usd": "0.00", "is_test": false, "cancelled": false,
                 "products": [product]},
                {"event_id": checkout.body["event_id"], "cart_type": "CHECKOUT", "source_category": "SDK",
                 "occurred_at": "2026-09-14T15:47:14Z", "event_type": null, "order_id": "1001",
                 "amount": "48.00", "currency": "USD", "usd_value": "48.00", "refunded_usd": "0.00", "is_test": false, "cancelled": false,
                 "products": [product]}
            ],
            "totals": {"checkout_revenue_usd": "48.00", "refunds_usd": "0.00", "net_checkout_revenue_usd": "48.00",
                       "orders": 1, "cart_gmv_usd": "48.00", "products_in_cart": 1, "events": 2,
                       "unconverted_events": 0}
        })
    );
    let missing = app.get("/v1/tickets/TK-nope/revenue", Some(&app.secret_key)).await;
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
}

#[tokio::test]
async fn catalog_entries_are_checked_before_anything_is_stored() {
    let Some(app) = spawn_app().await else { return };
    for (products, field) in [
        (json!([{"product_id": "p", "image_url": "javascript:alert(1)"}]), "products[0].image_url"),
        (json!([{"product_id": "p"}, {"product_id": "q", "url": "ftp://x"}]), "products[1].url"),
        (json!([{"product_id": ""}]), "products[0].product_id"),
        (json!([{"title": "no id"}]), "products[0].product_id"),
    ] {
        let a = app.ingest_secret("/v1/products", &json!({ "products": products }), &[]).await;
        assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some(field)), "{products}");
    }
    let too_many: Vec<_> = (0..1001).map(|i| json!({"product_id": format!("p{i}")})).collect();
    let a = app.ingest_secret("/v1/products", &json!({ "products": too_many }), &[]).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("products")));
    assert_eq!(app.count("products").await, 0);
    let public = app.ingest("/v1/products", json!({"products": []})).await;
    assert_eq!(public.status, 401, "the company key cannot write the catalog");
}

#[tokio::test]
async fn a_transcript_shows_every_product_of_a_long_answer_from_the_catalog() {
    let Some(app) = spawn_app().await else { return };
    // 70 products: more than one catalog read (32 ids each) and a partial last one.
    let ids: Vec<String> = (0..70).map(|i| format!("p-{i:02}")).collect();
    let mut ticket = grounded_ticket("TK-LONG", "FP-1", "2026-09-14T15:02:11Z", "2026-09-14T15:02:14Z");
    ticket["messages"][1]["product_ids"] = json!(ids);
    assert_eq!(app.ticket(ticket).await.status, 200);
    let catalog: Vec<Value> =
        ids.iter().take(69).map(|id| json!({"product_id": id, "title": format!("Title {id}")})).collect();
    assert_eq!(app.ingest_secret("/v1/products", &json!({"products": catalog}), &[]).await.status, 200);
    let page = app.get("/v1/tickets/TK-LONG/revenue", Some(&app.secret_key)).await.body;
    let shown = page["transcript"][1]["products"].as_array().unwrap();
    assert_eq!(shown.len(), 70, "in the message's order");
    for (i, p) in shown.iter().enumerate() {
        assert_eq!(p["product_id"], ids[i]);
        let expected = if i < 69 { json!(format!("Title {}", ids[i])) } else { Value::Null };
        assert_eq!(p["title"], expected, "{p}");
    }
}
