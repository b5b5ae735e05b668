//! The rollup rows and visitor days reports read, kept in step with `events`
//! inside the same transaction (the PostgreSQL twin of `sqlite::rollups`).
//! The hot counters are sharded by connection: each transaction adds to the
//! row of its own shard, and reports sum the shards.

use deadpool_postgres::GenericClient;

use super::{Tx, exec, one, opt};
use crate::{
    StoreError,
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
    let unconverted = i64::from(c.usd_cents.is_none());
    let sums =
        [sign, sign * unconverted, sign * c.usd_cents.unwrap_or_default(), sign * c.quantity, sign * c.refunded_cents];
    upsert(tx, company, key, sums).await
}

/// A refund moves only the refunded sum of its order's row.
pub(super) async fn add_refund(
    tx: &Tx<'_>,
    company: &CompanyId,
    key: &RollupKey,
    cents: i64,
) -> Result<(), StoreError> {
    upsert(tx, company, key, [0, 0, 0, 0, cents]).await
}

/// Adds `[events, unconverted, usd_cents, quantity, refunded_cents]` to this
/// connection's shard of a row.
async fn upsert(tx: &Tx<'_>, company: &CompanyId, key: &RollupKey, sums: [i64; 5]) -> Result<(), StoreError> {
    let [events, unconverted, usd_cents, quantity, refunded_cents] = sums;
    exec(
        tx,
        "INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard,
            events, unconverted, usd_cents, quantity, refunded_cents)
         VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid() % 32, $8, $9, $10, $11, $12)
         ON CONFLICT (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard)
         DO UPDATE SET
            events = rollups.events + excluded.events, unconverted = rollups.unconverted + excluded.unconverted,
            usd_cents = rollups.usd_cents + excluded.usd_cents, quantity = rollups.quantity + excluded.quantity,
            refunded_cents = rollups.refunded_cents + excluded.refunded_cents",
        &[
            &company.0,
            &key.day,
            &key.cart_type,
            &key.attributed,
            &key.ai_profile_id,
            &key.message_source,
            &key.is_test,
            &events,
            &unconverted,
            &usd_cents,
            &quantity,
            &refunded_cents,
        ],
    )
    .await?;
    Ok(())
}

async fn count_visitor(
    tx: &Tx<'_>,
    company: &CompanyId,
    day: &str,
    f: VisitorFlags,
    delta: i64,
) -> Result<(), StoreError> {
    exec(
        tx,
        "INSERT INTO visitor_counts (company_id, day, seen, assisted, converted, shard, visitors)
         VALUES ($1, $2, $3, $4, $5, pg_backend_pid() % 32, $6)
         ON CONFLICT (company_id, day, seen, assisted, converted, shard)
         DO UPDATE SET visitors = visitor_counts.visitors + excluded.visitors",
        &[&company.0, &day, &f.seen, &f.assisted, &f.converted, &delta],
    )
    .await?;
    Ok(())
}

fn flags_of(r: &tokio_postgres::Row, at: usize) -> VisitorFlags {
    VisitorFlags { seen: r.get(at), assisted: r.get(at + 1), converted: r.get(at + 2) }
}

/// Records what a fingerprint did on a day; the same rules as
/// `sqlite::rollups::mark_visitor`. The caller holds the fingerprint's lock.
pub(super) async fn mark_visitor(
    tx: &Tx<'_>,
    company: &CompanyId,
    day: &str,
    fingerprint: &str,
    flags: VisitorFlags,
) -> Result<(), StoreError> {
    let stored = opt(
        tx,
        "SELECT seen, assisted, converted, multi FROM visitor_days
         WHERE company_id = $1 AND user_fingerprint = $2 AND day = $3",
        &[&company.0, &fingerprint, &day],
    )
    .await?;
    if let Some(r) = stored {
        let (before, multi): (VisitorFlags, bool) = (flags_of(&r, 0), r.get(3));
        let after = before.union(flags);
        if after == before {
            return Ok(());
        }
        exec(
            tx,
            "UPDATE visitor_days SET seen = $4, assisted = $5, converted = $6
             WHERE company_id = $1 AND user_fingerprint = $2 AND day = $3",
            &[&company.0, &fingerprint, &day, &after.seen, &after.assisted, &after.converted],
        )
        .await?;
        if multi {
            let id = multi_visitor_id(tx, company, fingerprint).await?;
            mirror_day(tx, company, day, id, after).await?;
        } else {
            count_visitor(tx, company, day, before, -1).await?;
            count_visitor(tx, company, day, after, 1).await?;
        }
        return Ok(());
    }
    // A new day for this fingerprint: was it active on another day?
    let other = opt(
        tx,
        "SELECT day, seen, assisted, converted, multi FROM visitor_days
         WHERE company_id = $1 AND user_fingerprint = $2 LIMIT 1",
        &[&company.0, &fingerprint],
    )
    .await?;
    let multi = match other {
        None => {
            count_visitor(tx, company, day, flags, 1).await?;
            false
        }
        Some(r) => {
            let (other_day, other_flags, already_multi): (String, VisitorFlags, bool) =
                (r.get(0), flags_of(&r, 1), r.get(4));
            let id = multi_visitor_id(tx, company, fingerprint).await?;
            if !already_multi {
                // Its first day leaves the counts for the mirror.
                count_visitor(tx, company, &other_day, other_flags, -1).await?;
                exec(
                    tx,
                    "UPDATE visitor_days SET multi = true WHERE company_id = $1 AND user_fingerprint = $2",
                    &[&company.0, &fingerprint],
                )
                .await?;
                mirror_day(tx, company, &other_day, id, other_flags).await?;
            }
            mirror_day(tx, company, day, id, flags).await?;
            true
        }
    };
    exec(
        tx,
        "INSERT INTO visitor_days (company_id, user_fingerprint, day, seen, assisted, converted, multi)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&company.0, &fingerprint, &day, &flags.seen, &flags.assisted, &flags.converted, &multi],
    )
    .await?;
    Ok(())
}

/// The id of a multi-day visitor, assigned on first use.
async fn multi_visitor_id(c: &impl GenericClient, company: &CompanyId, fingerprint: &str) -> Result<i64, StoreError> {
    Ok(one(
        c,
        "INSERT INTO multi_visitors (company_id, fingerprint) VALUES ($1, $2)
         ON CONFLICT (company_id, fingerprint) DO UPDATE SET fingerprint = excluded.fingerprint
         RETURNING visitor_id",
        &[&company.0, &fingerprint],
    )
    .await?
    .get(0))
}

async fn mirror_day(
    tx: &Tx<'_>,
    company: &CompanyId,
    day: &str,
    id: i64,
    flags: VisitorFlags,
) -> Result<(), StoreError> {
    exec(
        tx,
        "INSERT INTO multi_visitor_days (company_id, day, visitor_id, flags) VALUES ($1, $2, $3, $4)
         ON CONFLICT (company_id, day, visitor_id) DO UPDATE SET flags = excluded.flags",
        &[&company.0, &day, &id, &i16::from(flags.bits())],
    )
    .await?;
    Ok(())
}
