//! Revenue-impact reports on a hand-computed dataset: a New York company
//! across the 2026-03-08 DST change, USD, EUR and JPY (and a currency without
//! a rate), chat, FAQ and nudge conversations, attributed and unattributed
//! checkouts, refunds (one before its order) and a test order.

use serde_json::{Value, json};

use crate::helpers::*;

fn message(id: &str, at: &str, role: &str, grounded: Option<bool>) -> Value {
    let mut m = json!({"message_id": id, "sent_at": at, "role": role, "text": "…"});
    if let Some(g) = grounded {
        m["has_answer_found"] = json!(g);
    }
    m
}

fn checkout(fingerprint: Option<&str>, order_id: &str, value: &str, currency: &str, at: &str) -> Value {
    let mut body = order(fingerprint, order_id, value, at);
    body["currency"] = json!(currency);
    body
}

fn cart(fingerprint: &str, event_type: &str, quantity: i64, price: &str, currency: &str, at: &str) -> Value {
    json!({"user_fingerprint": fingerprint, "event_type": event_type, "product_id": "hydra-barrier-cream",
           "quantity": quantity, "unit_price": price, "currency": currency, "occurred_at": at})
}

async fn ok(answer: Answer, status: u16) -> Answer {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    answer
}

async fn refund(app: &TestApp, refund_id: &str, order_id: &str, amount: &str) -> Answer {
    app.ingest_secret(
        "/analytics/refunds",
        &json!({"refund_id": refund_id, "order_id": order_id, "amount": amount}),
        &[],
    )
    .await
}

/// The dataset of this file's header; figures in the tests below.
pub async fn fixture() -> Option<TestApp> {
    let app = spawn_app_with("America/New_York", 24).await?;
    for (currency, multiplier) in [("EUR", "1.10"), ("JPY", "0.0067")] {
        let out = app.cli(&["rates", "set", currency, multiplier]);
        assert!(out.status.success(), "{out:?}");
    }
    let tickets = [
        json!({"ticket_id": "T-OLD", "ai_profile_id": "advisor", "channel": "chat", "fingerprint": "FP-O",
               "messages": [message("a", "2026-03-05T15:00:00Z", "ai", Some(true))]}),
        json!({"ticket_id": "T-CHAT", "ai_profile_id": "advisor", "channel": "chat", "fingerprint": "FP-A",
               "messages": [message("q", "2026-03-07T14:00:00Z", "shopper", None),
                            message("a", "2026-03-07T14:00:05Z", "ai", Some(true))]}),
        json!({"ticket_id": "T-UNGROUNDED", "channel": "chat", "fingerprint": "FP-D",
               "messages": [message("a", "2026-03-07T15:00:00Z", "ai", Some(false))]}),
        // 06:30Z is 01:30 EST on 03-08, before the clocks go forward.
        json!({"ticket_id": "T-FAQ", "ai_profile_id": "faq-bot", "channel": "faq", "fingerprint": "FP-B",
               "messages": [message("a", "2026-03-08T06:30:00Z", "ai", Some(true))]}),
        // 03:30Z on 03-09 is 23:30 EDT on 03-08.
        json!({"ticket_id": "T-NUDGE", "ai_profile_id": "advisor", "channel": "chat", "fingerprint": "FP-C",
               "messages": [{"message_id": "n", "sent_at": "2026-03-09T03:29:00Z", "role": "ai",
                             "metadata": {"nudge_id": "spring-sale"}},
                            message("a", "2026-03-09T03:30:00Z", "ai", Some(true))]}),
    ];
    for t in tickets {
        ok(app.ticket(t).await, 200).await;
    }
    // Previous period (03-04 … 03-06): one attributed order, one baseline.
    ok(app.checkout(checkout(Some("FP-O"), "O-1", "40.00", "USD", "2026-03-05T16:00:00Z")).await, 201).await;
    ok(app.checkout(checkout(None, "P-1", "20.00", "USD", "2026-03-06T12:00:00Z")).await, 201).await;

    // Current period (03-07 … 03-09).
    ok(app.cart(cart("FP-A", "ITEM_ADDED", 2, "24.00", "USD", "2026-03-07T14:10:00Z")).await, 201).await;
    ok(app.cart(cart("FP-A", "QUANTITY_DECREASED", 1, "24.00", "USD", "2026-03-07T14:20:00Z")).await, 201).await;
    ok(app.checkout(checkout(Some("FP-A"), "A-1", "48.00", "USD", "2026-03-07T15:00:00Z")).await, 201).await;
    let mut test_order = checkout(Some("FP-A"), "A-T", "500.00", "USD", "2026-03-07T15:30:00Z");
    test_order["test"] = json!(true);
    ok(app.checkout(test_order).await, 201).await;
    ok(app.checkout(checkout(Some("FP-D"), "D-1", "60.00", "USD", "2026-03-07T16:00:00Z")).await, 201).await;
    let jpy = ok(app.cart(cart("FP-B", "ITEM_ADDED", 3, "1150", "JPY", "2026-03-08T06:45:00Z")).await, 201).await;
    assert_eq!(jpy.body["usd_value"], "23.12", "converted once: 3 × 1150 × 0.0067 = 23.115");
    ok(app.checkout(checkout(Some("FP-B"), "B-1", "100.00", "EUR", "2026-03-08T07:30:00Z")).await, 201).await;
    // The refund of C-1 arrives before C-1 itself.
    let early = ok(refund(&app, "R-C", "C-1", "5.00").await, 201).await;
    assert_eq!((early.body["applied"].clone(), early.body["usd_value"].clone()), (json!(false), Value::Null));
    // 04:30Z on 03-09 is 00:30 EDT: day 03-09 (it would be 03-08 without DST).
    let nudge =
        ok(app.checkout(checkout(Some("FP-C"), "C-1", "30.00", "USD", "2026-03-09T04:30:00Z")).await, 201).await;
    assert_eq!(nudge.body["message_source"], "NUDGE_CLICK");
    ok(app.cart(cart("FP-E", "ITEM_ADDED", 1, "10.00", "GBP", "2026-03-09T11:00:00Z")).await, 201).await;
    ok(app.checkout(checkout(Some("FP-E"), "E-1", "90.00", "USD", "2026-03-09T12:00:00Z")).await, 201).await;
    ok(
        app.ingest("/analytics/visits", json!({"user_fingerprint": "FP-F", "occurred_at": "2026-03-08T12:00:00Z"}))
            .await,
        204,
    )
    .await;
    let a = ok(refund(&app, "R-A", "A-1", "12.00").await, 201).await;
    assert_eq!((a.body["applied"].clone(), a.body["usd_value"].clone()), (json!(true), json!("12.00")));
    let b = ok(refund(&app, "R-B", "B-1", "10.00").await, 201).await;
    assert_eq!(b.body["usd_value"], "11.00", "at the order's rate");
    Some(app)
}

