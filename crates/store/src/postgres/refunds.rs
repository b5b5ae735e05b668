//! The facts a refund's rules read (`engine::refunds`), sent with the call's
//! other reads: whether its id is known, its stored order with the refunds
//! counted so far, and the refunds that wait for an order being stored. The
//! caller holds the order's lock.

use rust_decimal::Decimal;
use tokio_postgres::Row;

use super::pipeline::{Pipeline, params};
use crate::{
    StoreError,
    engine::refunds::{RefundFacts, StoredOrder},
    model::{CompanyId, RefundInput},
    rows::{RollupKey, parse_multiplier},
};

fn decimal(raw: &str, what: &str) -> Result<Decimal, StoreError> {
    raw.parse().map_err(|_| StoreError::Corrupt(format!("{what} {raw}")))
}

/// Where a refund's facts come back in the read batch.
pub(super) struct RefundReads {
    known: usize,
    order: usize,
    before: usize,
}

pub(super) fn push_reads(reads: &mut Pipeline, company: &CompanyId, input: &RefundInput) -> RefundReads {
    RefundReads {
        known: reads.push(
            "SELECT 1 FROM refunds WHERE company_id = $1 AND refund_id = $2",
            params![company.0.clone(), input.refund_id.clone()],
        ),
        order: reads.push(
            "SELECT event_id, amount, usd_multiplier, day, attributed, ai_profile_id, message_source, is_test
             FROM events WHERE company_id = $1 AND order_id = $2",
            params![company.0.clone(), input.order_id.clone()],
        ),
        before: reads.push(
            "SELECT amount FROM refunds WHERE company_id = $1 AND order_id = $2",
            params![company.0.clone(), input.order_id.clone()],
        ),
    }
}

pub(super) fn facts(rows: &[Vec<Row>], ix: &RefundReads) -> Result<RefundFacts, StoreError> {
    let known = !rows[ix.known].is_empty();
    let order = match rows[ix.order].first() {
        Some(r) if !known => Some(StoredOrder {
            event_id: r.get(0),
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
            refunded: rows[ix.before].iter().map(|r| decimal(r.get(0), "refund amount")).sum::<Result<_, _>>()?,
        }),
        _ => None,
    };
    Ok(RefundFacts { known, order })
}

/// The refunds waiting for an order: `(refund_id, amount)`, read with the
/// order's other reads; see [`waiting_of`].
pub(super) const WAITING: &str =
    "SELECT refund_id, amount FROM refunds WHERE company_id = $1 AND order_id = $2 AND NOT applied";

pub(super) fn waiting_of(rows: &[Row]) -> Result<Vec<(String, Decimal)>, StoreError> {
    rows.iter().map(|r| Ok((r.get(0), decimal(r.get(1), "refund amount")?))).collect()
}
