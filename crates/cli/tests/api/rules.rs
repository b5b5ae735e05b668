//! Every attribution rule and reason code, through the ingest API.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_checkout_without_fingerprint_is_no_fingerprint() {
    let Some(app) = spawn_app().await else { return };
    let a = app.checkout(order(None, "1", "10.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["reason"], "NO_FINGERPRINT");
    assert_eq!(a.body["attributed"], false);
    assert_eq!(a.body["ticket_id"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_visitor_without_tickets_is_no_ticket() {
    let Some(app) = spawn_app().await else { return };
    app.ticket(grounded_ticket("T1", "someone-else", "2026-09-01T09:00:00Z", "2026-09-01T09:00:05Z")).await;
    let a = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!((a.status, a.body["reason"].as_str()), (201, Some("NO_TICKET")));
}

#[tokio::test]
async fn a_ticket_without_grounded_answer_is_no_answer_found() {
    let Some(app) = spawn_app().await else { return };
    let t = app
        .ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "q", "sent_at": "2026-09-01T09:00:00Z", "role": "shopper"},
            {"message_id": "a", "sent_at": "2026-09-01T09:00:01Z", "role": "ai", "has_answer_found": false},
            {"message_id": "b", "sent_at": "2026-09-01T09:00:02Z", "role": "ai"}
        ]}))
        .await;
    assert_eq!((t.status, t.body["qualifies"].as_bool()), (200, Some(false)));
    let a = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(a.body["reason"], "NO_ANSWER_FOUND");
}

#[tokio::test]
async fn human_agent_messages_never_qualify() {
    let Some(app) = spawn_app().await else { return };
    app.ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
        {"message_id": "q", "sent_at": "2026-09-01T09:00:00Z", "role": "shopper"},
        {"message_id": "h", "sent_at": "2026-09-01T09:01:00Z", "role": "human_agent", "has_answer_found": true}
    ]}))
    .await;
    let a = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(a.body["reason"], "NO_ANSWER_FOUND");
}

#[tokio::test]
async fn the_window_boundary_is_inclusive_to_the_millisecond() {
    let Some(app) = spawn_app().await else { return };
    app.ticket(grounded_ticket("T1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T10:00:00Z")).await;
    let at_edge = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-02T10:00:00Z")).await;
    assert_eq!(at_edge.body["reason"], "ATTRIBUTED");
    assert_eq!(at_edge.body["ticket_id"], "T1");
    let past = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-02T10:00:00.001Z")).await;
    assert_eq!(past.body["reason"], "OUTSIDE_WINDOW");
    assert_eq!(past.body["attributed"], false);

    let receipt = app.receipt(past.body["event_id"].as_str().unwrap()).await;
    assert_eq!(receipt.body["candidates"][0]["distance_ms"], 86_400_001);
    assert_eq!(receipt.body["candidates"][0]["in_window"], false);
}

