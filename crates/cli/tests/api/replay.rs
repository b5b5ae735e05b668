//! Replaying stored history (`revtrace reattribute`) gives the decisions that
//! in-order ingestion gave, and fixes decisions after late data.

use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

const BASE_MS: i64 = 1_788_220_800_000; // 2026-09-01T00:00:00Z
const FINGERPRINTS: [&str; 3] = ["FP-a", "FP-b", "FAQ-c"];

fn at(minutes: i64) -> String {
    Timestamp::from_millisecond(BASE_MS + minutes * 60_000).unwrap().to_string()
}

#[derive(Clone, Debug)]
struct Message {
    minute: i64,
    role: usize,
    answer: Option<bool>,
    nudge: bool,
}

#[derive(Clone, Debug)]
struct Ticket {
    fingerprint: usize,
    faq: bool,
    messages: Vec<Message>,
}

#[derive(Clone, Debug)]
struct Event {
    minute: i64,
    fingerprint: Option<usize>,
    faq_fingerprint: bool,
    checkout: bool,
}

fn message() -> impl Strategy<Value = Message> {
    // Grounded AI answers are common enough that every reason code shows up.
    let answer = proptest::option::weighted(0.8, proptest::bool::weighted(0.7));
    (0i64..4320, 0usize..3, answer, proptest::bool::weighted(0.2)).prop_map(|(minute, role, answer, nudge)| Message {
        minute,
        role,
        answer,
        nudge,
    })
}

fn ticket() -> impl Strategy<Value = Ticket> {
    (0usize..3, proptest::bool::weighted(0.3), proptest::collection::vec(message(), 1..5))
        .prop_map(|(fingerprint, faq, messages)| Ticket { fingerprint, faq, messages })
}

fn event() -> impl Strategy<Value = Event> {
    (0i64..4320, proptest::option::of(0usize..2), any::<bool>(), any::<bool>()).prop_map(
        |(minute, fingerprint, faq_fingerprint, checkout)| Event { minute, fingerprint, faq_fingerprint, checkout },
    )
}

enum Step {
    Message(usize, usize),
    Event(usize),
}

/// Ingests the history in time order (messages before events at equal
/// minutes) and returns each event's (event_id, reason, ticket_id).
async fn ingest_in_order(app: &TestApp, tickets: &[Ticket], events: &[Event]) -> Vec<(String, Value, Value)> {
    let mut steps: Vec<(i64, u8, Step)> = Vec::new();
    for (t, ticket) in tickets.iter().enumerate() {
        for (m, message) in ticket.messages.iter().enumerate() {
            steps.push((message.minute, 0, Step::Message(t, m)));
        }
    }
    for (e, event) in events.iter().enumerate() {
        steps.push((event.minute, 1, Step::Event(e)));
    }
    steps.sort_by_key(|(minute, order, _)| (*minute, *order));
    let mut decisions = Vec::new();
    for (_, _, step) in steps {
        match step {
            Step::Message(t, m) => {
                let ticket = &tickets[t];
                let message = &ticket.messages[m];
                let role = ["shopper", "ai", "human_agent"][message.role];
                let mut body = json!({"message_id": format!("m{m}"), "sent_at": at(message.minute), "role": role});
                if let Some(answer) = message.answer {
                    body["has_answer_found"] = json!(answer);
                }
                if message.nudge {
                    body["metadata"] = json!({"nudge_id": "n1"});
                }
                let fingerprint = if ticket.faq { FINGERPRINTS[2] } else { FINGERPRINTS[ticket.fingerprint] };
                let a = app
                    .ticket(json!({"ticket_id": format!("T{t}"), "channel": if ticket.faq { "faq" } else { "chat" },
                        "fingerprint": fingerprint, "messages": [body]}))
                    .await;
                assert_eq!(a.status, 200, "{:?}", a.body);
            }
            Step::Event(e) => {
                let event = &events[e];
                let mut body = if event.checkout {
                    json!({"order_id": format!("O{e}"), "order_value": "20.00", "currency": "USD"})
                } else {
                    json!({"event_type": "ITEM_ADDED", "product_id": "p", "quantity": 1, "unit_price": "20.00",
                        "currency": "USD", "user_fingerprint": "anonymous"})
                };
                body["occurred_at"] = json!(at(event.minute));
                if let Some(fp) = event.fingerprint {
                    body["user_fingerprint"] = json!(FINGERPRINTS[fp]);
                }
                if event.faq_fingerprint {
                    body["user_faq_fingerprint"] = json!(FINGERPRINTS[2]);
                }
                let path = if event.checkout { "/analytics/checkout_events" } else { "/analytics/cart_events" };
                let a = app.ingest(path, body).await;
                assert_eq!(a.status, 201, "{:?}", a.body);
                decisions.push((
                    a.body["event_id"].as_str().unwrap().to_owned(),
                    a.body["reason"].clone(),
                    a.body["ticket_id"].clone(),
                ));
            }
        }
    }
    decisions
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn in_order_ingestion_equals_reattribute(
        tickets in proptest::collection::vec(ticket(), 0..6),
        events in proptest::collection::vec(event(), 1..12),
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let Some(app) = spawn_app_with("UTC", 6).await else { return };
            let decisions = ingest_in_order(&app, &tickets, &events).await;

            let dry = app.cli(&["reattribute", "--dry-run"]);
            assert!(dry.status.success(), "{dry:?}");
            let line = String::from_utf8_lossy(&dry.stdout);
            assert!(line.contains(" 0 decisions changed"), "{line}");
            assert!(line.contains(&format!("{} events", events.len())), "{line}");

            assert_rollups_match_events(&app.db).await;
            let real = app.cli(&["reattribute"]);
            assert!(real.status.success(), "{real:?}");
            for (event_id, reason, ticket_id) in decisions {
                let receipt = app.receipt(&event_id).await;
                assert_eq!(receipt.body["reason"], reason);
                assert_eq!(receipt.body["winner"]["ticket_id"].clone(), if ticket_id.is_null() { Value::Null } else { ticket_id });
            }
            // A narrower window moves events between rollup rows; reports follow.
            let narrower = app.cli(&["reattribute", "--window-hours", "1"]);
            assert!(narrower.status.success(), "{narrower:?}");
            assert_rollups_match_events(&app.db).await;
            assert_report_matches_export(&app).await;
        });
    }
}