const RANGE: &str = "from=2026-03-07&to=2026-03-09";

#[tokio::test]
async fn every_metric_of_the_fixture_matches_the_hand_computation() {
    let Some(app) = fixture().await else { return };
    let report = app.report(RANGE).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let b = &report.body;
    assert_eq!(
        (b["from"].clone(), b["to"].clone(), b["days"].clone(), b["timezone"].clone(), b["has_checkout_data"].clone()),
        (json!("2026-03-07"), json!("2026-03-09"), json!(3), json!("America/New_York"), json!(true))
    );
    assert_eq!(
        b["metrics"],
        json!({
            "checkout_revenue_usd": "188.00", "refunds_usd": "28.00", "net_checkout_revenue_usd": "160.00",
            "orders": 3, "average_order_value_usd": "62.67", "cart_gmv_usd": "47.12", "products_in_cart": 4,
            "active_days": 3, "daily_avg_checkout_revenue_usd": "62.67", "daily_avg_cart_gmv_usd": "15.71",
            "unattributed_checkout_revenue_usd": "150.00", "unattributed_orders": 2,
            "unattributed_average_order_value_usd": "75.00", "ai_revenue_share_pct": 55.62, "aov_uplift_pct": -16.44,
            "assisted_visitors": 3, "unassisted_visitors": 3,
            "assisted_conversion_rate_pct": 100.0, "unassisted_conversion_rate_pct": 66.67,
            "unconverted_events": 1
        })
    );
    assert_eq!(
        b["previous"],
        json!({"compare": "previous_period", "from": "2026-03-04", "to": "2026-03-06", "metrics": {
            "checkout_revenue_usd": "40.00", "refunds_usd": "0.00", "net_checkout_revenue_usd": "40.00",
            "orders": 1, "average_order_value_usd": "40.00", "cart_gmv_usd": "0.00", "products_in_cart": 0,
            "active_days": 1, "daily_avg_checkout_revenue_usd": "40.00", "daily_avg_cart_gmv_usd": "0.00",
            "unattributed_checkout_revenue_usd": "20.00", "unattributed_orders": 1,
            "unattributed_average_order_value_usd": "20.00", "ai_revenue_share_pct": 66.67, "aov_uplift_pct": 100.0,
            "assisted_visitors": 1, "unassisted_visitors": 0,
            "assisted_conversion_rate_pct": 100.0, "unassisted_conversion_rate_pct": null,
            "unconverted_events": 0
        }})
    );
    assert_eq!(
        b["change_pct"],
        json!({
            "checkout_revenue_usd": 370.0, "refunds_usd": null, "net_checkout_revenue_usd": 300.0, "orders": 200.0,
            "average_order_value_usd": 56.67, "cart_gmv_usd": null, "products_in_cart": null, "active_days": 200.0,
            "daily_avg_checkout_revenue_usd": 56.67, "daily_avg_cart_gmv_usd": null,
            "unattributed_checkout_revenue_usd": 650.0, "unattributed_orders": 100.0,
            "unattributed_average_order_value_usd": 275.0, "ai_revenue_share_pct": -16.57, "aov_uplift_pct": -116.44,
            "assisted_visitors": 200.0, "unassisted_visitors": null, "assisted_conversion_rate_pct": 0.0,
            "unassisted_conversion_rate_pct": null, "unconverted_events": null
        })
    );
    let source = |checkout: &str, refunds: &str, net: &str, cart: &str, products: i64| {
        json!({"checkout_revenue_usd": checkout, "refunds_usd": refunds, "net_checkout_revenue_usd": net,
               "orders": 1, "average_order_value_usd": checkout, "cart_gmv_usd": cart, "products_in_cart": products,
               "active_days": 1, "daily_avg_checkout_revenue_usd": checkout, "daily_avg_cart_gmv_usd": cart})
    };
    assert_eq!(
        b["by_source"],
        json!({
            "CHAT_WIDGET": source("48.00", "12.00", "36.00", "24.00", 1),
            "FAQ": source("110.00", "11.00", "99.00", "23.12", 3),
            "NUDGE_CLICK": source("30.00", "5.00", "25.00", "0.00", 0),
        })
    );
    // advisor holds the chat and the nudge conversation (orders on 03-07 and
    // 03-09: two active days); faq-bot the FAQ one.
    assert_eq!(
        b["by_ai_profile"],
        json!({
            "advisor": {"checkout_revenue_usd": "78.00", "refunds_usd": "17.00", "net_checkout_revenue_usd": "61.00",
                        "orders": 2, "average_order_value_usd": "39.00", "cart_gmv_usd": "24.00", "products_in_cart": 1,
                        "active_days": 2, "daily_avg_checkout_revenue_usd": "39.00", "daily_avg_cart_gmv_usd": "12.00"},
            "faq-bot": source("110.00", "11.00", "99.00", "23.12", 3),
        })
    );
    assert_rollups_match_events(&app.db).await;
}

