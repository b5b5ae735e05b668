//! Privacy: what revtrace holds about a fingerprint, and erasing it.
//!
//! Erasing a fingerprint replaces it everywhere with a fresh random token and
//! drops what the shopper wrote (message text, metadata, products shown), the
//! cart tokens and the order's cart token. Amounts, decisions and counts stay,
//! so totals do not move and `reattribute` still replays to the same result,
//! but nothing links the history back to the browser or the person.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::{
    history::Companies,
    rollups::{self, Contribution, RollupKey},
};
use crate::{StoreError, model::CompanyId};

/// Records a privacy request or a redaction done; returns its number.
pub(super) fn record(
    conn: &Connection,
    company: &CompanyId,
    shop_domain: Option<&str>,
    kind: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO privacy_requests (company_id, shop_domain, kind, payload, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![company.0, shop_domain, kind, payload.to_string(), now_ms])?;
    Ok(conn.last_insert_rowid())
}

/// The order ids of a recorded `customers/data_request`.
pub(super) fn requested_orders(
    conn: &Connection,
    company: &CompanyId,
    request: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let payload: Option<String> = conn
        .query_row(
            "SELECT payload FROM privacy_requests WHERE request_pk = ?1 AND company_id = ?2 AND kind = 'data_request'",
            params![request, company.0],
            |r| r.get(0),
        )
        .optional()?;
    Ok(payload.map(|p| {
        let value: Value = serde_json::from_str(&p).unwrap_or_default();
        value["orders_requested"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|id| id.to_string().trim_matches('"').to_owned())
            .collect()
    }))
}

