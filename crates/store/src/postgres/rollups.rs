//! The rollup rows and visitor days reports read, kept in step with `events`
//! inside the same transaction (the PostgreSQL twin of `sqlite::rollups`).
//! The hot counters are sharded by connection: each transaction adds to the
//! row of its own shard, and reports sum the shards.

use super::{
    Tx,
    pipeline::{Pipeline, params},
};
use crate::{
    StoreError,
    engine::{StoredDay, VisitorDays, VisitorWrite},
    model::CompanyId,
    rows::{Contribution, RollupKey, VisitorFlags},
};

/// Adds (`sign` = 1) or takes away (`sign` = -1) one event's contribution.
pub(super) async fn apply(
    tx: &Tx<'_>,
    company: &CompanyId,
    key: &RollupKey,
    c: Contribution,
    sign: i64,
) -> Result<(), StoreError> {
    upsert(tx, company, key, c.sums(sign)).await
}

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
            company.0.clone(),
            key.day.clone(),
            key.cart_type,
            key.attributed,
            key.ai_profile_id.clone(),
            key.message_source.clone(),
            key.is_test,
            events,
            unconverted,
            usd_cents,
            quantity,
            refunded_cents
        ],
    );
}

async fn upsert(tx: &Tx<'_>, company: &CompanyId, key: &RollupKey, sums: [i64; 5]) -> Result<(), StoreError> {
    let mut p = Pipeline::default();
    push_upsert(&mut p, company, key, sums);
    p.run(tx).await.map(drop)
}

const COUNT_VISITOR: &str = "INSERT INTO visitor_counts (company_id, day, seen, assisted, converted, shard, visitors)
     VALUES ($1, $2, $3, $4, $5, pg_backend_pid() % 32, $6)
     ON CONFLICT (company_id, day, seen, assisted, converted, shard)
     DO UPDATE SET visitors = visitor_counts.visitors + excluded.visitors";

/// Every visitor day of one fingerprint: `(fingerprint, day, seen,
/// assisted, converted, multi)`, read with the call's other reads (equalities
/// on the key's leading columns, so no cached plan can turn it into a scan).
pub(super) const VISITOR_DAYS_OF: &str =
    "SELECT user_fingerprint, day, seen, assisted, converted, multi FROM visitor_days
     WHERE company_id = $1 AND user_fingerprint = $2";

/// One fingerprint's visitor days from rows read with [`VISITOR_DAYS_OF`].
pub(super) fn visitor_days(fingerprint: &str, rows: &[tokio_postgres::Row]) -> VisitorDays {
    let days = rows
        .iter()
        .filter(|r| r.get::<_, &str>(0) == fingerprint)
        .map(|r| StoredDay {
            day: r.get(1),
            flags: VisitorFlags { seen: r.get(2), assisted: r.get(3), converted: r.get(4) },
            multi: r.get(5),
        })
        .collect();
    VisitorDays::new(fingerprint, days)
}

/// Queues one visitor write the engine planned.
pub(super) fn push_visitor(p: &mut Pipeline, company: &CompanyId, write: VisitorWrite) {
    let company = company.0.clone();
    match write {
        VisitorWrite::SetFlags { fingerprint, day, flags } => {
            p.push(
                "UPDATE visitor_days SET seen = $4, assisted = $5, converted = $6
                 WHERE company_id = $1 AND user_fingerprint = $2 AND day = $3",
                params![company, fingerprint, day, flags.seen, flags.assisted, flags.converted],
            );
        }
        VisitorWrite::Insert { fingerprint, day, flags, multi } => {
            p.push(
                "INSERT INTO visitor_days (company_id, user_fingerprint, day, seen, assisted, converted, multi)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![company, fingerprint, day, flags.seen, flags.assisted, flags.converted, multi],
            );
        }
        VisitorWrite::Count { day, flags, delta } => {
            p.push(COUNT_VISITOR, params![company, day, flags.seen, flags.assisted, flags.converted, delta]);
        }
        VisitorWrite::BecameMulti { fingerprint } => {
            p.push(
                "INSERT INTO multi_visitors (company_id, fingerprint) VALUES ($1, $2)
                 ON CONFLICT (company_id, fingerprint) DO NOTHING",
                params![company.clone(), fingerprint.clone()],
            );
            p.push(
                "UPDATE visitor_days SET multi = true WHERE company_id = $1 AND user_fingerprint = $2",
                params![company, fingerprint],
            );
        }
        VisitorWrite::Mirror { fingerprint, day, flags } => {
            p.push(
                "INSERT INTO multi_visitor_days (company_id, day, visitor_id, flags)
                 SELECT $1, $2, visitor_id, $4 FROM multi_visitors WHERE company_id = $1 AND fingerprint = $3
                 ON CONFLICT (company_id, day, visitor_id) DO UPDATE SET flags = excluded.flags",
                params![company, day, fingerprint, i16::from(flags.bits())],
            );
        }
    }
}