#[tokio::test]
async fn messages_after_the_event_are_ignored() {
    let Some(app) = spawn_app().await else { return };
    // The answer arrives after the purchase: the ticket was a candidate, not a qualifier.
    app.ticket(grounded_ticket("T1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T11:00:00Z")).await;
    let a = app.checkout(order(Some("FP-1"), "1", "48.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(a.body["reason"], "NO_ANSWER_FOUND");
    let receipt = app.receipt(a.body["event_id"].as_str().unwrap()).await;
    assert_eq!(receipt.body["candidates"][0]["last_touch_at"], "2026-09-01T09:00:00Z");
    // A ticket that starts after the event is not even a candidate.
    app.ticket(grounded_ticket("T2", "FP-2", "2026-09-01T12:00:00Z", "2026-09-01T12:00:01Z")).await;
    let b = app.checkout(order(Some("FP-2"), "2", "48.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(b.body["reason"], "NO_TICKET");
}

#[tokio::test]
async fn the_faq_fingerprint_joins_the_identity_set() {
    let Some(app) = spawn_app().await else { return };
    let mut faq = grounded_ticket("F1", "FAQ-9", "2026-09-01T09:00:00Z", "2026-09-01T09:00:02Z");
    faq["channel"] = json!("faq");
    app.ticket(faq).await;
    let mut body = add_to_cart("WEB-1", "p1", 2, "12.50", "2026-09-01T09:30:00Z");
    body["user_faq_fingerprint"] = json!("FAQ-9");
    let a = app.cart(body).await;
    assert_eq!(a.body["reason"], "ATTRIBUTED");
    assert_eq!(a.body["message_source"], "FAQ");
    assert_eq!(a.body["usd_value"], "25.00");
}

#[tokio::test]
async fn first_touch_wins_across_surfaces() {
    let Some(app) = spawn_app().await else { return };
    // A nudge opened the first conversation; a chat and an FAQ answer came later.
    let t = app
        .ticket(json!({"ticket_id": "N1", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "n", "sent_at": "2026-09-01T08:00:00Z", "role": "ai", "metadata": {"nudge_id": "spring-sale"}},
            {"message_id": "a", "sent_at": "2026-09-01T08:00:30Z", "role": "ai", "has_answer_found": true}
        ]}))
        .await;
    assert_eq!(t.body["message_source"], "NUDGE_CLICK");
    app.ticket(grounded_ticket("C1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z")).await;
    let mut faq = grounded_ticket("F1", "FAQ-1", "2026-09-01T09:30:00Z", "2026-09-01T09:30:01Z");
    faq["channel"] = json!("faq");
    app.ticket(faq).await;

    let mut body = order(Some("FP-1"), "77", "48.00", "2026-09-01T10:00:00Z");
    body["user_faq_fingerprint"] = json!("FAQ-1");
    let a = app.checkout(body).await;
    assert_eq!(a.body["ticket_id"], "N1");
    assert_eq!(a.body["message_source"], "NUDGE_CLICK");
    let receipt = app.receipt(a.body["event_id"].as_str().unwrap()).await;
    let ids: Vec<_> = receipt.body["candidates"].as_array().unwrap().iter().map(|c| c["ticket_id"].clone()).collect();
    assert_eq!(ids, vec![json!("N1"), json!("C1"), json!("F1")]);
    assert_eq!(receipt.body["candidates"][0]["winner"], true);
    assert_eq!(receipt.body["winner"]["ticket_id"], "N1");
}

#[tokio::test]
async fn first_touch_ties_break_by_ticket_id() {
    let Some(app) = spawn_app().await else { return };
    app.ticket(grounded_ticket("TK-b", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z")).await;
    app.ticket(grounded_ticket("TK-a", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:02Z")).await;
    let a = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(a.body["ticket_id"], "TK-a");
}

#[tokio::test]
async fn nudge_ids_must_be_non_empty_strings_on_the_first_message() {
    let Some(app) = spawn_app().await else { return };
    let cases = [
        (json!({"nudge_id": "n-1"}), "NUDGE_CLICK"),
        (json!({"nudge_id": ""}), "CHAT_WIDGET"),
        (json!({"nudge_id": 42}), "CHAT_WIDGET"),
        (json!({"nudge_id": null}), "CHAT_WIDGET"),
        (json!({}), "CHAT_WIDGET"),
    ];
    for (i, (metadata, expected)) in cases.into_iter().enumerate() {
        let t = app
            .ticket(json!({"ticket_id": format!("T{i}"), "channel": "chat", "fingerprint": "FP-1", "messages": [
                {"message_id": "m1", "sent_at": "2026-09-01T09:00:00Z", "role": "shopper", "metadata": metadata}
            ]}))
            .await;
        assert_eq!(t.body["message_source"], expected, "case {i}");
    }
    // A nudge on a later message does not make a nudge click.
    let t = app
        .ticket(json!({"ticket_id": "late", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "m1", "sent_at": "2026-09-01T09:00:00Z", "role": "shopper"},
            {"message_id": "m2", "sent_at": "2026-09-01T09:00:01Z", "role": "ai", "metadata": {"nudge_id": "n"}}
        ]}))
        .await;
    assert_eq!(t.body["message_source"], "CHAT_WIDGET");
    // FAQ wins over a nudge.
    let t = app
        .ticket(json!({"ticket_id": "faq", "channel": "faq", "fingerprint": "FP-1", "messages": [
            {"message_id": "m1", "sent_at": "2026-09-01T09:00:00Z", "role": "shopper", "metadata": {"nudge_id": "n"}}
        ]}))
        .await;
    assert_eq!(t.body["message_source"], "FAQ");
}

#[tokio::test]
async fn tickets_append_messages_and_skip_known_ids() {
    let Some(app) = spawn_app().await else { return };
    app.ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
        {"message_id": "q", "sent_at": "2026-09-01T09:00:00Z", "role": "shopper"}
    ]}))
    .await;
    let t = app
        .ticket(json!({"ticket_id": "T1", "channel": "chat", "fingerprint": "FP-1", "messages": [
            {"message_id": "q", "sent_at": "2026-09-01T07:00:00Z", "role": "ai", "has_answer_found": true},
            {"message_id": "a", "sent_at": "2026-09-01T09:05:00Z", "role": "ai", "has_answer_found": true}
        ]}))
        .await;
    assert_eq!(t.status, 200);
    assert_eq!(t.body["first_message_at"], "2026-09-01T09:00:00Z", "a known message id keeps its first fields");
    assert_eq!(t.body["last_message_at"], "2026-09-01T09:05:00Z");
    assert_eq!(t.body["qualifies"], true);
    assert_eq!(app.count("messages").await, 2);
}

