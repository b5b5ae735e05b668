//! The rollup rows and visitor days reports read, kept in step with `events`
//! inside the same transaction (the PostgreSQL twin of `sqlite::rollups`).
//! The hot counters are sharded by connection: each transaction adds to the
//! row of its own shard, and reports sum the shards.

use super::pipeline::{Pipeline, params};
use crate::{model::CompanyId, rows::RollupKey};

const UPSERT_ROLLUP: &str =
    "INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source,
        is_test, shard, events, unconverted, usd_cents, quantity, refunded_cents)
     VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid() % 32, $8, $9, $10, $11, $12)
     ON CONFLICT (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard)
     DO UPDATE SET
        events = rollups.events + excluded.events, unconverted = rollups.unconverted + excluded.unconverted,
        usd_cents = rollups.usd_cents + excluded.usd_cents, quantity = rollups.quantity + excluded.quantity,
        refunded_cents = rollups.refunded_cents + excluded.refunded_cents";

/// Queues the addition of `sums` to this connection's shard of a row.
pub(super) fn push_upsert(p: &mut Pipeline, company: &CompanyId, key: &RollupKey, sums: [i64; 5]) {
    let [events, unconverted, usd_cents, quantity, refunded_cents] = sums;
    p.push(
        UPSERT_ROLLUP,
        params![
            company.to_string(),
            key.day.clone(),
            key.cart_type.as_str(),
            key.attributed,
            key.ai_profile_id.clone(),
            key.source_column(),
            key.is_test,
            events,
            unconverted,
            usd_cents,
            quantity,
            refunded_cents
        ],
    );
}

pub(super) const COUNT_VISITOR: &str =
    "INSERT INTO visitor_counts (company_id, day, seen, assisted, converted, shard, visitors)
     VALUES ($1, $2, $3, $4, $5, pg_backend_pid() % 32, $6)
     ON CONFLICT (company_id, day, seen, assisted, converted, shard)
     DO UPDATE SET visitors = visitor_counts.visitors + excluded.visitors";