/// The fingerprints under which these orders were stored.
pub(super) fn fingerprints_of_orders(
    conn: &Connection,
    company: &CompanyId,
    order_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_fingerprint, user_faq_fingerprint FROM events WHERE company_id = ?1 AND order_id = ?2",
    )?;
    let mut found = Vec::new();
    for order_id in order_ids {
        let mut rows = stmt.query(params![company.0, order_id])?;
        while let Some(r) = rows.next()? {
            found.extend([r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?].into_iter().flatten());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// `customers/redact`: erases the fingerprints of the listed orders.
pub(super) fn redact_orders(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    order_ids: &[String],
) -> Result<u64, StoreError> {
    companies.get(conn, company)?;
    let mut clear =
        conn.prepare_cached("UPDATE events SET cart_token = NULL WHERE company_id = ?1 AND order_id = ?2")?;
    for order_id in order_ids {
        clear.execute(params![company.0, order_id])?;
    }
    let fingerprints = fingerprints_of_orders(conn, company, order_ids)?;
    for fingerprint in &fingerprints {
        erase_fingerprint(conn, company, fingerprint)?;
    }
    Ok(fingerprints.len() as u64)
}

/// Replaces a fingerprint with a fresh token everywhere, and drops what the
/// shopper wrote under it. Returns the token.
pub(super) fn erase_fingerprint(
    conn: &Connection,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<String, StoreError> {
    let token = format!("erased-{}", uuid::Uuid::new_v4().simple());
    let c = &company.0;
    // What the conversations said goes; that they happened (and when) stays.
    conn.execute(
        "UPDATE messages SET text = NULL, metadata = NULL, product_ids = NULL
         WHERE ticket_pk IN (SELECT ticket_pk FROM tickets WHERE company_id = ?1 AND fingerprint = ?2)",
        params![c, fingerprint],
    )?;
    for sql in [
        "UPDATE tickets SET fingerprint = ?3 WHERE company_id = ?1 AND fingerprint = ?2",
        "UPDATE events SET user_fingerprint = ?3, cart_token = NULL WHERE company_id = ?1 AND user_fingerprint = ?2",
        "UPDATE events SET user_faq_fingerprint = ?3, cart_token = NULL
         WHERE company_id = ?1 AND user_faq_fingerprint = ?2",
        "UPDATE visitor_days SET user_fingerprint = ?3 WHERE company_id = ?1 AND user_fingerprint = ?2",
        "UPDATE multi_visitors SET fingerprint = ?3 WHERE company_id = ?1 AND fingerprint = ?2",
        "UPDATE cart_positions SET user_fingerprint = ?3 WHERE company_id = ?1 AND user_fingerprint = ?2",
    ] {
        conn.execute(sql, params![c, fingerprint, token])?;
    }
    conn.execute("DELETE FROM cart_tokens WHERE company_id = ?1 AND user_fingerprint = ?2", params![c, fingerprint])?;

    // Receipts name the candidate tickets' fingerprints.
    let mut stmt = conn.prepare(
        "SELECT event_pk, candidates FROM events
         WHERE company_id = ?1 AND (user_fingerprint = ?2 OR user_faq_fingerprint = ?2)",
    )?;
    let receipts = stmt
        .query_map(params![c, token], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (event_pk, candidates) in receipts {
        let mut value: Value = serde_json::from_str(&candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for candidate in value.as_array_mut().into_iter().flatten() {
            if candidate["fingerprint"] == fingerprint {
                candidate["fingerprint"] = json!(token);
            }
        }
        conn.execute("UPDATE events SET candidates = ?2 WHERE event_pk = ?1", params![event_pk, value.to_string()])?;
    }
    Ok(token)
}

/// `shop/redact`: the shop's orders (and what identified their shoppers) go,
/// leaving the reports as if they had never come; then the shop itself.
pub(super) fn redact_shop(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    shop_domain: &str,
) -> Result<u64, StoreError> {
    companies.get(conn, company)?;
    let mut stmt = conn.prepare(
        "SELECT event_pk, order_id, user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
                message_source, is_test, usd_cents, refunded_cents
         FROM events WHERE shop_domain = ?1 AND company_id = ?2",
    )?;
    let orders = stmt
        .query_map(params![shop_domain, company.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                [r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?],
                RollupKey {
                    day: r.get(4)?,
                    cart_type: "CHECKOUT",
                    attributed: r.get(5)?,
                    ai_profile_id: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                    message_source: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    is_test: r.get(8)?,
                },
                Contribution { usd_cents: r.get(9)?, quantity: 0, refunded_cents: r.get(10)? },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut erased = Vec::new();
    for (event_pk, order_id, fingerprints, key, contribution) in &orders {
        for fingerprint in fingerprints.iter().flatten() {
            if !erased.contains(fingerprint) {
                erase_fingerprint(conn, company, fingerprint)?;
                erased.push(fingerprint.clone());
            }
        }
        rollups::apply(conn, company, key, *contribution, -1)?;
        conn.execute("DELETE FROM line_items WHERE event_pk = ?1", params![event_pk])?;
        conn.execute("DELETE FROM refunds WHERE company_id = ?1 AND order_id = ?2", params![company.0, order_id])?;
        conn.execute(
            "DELETE FROM cancellations WHERE company_id = ?1 AND order_id = ?2",
            params![company.0, order_id],
        )?;
        conn.execute("DELETE FROM events WHERE event_pk = ?1", params![event_pk])?;
    }
    conn.execute("DELETE FROM shopify_secrets WHERE shop_domain = ?1", params![shop_domain])?;
    conn.execute("DELETE FROM shopify_stores WHERE shop_domain = ?1", params![shop_domain])?;
    Ok(orders.len() as u64)
}

/// Everything revtrace holds under these fingerprints, as one JSON document.
pub(super) fn export(conn: &Connection, company: &CompanyId, fingerprints: &[String]) -> Result<Value, StoreError> {
    let rows = |sql: &str, fingerprint: &str, columns: &[&str]| -> Result<Vec<Value>, StoreError> {
        let mut stmt = conn.prepare(sql)?;
        let mut rows = stmt.query(params![company.0, fingerprint])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut object = serde_json::Map::new();
            for (i, name) in columns.iter().enumerate() {
                let value = match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(n) => json!(n),
                    rusqlite::types::ValueRef::Real(f) => json!(f),
                    rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                    rusqlite::types::ValueRef::Blob(_) => Value::Null,
                };
                object.insert((*name).to_owned(), value);
            }
            out.push(Value::Object(object));
        }
        Ok(out)
    };
    let mut people = Vec::new();
    for fingerprint in fingerprints {
        let messages = rows(
            "SELECT t.ticket_id, t.channel, t.ai_profile_id, m.message_id, m.sent_at_ms, m.role, m.has_answer_found,
                    m.text, m.metadata, m.product_ids
             FROM tickets t JOIN messages m ON m.ticket_pk = t.ticket_pk
             WHERE t.company_id = ?1 AND t.fingerprint = ?2 ORDER BY t.ticket_id, m.sent_at_ms",
            fingerprint,
            &[
                "ticket_id",
                "channel",
                "ai_profile_id",
                "message_id",
                "sent_at_ms",
                "role",
                "has_answer_found",
                "text",
                "metadata",
                "product_ids",
            ],
        )?;
        let events = rows(
            "SELECT event_id, cart_type, source_category, occurred_at_ms, event_type, product_id, variant_id,
                    quantity_signed, order_id, amount, currency, usd_cents, reason, ticket_id, is_test
             FROM events WHERE company_id = ?1 AND (user_fingerprint = ?2 OR user_faq_fingerprint = ?2)
             ORDER BY occurred_at_ms",
            fingerprint,
            &[
                "event_id",
                "cart_type",
                "source_category",
                "occurred_at_ms",
                "event_type",
                "product_id",
                "variant_id",
                "quantity_signed",
                "order_id",
                "amount",
                "currency",
                "usd_cents",
                "reason",
                "ticket_id",
                "is_test",
            ],
        )?;
        let cart_tokens = rows(
            "SELECT cart_token, updated_at_ms FROM cart_tokens WHERE company_id = ?1 AND user_fingerprint = ?2",
            fingerprint,
            &["cart_token", "updated_at_ms"],
        )?;
        let days = rows(
            "SELECT day, seen, assisted, converted FROM visitor_days
             WHERE company_id = ?1 AND user_fingerprint = ?2 ORDER BY day",
            fingerprint,
            &["day", "seen", "assisted", "converted"],
        )?;
        people.push(json!({"fingerprint": fingerprint, "messages": messages, "events": events,
                           "cart_tokens": cart_tokens, "visitor_days": days}));
    }
    Ok(json!({"company_id": company.0, "fingerprints": people}))
}