#[tokio::test]
async fn filters_narrow_the_attributed_side_and_test_orders_are_opt_in() {
    let Some(app) = fixture().await else { return };
    let faq = app.report(&format!("{RANGE}&source=FAQ")).await.body;
    assert_eq!(faq["metrics"]["checkout_revenue_usd"], "110.00");
    assert_eq!(faq["metrics"]["unattributed_checkout_revenue_usd"], "150.00", "the baseline ignores filters");
    assert_eq!(faq["metrics"]["ai_revenue_share_pct"], 32.54);
    assert_eq!(faq["by_source"]["CHAT_WIDGET"]["orders"], 0);
    assert_eq!(faq["metrics"]["assisted_conversion_rate_pct"], 100.0, "conversion rates ignore filters");

    let advisor = app.report(&format!("{RANGE}&ai_profile=advisor")).await.body;
    assert_eq!(
        (&advisor["metrics"]["checkout_revenue_usd"], &advisor["metrics"]["orders"]),
        (&json!("78.00"), &json!(2))
    );
    assert_eq!(advisor["metrics"]["average_order_value_usd"], "39.00");
    let profiles = |r: &Value| r["by_ai_profile"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(profiles(&advisor), ["advisor"], "a profile filter keeps that profile");
    assert_eq!(profiles(&faq), ["faq-bot"], "a source filter keeps the profiles with that source");

    let with_tests = app.report(&format!("{RANGE}&include_test=true")).await.body;
    assert_eq!(with_tests["metrics"]["checkout_revenue_usd"], "688.00");
    assert_eq!(with_tests["metrics"]["orders"], 4);
    assert_eq!(with_tests["metrics"]["ai_revenue_share_pct"], 82.1);
}

#[tokio::test]
async fn the_daily_series_has_every_day_in_the_company_zone() {
    let Some(app) = fixture().await else { return };
    let daily = app.get("/v1/revenue-impact/daily?from=2026-03-06&to=2026-03-10", Some(&app.secret_key)).await;
    assert_eq!(daily.status, 200, "{:?}", daily.body);
    let day =
        |day: &str, checkout: &str, net: &str, orders: i64, cart: &str, products: i64, base: &str, base_n: i64| {
            json!({"day": day, "checkout_revenue_usd": checkout, "net_checkout_revenue_usd": net, "orders": orders,
               "cart_gmv_usd": cart, "products_in_cart": products, "unattributed_checkout_revenue_usd": base,
               "unattributed_orders": base_n})
        };
    assert_eq!(
        daily.body,
        json!({"from": "2026-03-06", "to": "2026-03-10", "timezone": "America/New_York", "days": [
            day("2026-03-06", "0.00", "0.00", 0, "0.00", 0, "20.00", 1),
            day("2026-03-07", "48.00", "36.00", 1, "24.00", 1, "60.00", 1),
            day("2026-03-08", "110.00", "99.00", 1, "23.12", 3, "0.00", 0),
            day("2026-03-09", "30.00", "25.00", 1, "0.00", 0, "90.00", 1),
            day("2026-03-10", "0.00", "0.00", 0, "0.00", 0, "0.00", 0),
        ]})
    );
}

#[tokio::test]
async fn an_empty_company_reports_zeros_and_nulls() {
    let Some(app) = spawn_app().await else { return };
    let report = app.report("from=2026-01-01&to=2026-01-31").await;
    assert_eq!(report.status, 200);
    let m = &report.body["metrics"];
    assert_eq!((m["checkout_revenue_usd"].clone(), m["orders"].clone()), (json!("0.00"), json!(0)));
    for name in ["average_order_value_usd", "daily_avg_cart_gmv_usd", "ai_revenue_share_pct", "aov_uplift_pct"] {
        assert_eq!(m[name], Value::Null, "{name}");
    }
    assert_eq!(report.body["has_checkout_data"], false);
    assert!(report.body["change_pct"].as_object().unwrap().values().all(Value::is_null));

    // Cart data alone: GMV shows, the checkout side stays empty.
    app.cart(add_to_cart("FP-1", "p", 2, "5.00", "2026-01-10T10:00:00Z")).await;
    let report = app.report("from=2026-01-01&to=2026-01-31").await.body;
    assert_eq!(report["has_checkout_data"], false);
    assert_eq!(report["metrics"]["unattributed_checkout_revenue_usd"], "0.00");
    let default_range = app.report("").await.body;
    assert_eq!(default_range["days"], 30, "the last 30 days by default");
}

#[tokio::test]
async fn bad_queries_and_keys_get_json_errors() {
    let Some(app) = spawn_app().await else { return };
    for (query, field) in [
        ("from=2026-02-30&to=2026-03-01", "from"),
        ("from=2026-03-02&to=2026-03-01", "from"),
        ("from=1990-01-01&to=2026-03-01", "from"),
        ("to=yesterday", "to"),
        ("source=EMAIL", "source"),
        ("include_test=maybe", "include_test"),
        // An empty value is not "absent": the OpenAPI types say date / boolean.
        ("from=&to=2026-03-01", "from"),
        ("to=", "to"),
        ("source=", "source"),
        ("include_test=", "include_test"),
        // A misspelled parameter is refused, not a silent default.
        ("form=2026-02-01&to=2026-03-01", "form"),
        ("limit=5", "limit"),
    ] {
        for path in ["/v1/revenue-impact", "/v1/revenue-impact/daily", "/v1/export/revenue-impact"] {
            let a = app.get(&format!("{path}?{query}"), Some(&app.secret_key)).await;
            if path.contains("export") && matches!(field, "source" | "include_test") {
                continue; // the export takes neither
            }
            assert_eq!((a.status, a.error_code()), (422, "invalid_field"), "{path}?{query}");
            assert_eq!(a.body["error"]["field"], field, "{path}?{query}");
        }
    }
    let a = app.get("/v1/export/revenue-impact?format=xlsx", Some(&app.secret_key)).await;
    assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some("format")));
    for path in ["/v1/revenue-impact", "/v1/revenue-impact/daily", "/v1/tickets/T/revenue", "/v1/export/revenue-impact"]
    {
        assert_eq!(app.get(path, None).await.status, 401, "{path}");
        let public = app.get(path, Some(&app.company_key)).await;
        assert_eq!((public.status, public.error_code()), (401, "unauthorized"), "{path}: the company key only ingests");
    }
}

