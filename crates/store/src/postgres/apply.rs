//! Queues an engine plan as one pipeline of statements, in the plan's order.
//! Rows planned in the same batch are found by their natural keys (a new
//! ticket's messages by its ticket id, an order's line items and refunds by
//! its event id).

use super::{
    pipeline::{Pipeline, params},
    rollups,
};
use crate::{
    engine::{NewEvent, Write},
    model::CompanyId,
};

/// Queues a plan's writes. `now_ms` stamps the rows that record when they
/// were written.
pub(super) fn push(p: &mut Pipeline, company: &CompanyId, writes: Vec<Write>, now_ms: i64) {
    let company_id = || company.0.clone();
    for write in writes {
        match write {
            Write::Ticket { ticket_id, ai_profile_id, channel, fingerprint } => {
                p.push(
                    "INSERT INTO tickets (company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    params![company_id(), ticket_id, ai_profile_id, channel.as_str(), fingerprint, now_ms],
                );
            }
            Write::Message { ticket_id, message: m } => {
                p.push(
                    "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id, text,
                        metadata, product_ids)
                     SELECT ticket_pk, $3, $4, $5, $6, $7, $8, $9, $10 FROM tickets WHERE company_id = $1 AND ticket_id = $2",
                    params![
                        company_id(),
                        ticket_id,
                        m.message_id,
                        m.sent_at_ms,
                        m.role.as_str(),
                        m.has_answer_found,
                        m.nudge_id,
                        m.text,
                        m.metadata,
                        m.product_ids
                    ],
                );
            }
            Write::Event(event) => push_event(p, company, *event),
            Write::CartPosition { fingerprint, product_id, variant_key, delta } => {
                // Additions create the position; removals only update one.
                let sql = if delta >= 0 {
                    "INSERT INTO cart_positions (company_id, user_fingerprint, product_id, variant_key, net_quantity)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (company_id, user_fingerprint, product_id, variant_key)
                     DO UPDATE SET net_quantity = cart_positions.net_quantity + excluded.net_quantity"
                } else {
                    "UPDATE cart_positions SET net_quantity = net_quantity + $5
                     WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4"
                };
                p.push(sql, params![company_id(), fingerprint, product_id, variant_key, delta]);
            }
            Write::Rollup { key, sums } => rollups::push_upsert(p, company, &key, sums),
            Write::Visitor(write) => rollups::push_visitor(p, company, write),
            Write::CartToken { cart_token, fingerprint } => {
                p.push(
                    "INSERT INTO cart_tokens (company_id, cart_token, user_fingerprint, updated_at_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (company_id, cart_token) DO UPDATE SET user_fingerprint = excluded.user_fingerprint,
                        updated_at_ms = excluded.updated_at_ms",
                    params![company_id(), cart_token, fingerprint, now_ms],
                );
            }
            Write::Refund { refund_id, order_id, amount, usd_cents, applied } => {
                p.push(
                    "INSERT INTO refunds (company_id, refund_id, order_id, amount, usd_cents, applied, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    params![company_id(), refund_id, order_id, amount.to_string(), usd_cents, applied, now_ms],
                );
            }
            Write::RefundApplied { refund_id, usd_cents } => {
                p.push(
                    "UPDATE refunds SET applied = true, usd_cents = $3 WHERE company_id = $1 AND refund_id = $2",
                    params![company_id(), refund_id, usd_cents],
                );
            }
            Write::CreditOrder { event_id, cents } => {
                p.push(
                    "UPDATE events SET refunded_cents = refunded_cents + $2 WHERE event_id = $1",
                    params![event_id, cents],
                );
            }
            Write::Answer { endpoint, id, request_sha256, status, body } => {
                p.push(
                    "INSERT INTO idempotency_keys (company_id, endpoint, idempotency_id, request_sha256, status, body,
                        created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    params![company_id(), endpoint, id, request_sha256.to_vec(), i32::from(status), body, now_ms],
                );
            }
        }
    }
}

fn push_event(p: &mut Pipeline, company: &CompanyId, e: NewEvent) {
    let event_id = e.event_id.clone();
    p.push(
        "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
            user_fingerprint, user_faq_fingerprint, event_type, product_id, variant_id, quantity_signed, unit_price,
            order_id, cart_token, amount, currency, usd_multiplier, rate_effective_from, usd_cents, is_test,
            reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by,
            rate_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
            $23, $24, $25, $26, $27, $28, $29, $30, 'ingest', $31)",
        params![
            e.event_id,
            company.0.clone(),
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
            e.currency.as_str().to_owned(),
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
            e.rate_source
        ],
    );
    if e.line_items.is_empty() {
        return;
    }
    // One statement for every line, whatever the order's size.
    let items = e.line_items;
    let positions: Vec<i64> = (0..items.len() as i64).collect();
    let products: Vec<String> = items.iter().map(|i| i.product_id.clone()).collect();
    let variants: Vec<Option<String>> = items.iter().map(|i| i.variant_id.clone()).collect();
    let skus: Vec<Option<String>> = items.iter().map(|i| i.sku.clone()).collect();
    let titles: Vec<Option<String>> = items.iter().map(|i| i.title.clone()).collect();
    let quantities: Vec<i64> = items.iter().map(|i| i.quantity).collect();
    let prices: Vec<String> = items.into_iter().map(|i| i.unit_price).collect();
    p.push(
        "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
         SELECT (SELECT event_pk FROM events WHERE event_id = $1), *
         FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])",
        params![event_id, positions, products, variants, skus, titles, quantities, prices],
    );
}
