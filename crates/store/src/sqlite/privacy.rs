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
    history::{self, Companies},
    rollups,
};
use crate::{
    StoreError,
    model::CompanyId,
    rows::{Contribution, RollupKey},
};

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

/// The events stored under a fingerprint (as user or FAQ fingerprint), found
/// through its visitor days: every event gives its fingerprints a row there,
/// so no index of events by fingerprint is needed (it would cost every ingest).
pub(super) fn events_of(conn: &Connection, company: &CompanyId, fingerprint: &str) -> Result<Vec<i64>, StoreError> {
    let timezone = history::company_settings(conn, company)?.timezone;
    let days: Vec<String> = conn
        .prepare_cached("SELECT day FROM visitor_days WHERE company_id = ?1 AND user_fingerprint = ?2")?
        .query_map(params![company.0, fingerprint], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut on_day = conn.prepare_cached(
        "SELECT event_pk FROM events
         WHERE company_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms < ?3
           AND (user_fingerprint = ?4 OR user_faq_fingerprint = ?4)",
    )?;
    let mut found = Vec::new();
    for day in days {
        let date: jiff::civil::Date = day.parse().map_err(|_| StoreError::Corrupt(format!("day {day}")))?;
        let (from, to) = revtrace_core::time::day_bounds(date, &timezone);
        let rows = on_day.query_map(params![company.0, from, to, fingerprint], |r| r.get(0))?;
        for row in rows {
            found.push(row?);
        }
    }
    Ok(found)
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
    // Its events, with the receipts that name it among their candidates.
    for event_pk in events_of(conn, company, fingerprint)? {
        let candidates: String =
            conn.query_row("SELECT candidates FROM events WHERE event_pk = ?1", params![event_pk], |r| r.get(0))?;
        let mut value: Value = serde_json::from_str(&candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for candidate in value.as_array_mut().into_iter().flatten() {
            if candidate["fingerprint"] == fingerprint {
                candidate["fingerprint"] = json!(token);
            }
        }
        conn.execute(
            "UPDATE events SET cart_token = NULL, candidates = ?4,
                user_fingerprint = CASE user_fingerprint WHEN ?2 THEN ?3 ELSE user_fingerprint END,
                user_faq_fingerprint = CASE user_faq_fingerprint WHEN ?2 THEN ?3 ELSE user_faq_fingerprint END
             WHERE event_pk = ?1",
            params![event_pk, fingerprint, token, value.to_string()],
        )?;
    }
    // What the conversations said goes; that they happened (and when) stays.
    conn.execute(
        "UPDATE messages SET text = NULL, metadata = NULL, product_ids = NULL
         WHERE ticket_pk IN (SELECT ticket_pk FROM tickets WHERE company_id = ?1 AND fingerprint = ?2)",
        params![c, fingerprint],
    )?;
    for sql in [
        "UPDATE tickets SET fingerprint = ?3 WHERE company_id = ?1 AND fingerprint = ?2",
        "UPDATE visitor_days SET user_fingerprint = ?3 WHERE company_id = ?1 AND user_fingerprint = ?2",
        "UPDATE multi_visitors SET fingerprint = ?3 WHERE company_id = ?1 AND fingerprint = ?2",
        "UPDATE cart_positions SET user_fingerprint = ?3 WHERE company_id = ?1 AND user_fingerprint = ?2",
    ] {
        conn.execute(sql, params![c, fingerprint, token])?;
    }
    conn.execute("DELETE FROM cart_tokens WHERE company_id = ?1 AND user_fingerprint = ?2", params![c, fingerprint])?;
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
         FROM events INDEXED BY events_by_shop WHERE shop_domain = ?1 AND company_id = ?2",
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
        conn.execute(
            "DELETE FROM refunds INDEXED BY refunds_by_order WHERE company_id = ?1 AND order_id = ?2",
            params![company.0, order_id],
        )?;
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
    let rows = |sql: &str, args: &[&dyn rusqlite::ToSql], columns: &[&str]| -> Result<Vec<Value>, StoreError> {
        let mut stmt = conn.prepare(sql)?;
        let mut rows = stmt.query(args)?;
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
            &[&company.0, fingerprint],
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
        // `carray` is not compiled in: the found events go through a temp table.
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS privacy_events (event_pk INTEGER PRIMARY KEY)", [])?;
        conn.execute("DELETE FROM temp.privacy_events", [])?;
        for event_pk in events_of(conn, company, fingerprint)? {
            conn.execute("INSERT OR IGNORE INTO temp.privacy_events VALUES (?1)", params![event_pk])?;
        }
        let events = rows(
            "SELECT event_id, cart_type, source_category, occurred_at_ms, event_type, product_id, variant_id,
                    quantity_signed, order_id, amount, currency, usd_cents, reason, ticket_id, is_test
             FROM events WHERE company_id = ?1 AND event_pk IN (SELECT event_pk FROM temp.privacy_events)
             ORDER BY occurred_at_ms",
            &[&company.0],
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
            &[&company.0, fingerprint],
            &["cart_token", "updated_at_ms"],
        )?;
        let days = rows(
            "SELECT day, seen, assisted, converted FROM visitor_days
             WHERE company_id = ?1 AND user_fingerprint = ?2 ORDER BY day",
            &[&company.0, fingerprint],
            &["day", "seen", "assisted", "converted"],
        )?;
        people.push(json!({"fingerprint": fingerprint, "messages": messages, "events": events,
                           "cart_tokens": cart_tokens, "visitor_days": days}));
    }
    Ok(json!({"company_id": company.0, "fingerprints": people}))
}