#[tokio::test]
async fn the_window_is_set_per_company() {
    let Some(app) = spawn_app_with("UTC", 2).await else { return };
    app.ticket(grounded_ticket("T1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:00Z")).await;
    let inside = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T11:00:00Z")).await;
    assert_eq!(inside.body["reason"], "ATTRIBUTED");
    let outside = app.cart(add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T11:00:01Z")).await;
    assert_eq!(outside.body["reason"], "OUTSIDE_WINDOW");
}

#[tokio::test]
async fn usd_values_are_signed_and_converted_once() {
    let Some(app) = spawn_app().await else { return };
    let out = app.cli(&["rates", "set", "JPY", "0.0067"]);
    assert!(out.status.success(), "{out:?}");
    let mut add = add_to_cart("FP-1", "p1", 3, "1150", "2026-09-01T10:00:00Z");
    add["currency"] = json!("JPY");
    add["unit_price"] = json!(1150);
    assert_eq!(app.cart(add).await.body["usd_value"], "23.12");
    let removal = app
        .cart(json!({"user_fingerprint": "FP-1", "event_type": "QUANTITY_DECREASED", "product_id": "p1",
            "quantity": 1, "unit_price": "1150", "currency": "JPY", "occurred_at": "2026-09-01T10:01:00Z"}))
        .await;
    assert_eq!(removal.status, 201);
    assert_eq!(removal.body["usd_value"], "-7.70");
    // No rate: stored, but without a USD value.
    let mut chf = add_to_cart("FP-1", "p2", 1, "10", "2026-09-01T10:00:00Z");
    chf["currency"] = json!("CHF");
    let a = app.cart(chf).await;
    assert_eq!((a.status, &a.body["usd_value"]), (201, &serde_json::Value::Null));
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_occurred_at_defaults_to_receipt() {
    let Some(app) = spawn_app().await else { return };
    let before = jiff::Timestamp::now();
    let a = app
        .checkout(json!({"order_id": "X-1", "order_value": 12.5, "currency": "usd",
            "client_version": "4.2", "line_items": [{"product_id": 7, "quantity": 1, "unit_price": 12.5, "color": "red"}]}))
        .await;
    assert_eq!((a.status, a.body["usd_value"].as_str()), (201, Some("12.50")));
    let receipt = app.receipt(a.body["event_id"].as_str().unwrap()).await;
    let at: jiff::Timestamp = receipt.body["occurred_at"].as_str().unwrap().parse().unwrap();
    assert!(before.as_millisecond() <= at.as_millisecond(), "{before} > {at}");
    assert!(at <= jiff::Timestamp::now());
}
