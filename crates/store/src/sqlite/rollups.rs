//! The rollup rows reports read, kept in step with `events` inside the same
//! transaction: every insert, refund and changed decision moves its sums.

use rusqlite::{Connection, params};

use crate::{StoreError, model::CompanyId};

/// Which rollup row an event counts in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RollupKey {
    pub day: String,
    pub cart_type: &'static str,
    pub attributed: bool,
    /// '' when not attributed.
    pub ai_profile_id: String,
    /// '' when not attributed.
    pub message_source: String,
    pub is_test: bool,
}

/// What one event adds to its row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Contribution {
    pub usd_cents: Option<i64>,
    pub quantity: i64,
    pub refunded_cents: i64,
}

pub(super) fn cart_type_str(checkout: bool) -> &'static str {
    if checkout { "CHECKOUT" } else { "CART_EVENT" }
}

/// Adds (`sign` = 1) or takes away (`sign` = -1) one event's contribution.
pub(super) fn apply(
    conn: &Connection,
    company: &CompanyId,
    key: &RollupKey,
    c: Contribution,
    sign: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test,
            events, unconverted, usd_cents, quantity, refunded_cents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test) DO UPDATE SET
            events = events + excluded.events, unconverted = unconverted + excluded.unconverted,
            usd_cents = usd_cents + excluded.usd_cents, quantity = quantity + excluded.quantity,
            refunded_cents = refunded_cents + excluded.refunded_cents",
    )?
    .execute(params![
        company.0,
        key.day,
        key.cart_type,
        key.attributed,
        key.ai_profile_id,
        key.message_source,
        key.is_test,
        sign,
        sign * i64::from(c.usd_cents.is_none()),
        sign * c.usd_cents.unwrap_or_default(),
        sign * c.quantity,
        sign * c.refunded_cents,
    ])?;
    Ok(())
}

/// A refund moves only the refunded sum of its order's row.
pub(super) fn add_refund(
    conn: &Connection,
    company: &CompanyId,
    key: &RollupKey,
    cents: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE rollups SET refunded_cents = refunded_cents + ?8
         WHERE company_id = ?1 AND day = ?2 AND cart_type = ?3 AND attributed = ?4 AND ai_profile_id = ?5
           AND message_source = ?6 AND is_test = ?7",
    )?
    .execute(params![
        company.0,
        key.day,
        key.cart_type,
        key.attributed,
        key.ai_profile_id,
        key.message_source,
        key.is_test,
        cents
    ])?;
    Ok(())
}

/// A fingerprint was seen on a day (a visit, or a non-test commerce event);
/// `converted` when it was in a checkout's identity set.
pub(super) fn sight_visitor(
    conn: &Connection,
    company: &CompanyId,
    day: &str,
    fingerprint: &str,
    converted: bool,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO visitor_days (company_id, day, user_fingerprint, seen, converted) VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT (company_id, day, user_fingerprint)
         DO UPDATE SET seen = 1, converted = max(converted, excluded.converted)",
    )?
    .execute(params![company.0, day, fingerprint, converted])?;
    Ok(())
}

/// A ticket under this fingerprint got a grounded AI answer on this day.
pub(super) fn assist_visitor(
    conn: &Connection,
    company: &CompanyId,
    day: &str,
    fingerprint: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO visitor_days (company_id, day, user_fingerprint, seen, assisted) VALUES (?1, ?2, ?3, 0, 1)
         ON CONFLICT (company_id, day, user_fingerprint) DO UPDATE SET assisted = 1",
    )?
    .execute(params![company.0, day, fingerprint])?;
    Ok(())
}