#[tokio::test]
async fn a_report_compares_with_the_same_days_last_year_when_asked() {
    let Some(app) = fixture().await else { return };
    // One attributed $30 order on 2025-03-08 (a year before the range's middle day).
    let ticket = json!({"ticket_id": "T-2025", "channel": "chat", "fingerprint": "FP-Y",
                        "messages": [message("a", "2025-03-08T15:00:00Z", "ai", Some(true))]});
    ok(app.ticket(ticket).await, 200).await;
    ok(app.checkout(checkout(Some("FP-Y"), "Y-1", "30.00", "USD", "2025-03-08T16:00:00Z")).await, 201).await;

    let default = app.report(RANGE).await.body;
    assert_eq!(default["previous"]["compare"], "previous_period");
    assert_eq!(
        (&default["previous"]["from"], &default["previous"]["to"]),
        (&json!("2026-03-04"), &json!("2026-03-06"))
    );

    let last_year = app.report(&format!("{RANGE}&compare=last_year")).await.body;
    assert_eq!(last_year["previous"]["compare"], "last_year");
    assert_eq!(
        (&last_year["previous"]["from"], &last_year["previous"]["to"]),
        (&json!("2025-03-07"), &json!("2025-03-09"))
    );
    assert_eq!(last_year["previous"]["metrics"]["checkout_revenue_usd"], "30.00");
    assert_eq!(last_year["previous"]["metrics"]["orders"], 1);
    assert_eq!(last_year["metrics"], default["metrics"], "the range itself does not change");
    let now: f64 = last_year["metrics"]["checkout_revenue_usd"].as_str().unwrap().parse().unwrap();
    let expected = ((now - 30.0) / 30.0 * 100.0 * 100.0).round() / 100.0;
    assert_eq!(last_year["change_pct"]["checkout_revenue_usd"], json!(expected));

    let refused = app.get(&format!("/v1/revenue-impact?{RANGE}&compare=last_month"), Some(&app.secret_key)).await;
    assert_eq!((refused.status, refused.body["error"]["field"].as_str()), (422, Some("compare")));
    let daily = app.get(&format!("/v1/revenue-impact/daily?{RANGE}&compare=last_year"), Some(&app.secret_key)).await;
    assert_eq!(
        (daily.status, daily.body["error"]["field"].as_str()),
        (422, Some("compare")),
        "the series has no comparison"
    );
}

