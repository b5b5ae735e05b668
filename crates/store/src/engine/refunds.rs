//! Refunds: stored against their order, converted to USD at the order's own
//! rate and counted in the order's rollup row. A refund id is stored once; an
//! API refund may not take its order's refunds past the order's value. A
//! refund that arrives before its order waits and is applied by the plan
//! that stores the order.

use revtrace_core::{EventId, Multiplier, UsdCents, usd_cents};
use rust_decimal::Decimal;

use super::{Plan, Write};
use crate::{
    Rejection, StoreError,
    model::{RefundInput, RefundReceipt},
    rows::{Ingested, RollupKey},
};

/// What a refund needs to know about its stored order.
/// Whose order it is, for the exposures its refunds move.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderOwner<'a> {
    pub fingerprint: Option<&'a str>,
    pub occurred_at_ms: i64,
    pub is_test: bool,
}

pub(crate) struct StoredOrder {
    pub event_id: EventId,
    pub user_fingerprint: Option<String>,
    pub occurred_at_ms: i64,
    pub amount: Decimal,
    pub multiplier: Option<Multiplier>,
    pub key: RollupKey,
    /// The amounts of the order's refunds stored so far.
    pub refunded: Decimal,
}

/// What a refund depends on.
pub(crate) struct RefundFacts {
    /// The refund id is already stored.
    pub known: bool,
    pub order: Option<StoredOrder>,
}

fn to_usd(amount: Decimal, multiplier: Option<Multiplier>) -> Result<Option<UsdCents>, StoreError> {
    multiplier
        .map(|m| usd_cents(amount, m))
        .transpose()
        .map_err(|e| Rejection::invalid(Some("amount"), e.to_string()).into())
}

pub(crate) fn record(input: &RefundInput, facts: RefundFacts) -> Result<Plan, StoreError> {
    if facts.known {
        return Err(Rejection::DuplicateRefund { refund_id: input.refund_id.clone() }.into());
    }
    let usd = match &facts.order {
        Some(order) => {
            if input.within_order_value && order.refunded + input.amount > order.amount {
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
    let applied = facts.order.is_some();
    let mut writes = vec![Write::Refund {
        refund_id: input.refund_id.clone(),
        order_id: input.order_id.clone(),
        amount: input.amount,
        usd_cents: usd,
        applied,
    }];
    if let (Some(order), Some(cents)) = (&facts.order, usd) {
        let owner = OrderOwner {
            fingerprint: order.user_fingerprint.as_deref(),
            occurred_at_ms: order.occurred_at_ms,
            is_test: order.key.is_test,
        };
        credit(&mut writes, order.event_id.clone(), &order.key, owner, cents);
    }
    let answer = Ingested::Refund(RefundReceipt {
        refund_id: input.refund_id.clone(),
        order_id: input.order_id.clone(),
        applied,
        usd_value: usd.map(|c| c.to_string()),
    });
    Ok(Plan { writes, answer })
}

/// Counts `cents` of refunds on an order: its event and its rollup row.
fn credit(writes: &mut Vec<Write>, event_id: EventId, key: &RollupKey, owner: OrderOwner<'_>, cents: UsdCents) {
    writes.push(Write::CreditOrder { event_id, cents });
    writes.push(Write::Rollup { key: key.clone(), sums: [0, 0, 0, 0, cents.cents()] });
    let outcome = super::experiments::Outcome::refund(cents.cents(), key.attributed);
    writes.extend(super::experiments::moved(owner.fingerprint, owner.is_test, owner.occurred_at_ms, outcome));
}

/// Plans applying the refunds that waited for this order, now being stored.
pub(crate) fn apply_waiting(
    writes: &mut Vec<Write>,
    event_id: &EventId,
    multiplier: Option<Multiplier>,
    key: &RollupKey,
    owner: OrderOwner<'_>,
    waiting: Vec<(String, Decimal)>,
) -> Result<(), StoreError> {
    if waiting.is_empty() {
        return Ok(());
    }
    let mut total = UsdCents::ZERO;
    for (refund_id, amount) in waiting {
        let cents = to_usd(amount, multiplier)?;
        writes.push(Write::RefundApplied { refund_id, usd_cents: cents });
        total = total.checked_add(cents.unwrap_or_default()).ok_or(Rejection::TotalOutOfRange)?;
    }
    credit(writes, event_id.clone(), key, owner, total);
    Ok(())
}
