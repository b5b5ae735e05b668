//! The README's quick start, end to end: FP-8a3c asks about moisturizer,
//! the assistant answers from the catalog, the shopper adds the $48 cream and
//! checks out 45 minutes later — credited to TK-2291.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_moisturizer_journey_is_attributed_to_tk_2291() {
    let app = spawn_app().await;
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
    assert_eq!(app.count("line_items"), 1);

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
