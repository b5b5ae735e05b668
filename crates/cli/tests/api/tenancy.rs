//! A company's keys neither read nor write another company's data.

use revtrace_store::NewCompany;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn companies_are_isolated() {
    let Some(app) = spawn_app().await else { return };
    let other = app
        .store
        .create_company(NewCompany { name: "Other".into(), timezone: "UTC".into(), window_ms: 86_400_000 })
        .await
        .unwrap();

    // Company A's grounded ticket under FP-1.
    app.ticket(grounded_ticket("TK-1", "FP-1", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z")).await;
    let mine = app.checkout(order(Some("FP-1"), "1", "48.00", "2026-09-01T10:00:00Z")).await;
    assert_eq!(mine.body["reason"], "ATTRIBUTED");

    // Company B's event under the same fingerprint sees none of A's tickets,
    // and B may use A's order id and ticket id without conflict.
    let mut theirs = order(Some("FP-1"), "1", "48.00", "2026-09-01T10:00:00Z");
    theirs["company_key"] = json!(other.company_key);
    let b = app.checkout(theirs).await;
    assert_eq!((b.status, b.body["reason"].as_str()), (201, Some("NO_TICKET")));
    let mut ticket = grounded_ticket("TK-1", "FP-9", "2026-09-01T09:00:00Z", "2026-09-01T09:00:01Z");
    ticket["company_key"] = json!(other.company_key);
    assert_eq!(app.ticket(ticket).await.status, 200);

    // B's secret key cannot read A's receipt; the public key reads nothing.
    let event_id = mine.body["event_id"].as_str().unwrap();
    let path = format!("/v1/events/{event_id}/attribution");
    assert_eq!(app.get(&path, Some(&other.secret_key)).await.status, 404);
    let public = app.get(&path, Some(&app.company_key)).await;
    assert_eq!((public.status, public.error_code()), (401, "unauthorized"));
    assert_eq!(app.get(&path, None).await.status, 401);
    assert_eq!(app.get(&path, Some(&app.secret_key)).await.status, 200);
}

#[tokio::test]
async fn the_secret_key_ingests_as_api_and_the_public_key_as_sdk() {
    let Some(app) = spawn_app().await else { return };
    let sdk = app.checkout(order(None, "1", "1.00", "2026-09-01T10:00:00Z")).await;
    let api =
        app.ingest_secret("/analytics/checkout_events", &order(None, "2", "1.00", "2026-09-01T10:00:00Z"), &[]).await;
    let sdk_receipt = app.receipt(sdk.body["event_id"].as_str().unwrap()).await;
    let api_receipt = app.receipt(api.body["event_id"].as_str().unwrap()).await;
    assert_eq!(sdk_receipt.body["source_category"], "SDK");
    assert_eq!(api_receipt.body["source_category"], "API");
}