#[tokio::test]
async fn the_funnel_follows_the_conversations_of_the_range_to_checkout() {
    let Some(app) = fixture().await else { return };
    // In the range (New York days): T-CHAT (03-07, grounded, cart, order 60 min
    // later), T-UNGROUNDED (03-07), T-FAQ (01:30 EST on 03-08: JPY cart, order
    // 60 min later), T-NUDGE (23:29 EDT on 03-08: order 61 min later, no cart).
    // T-OLD (03-05) is outside.
    let f = app.get(&format!("/v1/funnel?{RANGE}"), Some(&app.secret_key)).await;
    assert_eq!(f.status, 200, "{:?}", f.body);
    let steps = |c: i64, g: i64, cart: i64, checkout: i64, rates: [Value; 3], median: Value| {
        json!({"conversations": c, "grounded": g, "with_cart": cart, "with_checkout": checkout,
               "grounded_rate_pct": rates[0], "with_cart_rate_pct": rates[1], "with_checkout_rate_pct": rates[2],
               "median_minutes_to_checkout": median})
    };
    let mut expected = steps(4, 3, 2, 3, [json!(75.0), json!(66.67), json!(150.0)], json!(60.0));
    expected["from"] = json!("2026-03-07");
    expected["to"] = json!("2026-03-09");
    expected["timezone"] = json!("America/New_York");
    expected["by_source"] = json!({
        "CHAT_WIDGET": steps(2, 1, 1, 1, [json!(50.0), json!(100.0), json!(100.0)], json!(60.0)),
        "FAQ": steps(1, 1, 1, 1, [json!(100.0), json!(100.0), json!(100.0)], json!(60.0)),
        "NUDGE_CLICK": steps(1, 1, 0, 1, [json!(100.0), json!(0.0), Value::Null], json!(61.0)),
    });
    assert_eq!(f.body, expected);

    // The filters narrow the conversations: advisor holds T-CHAT and T-NUDGE.
    let advisor = app.get(&format!("/v1/funnel?{RANGE}&ai_profile=advisor"), Some(&app.secret_key)).await.body;
    assert_eq!((&advisor["conversations"], &advisor["with_checkout"]), (&json!(2), &json!(2)));
    let faq = app.get(&format!("/v1/funnel?{RANGE}&source=FAQ"), Some(&app.secret_key)).await.body;
    assert_eq!((&faq["conversations"], &faq["by_source"]["CHAT_WIDGET"]["conversations"]), (&json!(1), &json!(0)));

    // A message sent earlier but arriving later moves the conversation's first
    // message, and with it the day the funnel counts it on.
    let late = json!({"ticket_id": "T-LATE", "channel": "chat", "fingerprint": "FP-L",
                      "messages": [{"message_id": "2", "sent_at": "2026-03-10T15:00:00Z", "role": "ai",
                                    "text": "…", "has_answer_found": true}]});
    ok(app.ticket(late).await, 200).await;
    let before = app.get(&format!("/v1/funnel?{RANGE}"), Some(&app.secret_key)).await.body;
    assert_eq!(before["conversations"], 4);
    let earlier = json!({"ticket_id": "T-LATE", "channel": "chat", "fingerprint": "FP-L",
                         "messages": [{"message_id": "1", "sent_at": "2026-03-09T15:00:00Z", "role": "shopper",
                                       "text": "…"}]});
    ok(app.ticket(earlier).await, 200).await;
    let after = app.get(&format!("/v1/funnel?{RANGE}"), Some(&app.secret_key)).await.body;
    assert_eq!((&after["conversations"], &after["grounded"]), (&json!(5), &json!(4)));

    // A conversation that arrives after FP-E's cart add and order (both
    // NO_TICKET then) counts as grounded, and gets their credit only when
    // reattribute decides them again: the funnel follows the stored decisions.
    let late_e = json!({"ticket_id": "T-E", "channel": "chat", "fingerprint": "FP-E",
                        "messages": [{"message_id": "a", "sent_at": "2026-03-09T10:30:00Z", "role": "ai",
                                      "text": "…", "has_answer_found": true}]});
    ok(app.ticket(late_e).await, 200).await;
    let before = app.get(&format!("/v1/funnel?{RANGE}"), Some(&app.secret_key)).await.body;
    assert_eq!(
        (&before["conversations"], &before["grounded"], &before["with_cart"], &before["with_checkout"]),
        (&json!(6), &json!(5), &json!(2), &json!(3))
    );
    let replay = app.cli(&["reattribute", "--company", &app.company_id]);
    assert!(replay.status.success(), "{replay:?}");
    let after = app.get(&format!("/v1/funnel?{RANGE}"), Some(&app.secret_key)).await.body;
    assert_eq!((&after["with_cart"], &after["with_checkout"]), (&json!(3), &json!(4)), "{after}");
    // T-E's order came 90 minutes after its first message: 60, 60, 61, 90.
    assert_eq!(after["median_minutes_to_checkout"], 60.5);

    for (query, field) in [("limit=3", "limit"), ("include_test=true", "include_test")] {
        let refused = app.get(&format!("/v1/funnel?{RANGE}&{query}"), Some(&app.secret_key)).await;
        assert_eq!((refused.status, refused.body["error"]["field"].as_str()), (422, Some(field)));
    }
    assert_eq!(app.get("/v1/funnel", Some(&app.company_key)).await.status, 401);
}

