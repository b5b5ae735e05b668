//! Bad input never takes the server down, never answers 5xx, and a rejected
//! call stores nothing: random values in every field of valid bodies, and
//! random bytes.

use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::{Value, json};

use crate::helpers::*;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
        Just(json!("9".repeat(40))),
        Just(json!("-0.000000000000000000000000001")),
        Just(json!("2026-09-01T10:00:00Z")),
        Just(json!("ITEM_REMOVED")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::hash_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn valid_bodies() -> Vec<(&'static str, Value)> {
    vec![
        ("/analytics/cart_events", add_to_cart("FP-1", "p1", 1, "5.00", "2026-09-01T10:00:00Z")),
        ("/analytics/checkout_events", order(Some("FP-1"), "O-1", "48.00", "2026-09-01T10:00:00Z")),
        ("/analytics/tickets", grounded_ticket("T-1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z")),
        ("/analytics/cart_tokens", json!({"cart_token": "c1-abc", "user_fingerprint": "FP-1"})),
        ("/analytics/visits", json!({"user_fingerprint": "FP-1"})),
    ]
}

const TABLES: [&str; 7] =
    ["events", "line_items", "tickets", "messages", "cart_positions", "cart_tokens", "visitor_days"];

async fn rows(app: &TestApp) -> Vec<i64> {
    app.db.counts(&TABLES).await
}

async fn check(app: &TestApp, path: &str, body: Vec<u8>) -> Result<(), TestCaseError> {
    let before = rows(app).await;
    let answer = app.post_raw(path, body, &[]).await;
    prop_assert!(
        [200, 201, 204, 400, 401, 409, 413, 422].contains(&answer.status),
        "{path}: {} {:?}",
        answer.status,
        answer.body
    );
    if answer.status >= 400 {
        prop_assert!(answer.body["error"]["code"].is_string(), "{path}: {:?}", answer.body);
        prop_assert_eq!(rows(app).await, before, "a rejected call stored something");
    }
    Ok(())
}

#[test]
fn random_field_values_are_answered_cleanly() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(app) = runtime.block_on(spawn_app()) else { return };
    let bodies = valid_bodies();
    let mut runner = TestRunner::new(ProptestConfig { cases: 400, ..ProptestConfig::default() });
    let strategy = (0..bodies.len(), 0usize..16, any_json(), "[a-z_]{1,16}", any::<bool>());
    runner
        .run(&strategy, |(which, field, value, new_key, nested)| {
            let (path, mut body) = bodies[which].clone();
            body["company_key"] = json!(app.company_key);
            let object = body.as_object_mut().unwrap();
            let keys: Vec<String> = object.keys().cloned().collect();
            if nested && which == 1 {
                body["line_items"][0][keys[field % keys.len()].clone()] = value;
            } else if nested && which == 2 {
                body["messages"][1]["sent_at"] = value;
            } else if field < keys.len() && keys[field] != "company_key" {
                object.insert(keys[field].clone(), value);
            } else {
                object.insert(new_key, value);
            }
            runtime.block_on(check(&app, path, body.to_string().into_bytes()))
        })
        .unwrap();
}

#[test]
fn random_bytes_are_answered_cleanly() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(app) = runtime.block_on(spawn_app()) else { return };
    let mut runner = TestRunner::new(ProptestConfig { cases: 200, ..ProptestConfig::default() });
    let paths = ["/analytics/cart_events", "/analytics/checkout_events", "/analytics/tickets", "/analytics/visits"];
    runner
        .run(&(0..paths.len(), proptest::collection::vec(any::<u8>(), 0..300)), |(which, bytes)| {
            runtime.block_on(check(&app, paths[which], bytes))
        })
        .unwrap();
}
