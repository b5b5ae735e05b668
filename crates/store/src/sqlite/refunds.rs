//! Refunds: stored against their order, converted to USD at the order's own
//! rate, and counted in the order's rollup row. A refund that arrives before
//! its order waits and is applied in the transaction that stores the order.

use revtrace_core::{Multiplier, usd_cents};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;

use super::{history::Companies, rollups};
use crate::{
    Rejection, StoreError,
    model::{CompanyId, RefundInput, RefundReceipt},
    rows::{RollupKey, parse_multiplier},
};

/// What a refund needs to know about its stored order.
struct Order {
    event_pk: i64,
    amount: Decimal,
    multiplier: Option<Multiplier>,
    key: RollupKey,
}

fn stored_order(conn: &Connection, company: &CompanyId, order_id: &str) -> Result<Option<Order>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT event_pk, amount, usd_multiplier, day, attributed, ai_profile_id, message_source, is_test
             FROM events WHERE company_id = ?1 AND order_id = ?2",
        )?
        .query_row(params![company.0, order_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                RollupKey {
                    day: r.get(3)?,
                    cart_type: "CHECKOUT",
                    attributed: r.get(4)?,
                    ai_profile_id: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    message_source: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                    is_test: r.get(7)?,
                },
            ))
        })
        .optional()?;
    row.map(|(event_pk, amount, multiplier, key)| {
        Ok(Order {
            event_pk,
            amount: amount.parse().map_err(|_| StoreError::Corrupt(format!("amount {amount}")))?,
            multiplier: multiplier.as_deref().map(parse_multiplier).transpose()?,
            key,
        })
    })
    .transpose()
}

fn to_usd(amount: Decimal, multiplier: Option<Multiplier>) -> Result<Option<i64>, StoreError> {
    multiplier
        .map(|m| usd_cents(amount, m).map(|c| c.0))
        .transpose()
        .map_err(|e| Rejection::Invalid(e.to_string()).into())
}

/// Counts `cents` of refunds on an order: its event and its rollup row.
fn credit(conn: &Connection, company: &CompanyId, order: &Order, cents: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE events SET refunded_cents = refunded_cents + ?2 WHERE event_pk = ?1")?
        .execute(params![order.event_pk, cents])?;
    rollups::add_refund(conn, company, &order.key, cents)
}

pub(super) fn record(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: RefundInput,
    now_ms: i64,
) -> Result<RefundReceipt, StoreError> {
    companies.get(conn, company)?;
    let known: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM refunds WHERE company_id = ?1 AND refund_id = ?2")?
        .query_row(params![company.0, input.refund_id], |r| r.get(0))
        .optional()?;
    if known.is_some() {
        return Err(Rejection::DuplicateRefund { refund_id: input.refund_id }.into());
    }
    let order = stored_order(conn, company, &input.order_id)?;
    let usd = match &order {
        Some(order) => {
            let before: Vec<String> = conn
                .prepare_cached(
                    "SELECT amount FROM refunds INDEXED BY refunds_by_order WHERE company_id = ?1 AND order_id = ?2",
                )?
                .query_map(params![company.0, input.order_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let refunded = before.iter().filter_map(|a| a.parse::<Decimal>().ok()).sum::<Decimal>();
            if input.within_order_value && refunded + input.amount > order.amount {
                return Err(Rejection::RefundExceedsOrder {
                    order_id: input.order_id,
                    order_value: order.amount.to_string(),
                }
                .into());
            }
            to_usd(input.amount, order.multiplier)?
        }
        None => None,
    };
    conn.prepare_cached(
        "INSERT INTO refunds (company_id, refund_id, order_id, amount, usd_cents, applied, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        company.0,
        input.refund_id,
        input.order_id,
        input.amount.to_string(),
        usd,
        order.is_some(),
        now_ms
    ])?;
    if let (Some(order), Some(cents)) = (&order, usd) {
        credit(conn, company, order, cents)?;
    }
    Ok(RefundReceipt {
        refund_id: input.refund_id,
        order_id: input.order_id,
        applied: order.is_some(),
        usd_value: usd.map(|c| revtrace_core::UsdCents(c).to_string()),
    })
}

/// Applies the refunds that arrived before this order, now that it is stored.
pub(super) fn apply_pending(
    conn: &Connection,
    company: &CompanyId,
    order_id: &str,
    event_pk: i64,
    multiplier: Option<Multiplier>,
    key: &RollupKey,
) -> Result<(), StoreError> {
    let waiting: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT refund_id, amount FROM refunds INDEXED BY refunds_by_order
             WHERE company_id = ?1 AND order_id = ?2 AND applied = 0",
        )?
        .query_map(params![company.0, order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if waiting.is_empty() {
        return Ok(());
    }
    let order = Order { event_pk, amount: Decimal::ZERO, multiplier, key: key.clone() };
    let mut total = 0;
    for (refund_id, amount) in waiting {
        let amount: Decimal = amount.parse().map_err(|_| StoreError::Corrupt(format!("refund amount {amount}")))?;
        let cents = to_usd(amount, multiplier)?;
        conn.prepare_cached("UPDATE refunds SET applied = 1, usd_cents = ?3 WHERE company_id = ?1 AND refund_id = ?2")?
            .execute(params![company.0, refund_id, cents])?;
        total += cents.unwrap_or_default();
    }
    credit(conn, company, &order, total)
}