#[tokio::test]
async fn refunds_are_checked_and_never_double_counted() {
    let Some(app) = fixture().await else { return };
    let again = refund(&app, "R-A", "A-1", "12.00").await;
    assert_eq!((again.status, again.error_code()), (409, "duplicate_refund"));
    let too_much = refund(&app, "R-A2", "A-1", "36.01").await;
    assert_eq!((too_much.status, too_much.error_code()), (422, "refund_exceeds_order"));
    assert_eq!(ok(refund(&app, "R-A3", "A-1", "36.00").await, 201).await.body["usd_value"], "36.00");
    let public = app.ingest("/analytics/refunds", json!({"refund_id": "x", "order_id": "A-1", "amount": "1"})).await;
    assert_eq!(public.status, 401, "a browser key cannot refund");
    for (body, field) in [
        (json!({"refund_id": "z", "order_id": "A-1", "amount": "0"}), "amount"),
        (json!({"refund_id": "z", "order_id": "A-1", "amount": "-3"}), "amount"),
        (json!({"refund_id": "z", "amount": "3"}), "order_id"),
    ] {
        let a = app.ingest_secret("/analytics/refunds", &body, &[]).await;
        assert_eq!((a.status, a.body["error"]["field"].as_str()), (422, Some(field)), "{body}");
    }
    let report = app.report(RANGE).await.body;
    assert_eq!(report["metrics"]["refunds_usd"], "64.00");
    assert_eq!(report["metrics"]["net_checkout_revenue_usd"], "124.00");
    assert_eq!(report["by_source"]["CHAT_WIDGET"]["net_checkout_revenue_usd"], "0.00");
    assert_rollups_match_events(&app.db).await;
}

