//! The rollup rows reports read, kept in step with `events` inside the same
//! transaction: every insert, refund and changed decision moves its sums.

use rusqlite::{Connection, params};

use crate::{
    StoreError,
    model::CompanyId,
    rows::{RollupKey, VisitorFlags},
};

/// Shards one rollup key may spread over: each row holds i64 sums.
const MAX_SHARDS: i64 = 64;

/// Adds `[events, unconverted, usd_cents, quantity, refunded_cents]` to a
/// key's row. When a sum would leave i64 (the guard trigger refuses it), the
/// amounts go to the key's next shard: totals stay exact, reports add the
/// shards up in i128.
pub(super) fn upsert(
    conn: &Connection,
    company: &CompanyId,
    key: &RollupKey,
    sums: [i64; 5],
) -> Result<(), StoreError> {
    let [events, unconverted, usd_cents, quantity, refunded_cents] = sums;
    let mut statement = conn.prepare_cached(
        "INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard,
            events, unconverted, usd_cents, quantity, refunded_cents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard)
         DO UPDATE SET
            events = events + excluded.events, unconverted = unconverted + excluded.unconverted,
            usd_cents = usd_cents + excluded.usd_cents, quantity = quantity + excluded.quantity,
            refunded_cents = refunded_cents + excluded.refunded_cents",
    )?;
    for shard in 0..MAX_SHARDS {
        let written = statement.execute(params![
            company.as_str(),
            key.day,
            key.cart_type.as_str(),
            key.attributed,
            key.ai_profile_id,
            key.source_column(),
            key.is_test,
            shard,
            events,
            unconverted,
            usd_cents,
            quantity,
            refunded_cents,
        ]);
        match written.map_err(StoreError::from) {
            Err(StoreError::Rejected(crate::Rejection::TotalOutOfRange)) => continue,
            other => return other.map(|_| ()),
        }
    }
    Err(crate::Rejection::TotalOutOfRange.into())
}

pub(super) fn count_visitor(
    conn: &Connection,
    company: &CompanyId,
    day: &str,
    f: VisitorFlags,
    delta: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO visitor_counts (company_id, day, seen, assisted, converted, visitors) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (company_id, day, seen, assisted, converted) DO UPDATE SET visitors = visitors + excluded.visitors",
    )?
    .execute(params![company.as_str(), day, f.seen, f.assisted, f.converted, delta])?;
    Ok(())
}

/// The id of a multi-day visitor, assigned on first use.
pub(super) fn multi_visitor_id(conn: &Connection, company: &CompanyId, fingerprint: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO multi_visitors (company_id, fingerprint) VALUES (?1, ?2)
             ON CONFLICT (company_id, fingerprint) DO UPDATE SET fingerprint = excluded.fingerprint
             RETURNING visitor_id",
        )?
        .query_row(params![company.as_str(), fingerprint], |r| r.get(0))?)
}

pub(super) fn mirror_day(
    conn: &Connection,
    company: &CompanyId,
    day: &str,
    id: i64,
    flags: VisitorFlags,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO multi_visitor_days (company_id, day, visitor_id, flags) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (company_id, day, visitor_id) DO UPDATE SET flags = excluded.flags",
    )?
    .execute(params![company.as_str(), day, id, flags.bits()])?;
    // The day's pack, rebuilt from its (few hundred at most) mirrored rows.
    conn.prepare_cached(
        "INSERT INTO multi_visitor_packs (company_id, day, pack)
         SELECT company_id, day, group_concat(printf('%08X%02X', visitor_id, flags), '')
         FROM (SELECT company_id, day, visitor_id, flags FROM multi_visitor_days
               WHERE company_id = ?1 AND day = ?2 ORDER BY visitor_id)
         WHERE true GROUP BY company_id, day
         ON CONFLICT (company_id, day) DO UPDATE SET pack = excluded.pack",
    )?
    .execute(params![company.as_str(), day])?;
    Ok(())
}