#[tokio::test]
async fn reattribute_credits_late_conversations_and_applies_a_new_window() {
    let Some(app) = spawn_app().await else { return };
    // The purchase reaches revtrace before the conversation that led to it.
    let early = app.checkout(order(Some("FP-1"), "1", "48.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(early.body["reason"], "NO_TICKET");
    app.ticket(grounded_ticket("TK-late", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:03Z")).await;
    let far = app.checkout(order(Some("FP-1"), "2", "30.00", "2026-09-01T20:00:00Z")).await;
    assert_eq!(far.body["reason"], "ATTRIBUTED");

    let out = app.cli(&["reattribute"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 events in 1 companies: 1 decisions changed"));
    let receipt = app.receipt(early.body["event_id"].as_str().unwrap()).await;
    assert_eq!(receipt.body["reason"], "ATTRIBUTED");
    assert_eq!(receipt.body["winner"]["ticket_id"], "TK-late");
    assert_eq!(receipt.body["decided_by"], "reattribute");

    // A dry run with a narrower window counts the change and writes nothing.
    let dry = app.cli(&["reattribute", "--window-hours", "2", "--dry-run", "--company", &app.company_id]);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("1 decisions changed"), "{dry:?}");
    assert_eq!(app.receipt(far.body["event_id"].as_str().unwrap()).await.body["reason"], "ATTRIBUTED");

    // The real run changes the stored decision and the company's window for new events.
    let out = app.cli(&["reattribute", "--window-hours", "2"]);
    assert!(out.status.success(), "{out:?}");
    let receipt = app.receipt(far.body["event_id"].as_str().unwrap()).await;
    assert_eq!(
        (receipt.body["reason"].as_str(), receipt.body["window_ms"].as_i64()),
        (Some("OUTSIDE_WINDOW"), Some(7_200_000))
    );
    let next = app.cart(add_to_cart("FP-1", "p", 1, "5.00", "2026-09-01T11:30:00Z")).await;
    assert_eq!(next.body["reason"], "OUTSIDE_WINDOW", "the running server uses the new window at once");
}

/// The report's headline sums, recomputed from the exported reporting table.
async fn assert_report_matches_export(app: &TestApp) {
    let range = "from=2026-08-25&to=2026-09-10";
    let (status, _, body) = app.export_bytes(range).await;
    assert_eq!(status, 200);
    let rows: Vec<Value> = String::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let cents = |v: &Value| -> i64 {
        let text = v.as_str().unwrap_or("0");
        let (units, fraction) = text.split_once('.').unwrap_or((text, "00"));
        let sign = if units.starts_with('-') { -1 } else { 1 };
        units.parse::<i64>().unwrap() * 100 + sign * fraction.parse::<i64>().unwrap()
    };
    let (mut gross, mut orders, mut cart, mut products, mut baseline) = (0, 0, 0, 0, 0);
    for row in &rows {
        let attributed = row["attributed"] == json!(true);
        match (row["cart_type"].as_str(), attributed) {
            (Some("CHECKOUT"), true) => {
                gross += cents(&row["usd_cart_value"]);
                orders += 1;
            }
            (Some("CHECKOUT"), false) => baseline += cents(&row["usd_cart_value"]),
            (_, true) => {
                cart += cents(&row["usd_cart_value"]);
                products += row["quantity_signed"].as_i64().unwrap();
            }
            _ => {}
        }
    }
    let report = app.report(range).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let m = &report.body["metrics"];
    let usd = |c: i64| format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, (c / 100).abs(), (c % 100).abs());
    assert_eq!(m["checkout_revenue_usd"], json!(usd(gross)));
    assert_eq!(m["orders"], json!(orders));
    assert_eq!(m["cart_gmv_usd"], json!(usd(cart)));
    assert_eq!(m["products_in_cart"], json!(products));
    assert_eq!(m["unattributed_checkout_revenue_usd"], json!(usd(baseline)));

    // Visitors, by brute force over every visitor day of the range.
    let brute = app
        .db
        .rows(
            "SELECT CAST(coalesce(sum(a), 0) AS BIGINT), CAST(coalesce(sum(1 - a), 0) AS BIGINT) FROM
                (SELECT max(CASE WHEN seen THEN 1 ELSE 0 END) AS s, max(CASE WHEN assisted THEN 1 ELSE 0 END) AS a
                 FROM visitor_days WHERE day BETWEEN '2026-08-25' AND '2026-09-10' GROUP BY user_fingerprint) v
             WHERE s = 1",
        )
        .await;
    let (assisted, unassisted) = (brute[0][0].as_i64().unwrap(), brute[0][1].as_i64().unwrap());
    assert_eq!(
        (m["assisted_visitors"].as_i64(), m["unassisted_visitors"].as_i64()),
        (Some(assisted), Some(unassisted))
    );
}