#[tokio::test]
async fn a_visitor_across_the_range_edge_counts_with_its_days_inside() {
    let Some(app) = spawn_app().await else { return };
    let visit = |at: &str| json!({"user_fingerprint": "FP-S", "occurred_at": at});
    ok(app.ingest("/analytics/visits", visit("2026-03-06T12:00:00Z")).await, 204).await;
    app.ticket(grounded_ticket("T-S", "FP-S", "2026-03-08T10:00:00Z", "2026-03-08T10:00:05Z")).await;
    ok(app.checkout(checkout(Some("FP-S"), "S-1", "30.00", "USD", "2026-03-08T11:00:00Z")).await, 201).await;
    // Someone else comes on one day only, and never buys.
    ok(
        app.ingest("/analytics/visits", json!({"user_fingerprint": "FP-T", "occurred_at": "2026-03-06T13:00:00Z"}))
            .await,
        204,
    )
    .await;

    let rates = |report: &Value| {
        let m = &report["metrics"];
        (
            m["assisted_visitors"].as_i64(),
            m["assisted_conversion_rate_pct"].as_f64(),
            m["unassisted_visitors"].as_i64(),
            m["unassisted_conversion_rate_pct"].as_f64(),
        )
    };
    // Its days after the edge: assisted and converted.
    assert_eq!(rates(&app.report("from=2026-03-07&to=2026-03-09").await.body), (Some(1), Some(100.0), Some(0), None));
    // Its day before: seen only, like FP-T.
    assert_eq!(rates(&app.report("from=2026-03-05&to=2026-03-06").await.body), (Some(0), None, Some(2), Some(0.0)));
    // Wholly inside.
    assert_eq!(
        rates(&app.report("from=2026-03-06&to=2026-03-08").await.body),
        (Some(1), Some(100.0), Some(1), Some(0.0))
    );
    // The previous period of 03-08..03-09 is 03-06..03-07.
    let previous = &app.report("from=2026-03-08&to=2026-03-09").await.body["previous"];
    assert_eq!((previous["metrics"]["unassisted_visitors"].as_i64()), Some(2));
    assert_rollups_match_events(&app.db).await;
}
