//! Refunds on PostgreSQL: the same rules as `sqlite::refunds` (stored against
//! their order, at the order's rate; one that arrives first waits for it).
//! The caller holds the order's lock.

use revtrace_core::{Multiplier, usd_cents};
use rust_decimal::Decimal;

use super::{
    Tx, all, exec, history, opt,
    pipeline::{Pipeline, params},
    rollups,
};
use crate::{
    Rejection, StoreError,
    model::{CompanyId, RefundInput, RefundReceipt},
    rows::{RollupKey, parse_multiplier},
};

struct Order {
    event_pk: i64,
    amount: Decimal,
    multiplier: Option<Multiplier>,
    key: RollupKey,
}

fn decimal(raw: &str, what: &str) -> Result<Decimal, StoreError> {
    raw.parse().map_err(|_| StoreError::Corrupt(format!("{what} {raw}")))
}

async fn stored_order(tx: &Tx<'_>, company: &CompanyId, order_id: &str) -> Result<Option<Order>, StoreError> {
    let row = opt(
        tx,
        "SELECT event_pk, amount, usd_multiplier, day, attributed, ai_profile_id, message_source, is_test
         FROM events WHERE company_id = $1 AND order_id = $2",
        &[&company.0, &order_id],
    )
    .await?;
    row.map(|r| {
        Ok(Order {
            event_pk: r.get(0),
            amount: decimal(r.get(1), "amount")?,
            multiplier: r.get::<_, Option<&str>>(2).map(parse_multiplier).transpose()?,
            key: RollupKey {
                day: r.get(3),
                cart_type: "CHECKOUT",
                attributed: r.get(4),
                ai_profile_id: r.get::<_, Option<String>>(5).unwrap_or_default(),
                message_source: r.get::<_, Option<String>>(6).unwrap_or_default(),
                is_test: r.get(7),
            },
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
async fn credit(tx: &Tx<'_>, company: &CompanyId, order: &Order, cents: i64) -> Result<(), StoreError> {
    exec(tx, "UPDATE events SET refunded_cents = refunded_cents + $2 WHERE event_pk = $1", &[&order.event_pk, &cents])
        .await?;
    rollups::add_refund(tx, company, &order.key, cents).await
}

pub(super) async fn record(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &RefundInput,
    now_ms: i64,
) -> Result<RefundReceipt, StoreError> {
    history::company_settings(tx, company).await?;
    let known =
        opt(tx, "SELECT 1 FROM refunds WHERE company_id = $1 AND refund_id = $2", &[&company.0, &input.refund_id])
            .await?;
    if known.is_some() {
        return Err(Rejection::DuplicateRefund { refund_id: input.refund_id.clone() }.into());
    }
    let order = stored_order(tx, company, &input.order_id).await?;
    let usd = match &order {
        Some(order) => {
            let before = all(
                tx,
                "SELECT amount FROM refunds WHERE company_id = $1 AND order_id = $2",
                &[&company.0, &input.order_id],
            )
            .await?;
            let refunded = before.iter().filter_map(|r| r.get::<_, &str>(0).parse::<Decimal>().ok()).sum::<Decimal>();
            if input.within_order_value && refunded + input.amount > order.amount {
                return Err(Rejection::RefundExceedsOrder {
                    order_id: input.order_id.clone(),
                    order_value: order.amount.to_string(),
                }
                .into());
            }
            to_usd(input.amount, order.multiplier)?
        }
        None => None,
    };
    exec(
        tx,
        "INSERT INTO refunds (company_id, refund_id, order_id, amount, usd_cents, applied, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&company.0, &input.refund_id, &input.order_id, &input.amount.to_string(), &usd, &order.is_some(), &now_ms],
    )
    .await?;
    if let (Some(order), Some(cents)) = (&order, usd) {
        credit(tx, company, order, cents).await?;
    }
    Ok(RefundReceipt {
        refund_id: input.refund_id.clone(),
        order_id: input.order_id.clone(),
        applied: order.is_some(),
        usd_value: usd.map(|c| revtrace_core::UsdCents(c).to_string()),
    })
}

/// The refunds waiting for an order: `(refund_id, amount)`, read with the
/// order's other reads (the caller holds the order's lock).
pub(super) const WAITING: &str =
    "SELECT refund_id, amount FROM refunds WHERE company_id = $1 AND order_id = $2 AND NOT applied";

/// Queues the application of the refunds that arrived before this order,
/// now that it is stored (its event found by id, as it is written in the
/// same batch).
pub(super) fn push_apply_pending(
    p: &mut Pipeline,
    company: &CompanyId,
    event_id: &str,
    multiplier: Option<Multiplier>,
    key: &RollupKey,
    waiting: &[tokio_postgres::Row],
) -> Result<(), StoreError> {
    if waiting.is_empty() {
        return Ok(());
    }
    let mut total = 0;
    for r in waiting {
        let refund_id: String = r.get(0);
        let cents = to_usd(decimal(r.get(1), "refund amount")?, multiplier)?;
        p.push(
            "UPDATE refunds SET applied = true, usd_cents = $3 WHERE company_id = $1 AND refund_id = $2",
            params![company.0.clone(), refund_id, cents],
        );
        total += cents.unwrap_or_default();
    }
    p.push(
        "UPDATE events SET refunded_cents = refunded_cents + $2 WHERE event_id = $1",
        params![event_id.to_owned(), total],
    );
    rollups::push_upsert(p, company, key, [0, 0, 0, 0, total]);
    Ok(())
}
