//! The facts a refund's rules read (`engine::refunds`): whether its id is
//! known, its stored order with the refunds counted so far, and the refunds
//! that wait for an order being stored.

use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;

use crate::{
    StoreError,
    engine::refunds::{RefundFacts, StoredOrder},
    model::{CompanyId, RefundInput},
    rows::{RollupKey, parse_multiplier},
};

fn decimal(raw: &str, what: &str) -> Result<Decimal, StoreError> {
    raw.parse().map_err(|_| StoreError::Corrupt(format!("{what} {raw}")))
}

pub(super) fn facts(conn: &Connection, company: &CompanyId, input: &RefundInput) -> Result<RefundFacts, StoreError> {
    let known = conn
        .prepare_cached("SELECT 1 FROM refunds WHERE company_id = ?1 AND refund_id = ?2")?
        .query_row(params![company.0, input.refund_id], |r| r.get::<_, i64>(0))
        .optional()?
        .is_some();
    if known {
        return Ok(RefundFacts { known, order: None });
    }
    let row = conn
        .prepare_cached(
            "SELECT event_id, amount, usd_multiplier, day, attributed, ai_profile_id, message_source, is_test
             FROM events WHERE company_id = ?1 AND order_id = ?2",
        )?
        .query_row(params![company.0, input.order_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
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
    let Some((event_id, amount, multiplier, key)) = row else {
        return Ok(RefundFacts { known, order: None });
    };
    let before: Vec<String> = conn
        .prepare_cached(
            "SELECT amount FROM refunds INDEXED BY refunds_by_order WHERE company_id = ?1 AND order_id = ?2",
        )?
        .query_map(params![company.0, input.order_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let refunded = before.iter().map(|a| decimal(a, "refund amount")).sum::<Result<Decimal, _>>()?;
    Ok(RefundFacts {
        known,
        order: Some(StoredOrder {
            event_id,
            amount: decimal(&amount, "amount")?,
            multiplier: multiplier.as_deref().map(parse_multiplier).transpose()?,
            key,
            refunded,
        }),
    })
}

/// The refunds waiting for an order: `(refund_id, amount)`.
pub(super) fn waiting(
    conn: &Connection,
    company: &CompanyId,
    order_id: &str,
) -> Result<Vec<(String, Decimal)>, StoreError> {
    conn.prepare_cached(
        "SELECT refund_id, amount FROM refunds INDEXED BY refunds_by_order
         WHERE company_id = ?1 AND order_id = ?2 AND applied = 0",
    )?
    .query_map(params![company.0, order_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
    .map(|row| {
        let (refund_id, amount) = row?;
        Ok((refund_id, decimal(&amount, "refund amount")?))
    })
    .collect()
}
