//! Privacy on PostgreSQL: the same erasure as `sqlite::privacy` (a fingerprint
//! replaced everywhere by a random token; what the shopper wrote dropped;
//! amounts and decisions kept) and the same export.

use deadpool_postgres::GenericClient;
use serde_json::{Value, json};

use super::{Tx, all, exec, history, ingest, lock, one, opt, rollups};
use crate::{
    StoreError,
    model::CompanyId,
    rows::{Contribution, RollupKey},
};

/// Records a privacy request or a redaction done; returns its number.
pub(super) async fn record(
    tx: &Tx<'_>,
    company: &CompanyId,
    shop_domain: Option<&str>,
    kind: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<i64, StoreError> {
    Ok(one(
        tx,
        "INSERT INTO privacy_requests (company_id, shop_domain, kind, payload, received_at_ms)
         VALUES ($1, $2, $3, $4, $5) RETURNING request_pk",
        &[&company.0, &shop_domain, &kind, &payload.to_string(), &now_ms],
    )
    .await?
    .get(0))
}

/// The order ids of a recorded `customers/data_request`.
pub(super) async fn requested_orders(
    c: &impl GenericClient,
    company: &CompanyId,
    request: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let payload = opt(
        c,
        "SELECT payload FROM privacy_requests WHERE request_pk = $1 AND company_id = $2 AND kind = 'data_request'",
        &[&request, &company.0],
    )
    .await?;
    Ok(payload.map(|r| {
        let value: Value = serde_json::from_str(r.get(0)).unwrap_or_default();
        value["orders_requested"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|id| id.to_string().trim_matches('"').to_owned())
            .collect()
    }))
}

/// The fingerprints under which these orders were stored.
pub(super) async fn fingerprints_of_orders(
    c: &impl GenericClient,
    company: &CompanyId,
    order_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let rows = all(
        c,
        "SELECT user_fingerprint, user_faq_fingerprint FROM events WHERE company_id = $1 AND order_id = ANY($2)",
        &[&company.0, &order_ids],
    )
    .await?;
    let mut found: Vec<String> =
        rows.iter().flat_map(|r| [r.get::<_, Option<String>>(0), r.get::<_, Option<String>>(1)]).flatten().collect();
    found.sort();
    found.dedup();
    Ok(found)
}

/// `customers/redact`: erases the fingerprints of the listed orders.
pub(super) async fn redact_orders(tx: &Tx<'_>, company: &CompanyId, order_ids: &[String]) -> Result<u64, StoreError> {
    history::company_settings(tx, company).await?;
    exec(
        tx,
        "UPDATE events SET cart_token = NULL WHERE company_id = $1 AND order_id = ANY($2)",
        &[&company.0, &order_ids],
    )
    .await?;
    let fingerprints = fingerprints_of_orders(tx, company, order_ids).await?;
    let keys: Vec<String> = fingerprints.iter().map(|f| ingest::shopper_lock(company, f)).collect();
    lock(tx, &keys).await?;
    for fingerprint in &fingerprints {
        erase_fingerprint(tx, company, fingerprint).await?;
    }
    Ok(fingerprints.len() as u64)
}

/// The events stored under a fingerprint, found through its visitor days
/// (see `sqlite::privacy::events_of`).
async fn events_of(c: &impl GenericClient, company: &CompanyId, fingerprint: &str) -> Result<Vec<i64>, StoreError> {
    let timezone = history::company_settings(c, company).await?.timezone;
    let days = all(
        c,
        "SELECT day FROM visitor_days WHERE company_id = $1 AND user_fingerprint = $2",
        &[&company.0, &fingerprint],
    )
    .await?;
    let mut found = Vec::new();
    for r in days {
        let day: &str = r.get(0);
        let date: jiff::civil::Date = day.parse().map_err(|_| StoreError::Corrupt(format!("day {day}")))?;
        let (from, to) = revtrace_core::time::day_bounds(date, &timezone);
        let rows = all(
            c,
            "SELECT event_pk FROM events
             WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3
               AND (user_fingerprint = $4 OR user_faq_fingerprint = $4)",
            &[&company.0, &from, &to, &fingerprint],
        )
        .await?;
        found.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    Ok(found)
}

/// Replaces a fingerprint with a fresh token everywhere, and drops what the
/// shopper wrote under it. Returns the token. The caller holds its lock.
pub(super) async fn erase_fingerprint(
    tx: &Tx<'_>,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<String, StoreError> {
    let token = format!("erased-{}", uuid::Uuid::new_v4().simple());
    let c = &company.0;
    for event_pk in events_of(tx, company, fingerprint).await? {
        let candidates: String =
            one(tx, "SELECT candidates FROM events WHERE event_pk = $1", &[&event_pk]).await?.get(0);
        let mut value: Value = serde_json::from_str(&candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for candidate in value.as_array_mut().into_iter().flatten() {
            if candidate["fingerprint"] == fingerprint {
                candidate["fingerprint"] = json!(token);
            }
        }
        exec(
            tx,
            "UPDATE events SET cart_token = NULL, candidates = $4,
                user_fingerprint = CASE WHEN user_fingerprint = $2 THEN $3 ELSE user_fingerprint END,
                user_faq_fingerprint = CASE WHEN user_faq_fingerprint = $2 THEN $3 ELSE user_faq_fingerprint END
             WHERE event_pk = $1",
            &[&event_pk, &fingerprint, &token, &value.to_string()],
        )
        .await?;
    }
    exec(
        tx,
        "UPDATE messages SET text = NULL, metadata = NULL, product_ids = NULL
         WHERE ticket_pk IN (SELECT ticket_pk FROM tickets WHERE company_id = $1 AND fingerprint = $2)",
        &[c, &fingerprint],
    )
    .await?;
    for sql in [
        "UPDATE tickets SET fingerprint = $3 WHERE company_id = $1 AND fingerprint = $2",
        "UPDATE visitor_days SET user_fingerprint = $3 WHERE company_id = $1 AND user_fingerprint = $2",
        "UPDATE multi_visitors SET fingerprint = $3 WHERE company_id = $1 AND fingerprint = $2",
        "UPDATE cart_positions SET user_fingerprint = $3 WHERE company_id = $1 AND user_fingerprint = $2",
    ] {
        exec(tx, sql, &[c, &fingerprint, &token]).await?;
    }
    exec(tx, "DELETE FROM cart_tokens WHERE company_id = $1 AND user_fingerprint = $2", &[c, &fingerprint]).await?;
    Ok(token)
}

/// `shop/redact`: the shop's orders (and what identified their shoppers) go,
/// leaving the reports as if they had never come; then the shop itself.
pub(super) async fn redact_shop(tx: &Tx<'_>, company: &CompanyId, shop_domain: &str) -> Result<u64, StoreError> {
    history::company_settings(tx, company).await?;
    let orders = all(
        tx,
        "SELECT event_pk, order_id, user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
                message_source, is_test, usd_cents, refunded_cents
         FROM events WHERE shop_domain = $1 AND company_id = $2",
        &[&shop_domain, &company.0],
    )
    .await?;
    let mut erased: Vec<String> = Vec::new();
    for r in &orders {
        let event_pk: i64 = r.get(0);
        let order_id: Option<String> = r.get(1);
        for fingerprint in [r.get::<_, Option<String>>(2), r.get::<_, Option<String>>(3)].into_iter().flatten() {
            if !erased.contains(&fingerprint) {
                lock(tx, &[ingest::shopper_lock(company, &fingerprint)]).await?;
                erase_fingerprint(tx, company, &fingerprint).await?;
                erased.push(fingerprint);
            }
        }
        let key = RollupKey {
            day: r.get(4),
            cart_type: "CHECKOUT",
            attributed: r.get(5),
            ai_profile_id: r.get::<_, Option<String>>(6).unwrap_or_default(),
            message_source: r.get::<_, Option<String>>(7).unwrap_or_default(),
            is_test: r.get(8),
        };
        let contribution = Contribution { usd_cents: r.get(9), quantity: 0, refunded_cents: r.get(10) };
        rollups::apply(tx, company, &key, contribution, -1).await?;
        exec(tx, "DELETE FROM line_items WHERE event_pk = $1", &[&event_pk]).await?;
        exec(tx, "DELETE FROM refunds WHERE company_id = $1 AND order_id = $2", &[&company.0, &order_id]).await?;
        exec(tx, "DELETE FROM cancellations WHERE company_id = $1 AND order_id = $2", &[&company.0, &order_id]).await?;
        exec(tx, "DELETE FROM events WHERE event_pk = $1", &[&event_pk]).await?;
    }
    exec(tx, "DELETE FROM shopify_secrets WHERE shop_domain = $1", &[&shop_domain]).await?;
    exec(tx, "DELETE FROM shopify_stores WHERE shop_domain = $1", &[&shop_domain]).await?;
    Ok(orders.len() as u64)
}

/// Everything revtrace holds under these fingerprints, as one JSON document
/// (the same shape as the SQLite backend's).
pub(super) async fn export(
    c: &impl GenericClient,
    company: &CompanyId,
    fingerprints: &[String],
) -> Result<Value, StoreError> {
    let mut people = Vec::new();
    for fingerprint in fingerprints {
        // Each query answers one JSON array, built by PostgreSQL with the
        // same field names and types as the SQLite export.
        let messages: Value = one(
            c,
            "SELECT coalesce(json_agg(json_build_object('ticket_id', t.ticket_id, 'channel', t.channel,
                    'ai_profile_id', t.ai_profile_id, 'message_id', m.message_id, 'sent_at_ms', m.sent_at_ms,
                    'role', m.role, 'has_answer_found', m.has_answer_found::int, 'text', m.text,
                    'metadata', m.metadata, 'product_ids', m.product_ids) ORDER BY t.ticket_id, m.sent_at_ms), '[]')
             FROM tickets t JOIN messages m ON m.ticket_pk = t.ticket_pk
             WHERE t.company_id = $1 AND t.fingerprint = $2",
            &[&company.0, fingerprint],
        )
        .await?
        .get(0);
        let event_pks = events_of(c, company, fingerprint).await?;
        let events: Value = one(
            c,
            "SELECT coalesce(json_agg(json_build_object('event_id', event_id, 'cart_type', cart_type,
                    'source_category', source_category, 'occurred_at_ms', occurred_at_ms, 'event_type', event_type,
                    'product_id', product_id, 'variant_id', variant_id, 'quantity_signed', quantity_signed,
                    'order_id', order_id, 'amount', amount, 'currency', currency, 'usd_cents', usd_cents,
                    'reason', reason, 'ticket_id', ticket_id, 'is_test', is_test::int) ORDER BY occurred_at_ms), '[]')
             FROM events WHERE company_id = $1 AND event_pk = ANY($2)",
            &[&company.0, &event_pks],
        )
        .await?
        .get(0);
        let cart_tokens: Value = one(
            c,
            "SELECT coalesce(json_agg(json_build_object('cart_token', cart_token, 'updated_at_ms', updated_at_ms)), '[]')
             FROM cart_tokens WHERE company_id = $1 AND user_fingerprint = $2",
            &[&company.0, fingerprint],
        )
        .await?
        .get(0);
        let days: Value = one(
            c,
            "SELECT coalesce(json_agg(json_build_object('day', day, 'seen', seen::int, 'assisted', assisted::int,
                    'converted', converted::int) ORDER BY day), '[]')
             FROM visitor_days WHERE company_id = $1 AND user_fingerprint = $2",
            &[&company.0, fingerprint],
        )
        .await?
        .get(0);
        people.push(json!({"fingerprint": fingerprint, "messages": messages, "events": events,
                           "cart_tokens": cart_tokens, "visitor_days": days}));
    }
    Ok(json!({"company_id": company.0, "fingerprints": people}))
}
