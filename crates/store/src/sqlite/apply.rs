//! Applies an engine plan on the writer's connection, inside the call's
//! savepoint: one statement (or a few) per write, in the plan's order.

use rusqlite::{Connection, params};

use super::rollups;
use crate::{
    StoreError,
    engine::{NewEvent, Write},
    model::CompanyId,
};

/// Writes a plan. `now_ms` stamps the rows that record when they were written.
pub(super) fn apply(conn: &Connection, company: &CompanyId, writes: Vec<Write>, now_ms: i64) -> Result<(), StoreError> {
    // The ticket whose messages follow: its row id, once looked up.
    let mut ticket: Option<(String, i64)> = None;
    for write in writes {
        match write {
            Write::Ticket { ticket_id, ai_profile_id, channel, fingerprint } => {
                conn.prepare_cached(
                    "INSERT INTO tickets (company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    company.0,
                    ticket_id,
                    ai_profile_id,
                    channel.as_str(),
                    fingerprint,
                    now_ms
                ])?;
                ticket = Some((ticket_id, conn.last_insert_rowid()));
            }
            Write::Message { ticket_id, message: m } => {
                let ticket_pk = match &ticket {
                    Some((id, pk)) if *id == ticket_id => *pk,
                    _ => {
                        let pk: i64 = conn
                            .prepare_cached("SELECT ticket_pk FROM tickets WHERE company_id = ?1 AND ticket_id = ?2")?
                            .query_row(params![company.0, ticket_id], |r| r.get(0))?;
                        ticket = Some((ticket_id, pk));
                        pk
                    }
                };
                conn.prepare_cached(
                    "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id, text,
                        metadata, product_ids)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    ticket_pk,
                    m.message_id,
                    m.sent_at_ms,
                    m.role.as_str(),
                    m.has_answer_found,
                    m.nudge_id,
                    m.text,
                    m.metadata,
                    m.product_ids
                ])?;
            }
            Write::Event(event) => insert_event(conn, company, *event)?,
            Write::CartPosition { fingerprint, product_id, variant_key, delta } => {
                // A CHECK would refuse a negative row even on the conflict
                // path, so a removal only ever updates.
                let sql = if delta >= 0 {
                    "INSERT INTO cart_positions (company_id, user_fingerprint, product_id, variant_key, net_quantity)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (company_id, user_fingerprint, product_id, variant_key)
                     DO UPDATE SET net_quantity = net_quantity + excluded.net_quantity"
                } else {
                    "UPDATE cart_positions SET net_quantity = net_quantity + ?5
                     WHERE company_id = ?1 AND user_fingerprint = ?2 AND product_id = ?3 AND variant_key = ?4"
                };
                conn.prepare_cached(sql)?.execute(params![company.0, fingerprint, product_id, variant_key, delta])?;
            }
            Write::Rollup { key, sums } => rollups::upsert(conn, company, &key, sums)?,
            Write::Visitor(write) => rollups::visitor(conn, company, write)?,
            Write::CartToken { cart_token, fingerprint } => {
                conn.prepare_cached(
                    "INSERT INTO cart_tokens (company_id, cart_token, user_fingerprint, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (company_id, cart_token) DO UPDATE SET user_fingerprint = excluded.user_fingerprint,
                        updated_at_ms = excluded.updated_at_ms",
                )?
                .execute(params![company.0, cart_token, fingerprint, now_ms])?;
            }
            Write::Refund { refund_id, order_id, amount, usd_cents, applied } => {
                conn.prepare_cached(
                    "INSERT INTO refunds (company_id, refund_id, order_id, amount, usd_cents, applied, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    company.0,
                    refund_id,
                    order_id,
                    amount.to_string(),
                    usd_cents,
                    applied,
                    now_ms
                ])?;
            }
            Write::RefundApplied { refund_id, usd_cents } => {
                conn.prepare_cached(
                    "UPDATE refunds SET applied = 1, usd_cents = ?3 WHERE company_id = ?1 AND refund_id = ?2",
                )?
                .execute(params![company.0, refund_id, usd_cents])?;
            }
            Write::CreditOrder { event_id, cents } => {
                conn.prepare_cached("UPDATE events SET refunded_cents = refunded_cents + ?2 WHERE event_id = ?1")?
                    .execute(params![event_id, cents])?;
            }
            Write::Answer { endpoint, id, request_sha256, status, body } => {
                conn.prepare_cached(
                    "INSERT INTO idempotency_keys (company_id, endpoint, idempotency_id, request_sha256, status, body,
                                                   created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    company.0,
                    endpoint,
                    id,
                    request_sha256.as_slice(),
                    status,
                    body,
                    now_ms
                ])?;
            }
        }
    }
    Ok(())
}

fn insert_event(conn: &Connection, company: &CompanyId, e: NewEvent) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
            user_fingerprint, user_faq_fingerprint, event_type, product_id, variant_id, quantity_signed, unit_price,
            order_id, cart_token, amount, currency, usd_multiplier, rate_effective_from, usd_cents, is_test,
            reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by,
            rate_source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
            ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, 'ingest', ?31)",
    )?
    .execute(params![
        e.event_id,
        company.0,
        e.cart_type,
        e.source_category,
        e.occurred_at_ms,
        e.day,
        e.received_at_ms,
        e.user_fingerprint,
        e.user_faq_fingerprint,
        e.event_type,
        e.product_id,
        e.variant_id,
        e.quantity_signed,
        e.unit_price,
        e.order_id,
        e.cart_token,
        e.amount,
        e.currency.as_str(),
        e.usd_multiplier,
        e.rate_effective_from,
        e.usd_cents,
        e.is_test,
        e.reason,
        e.attributed,
        e.ticket_id,
        e.ai_profile_id,
        e.message_source,
        e.window_ms,
        e.candidates,
        e.decided_at_ms,
        e.rate_source,
    ])?;
    if e.line_items.is_empty() {
        return Ok(());
    }
    let event_pk = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (position, item) in e.line_items.into_iter().enumerate() {
        insert.execute(params![
            event_pk,
            position as i64,
            item.product_id,
            item.variant_id,
            item.sku,
            item.title,
            item.quantity,
            item.unit_price
        ])?;
    }
    Ok(())
}
