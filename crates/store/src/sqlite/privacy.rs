//! Privacy on SQLite: the steps of `sql::privacy` (what erasing a
//! fingerprint touches, what a shop's redaction removes, what an export
//! holds), run on the writer's connection or a reader.

use rusqlite::Connection;
use serde_json::Value;

use super::{
    history::{self, Companies},
    rollups,
    run::{all, exec, rows},
};
use crate::{
    StoreError,
    model::CompanyId,
    sql::{privacy, reads::Batch},
};

/// Records a privacy request or a redaction done; returns its number.
pub(super) fn record(
    conn: &Connection,
    company: &CompanyId,
    shop_domain: Option<&str>,
    kind: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<i64, StoreError> {
    let (sql, args) = privacy::record(company, shop_domain, kind, payload, now_ms);
    privacy::recorded(&rows(conn, sql, args)?)
}

/// The order ids of a recorded `customers/data_request`.
pub(super) fn requested_orders(
    conn: &Connection,
    company: &CompanyId,
    request: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let (sql, args) = privacy::request_query(company, request);
    privacy::requested_orders(&rows(conn, sql, args)?)
}

/// The fingerprints under which these orders were stored.
pub(super) fn fingerprints_of_orders(
    conn: &Connection,
    company: &CompanyId,
    order_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    privacy::fingerprints(&all(conn, privacy::orders_fingerprints(company, order_ids))?)
}

/// `customers/redact`: erases the fingerprints of the listed orders.
pub(super) fn redact_orders(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    order_ids: &[String],
) -> Result<u64, StoreError> {
    companies.get(conn, company)?;
    exec(conn, privacy::clear_cart_tokens(company, order_ids))?;
    let fingerprints = fingerprints_of_orders(conn, company, order_ids)?;
    for fingerprint in &fingerprints {
        erase_fingerprint(conn, company, fingerprint)?;
    }
    Ok(fingerprints.len() as u64)
}

/// The events of a fingerprint, one row set per day it was active.
fn events_of(
    conn: &Connection,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<Vec<Vec<crate::sql::SqliteRow>>, StoreError> {
    let timezone = history::company_settings(conn, company)?.timezone;
    let days = rows(conn, privacy::DAYS_OF, privacy::days_args(company, fingerprint))?;
    all(conn, privacy::events_on_days(company, &timezone, fingerprint, &days)?)
}

/// Replaces a fingerprint with a fresh token everywhere, and drops what the
/// shopper wrote under it. Returns the token.
pub(super) fn erase_fingerprint(
    conn: &Connection,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<String, StoreError> {
    let token = privacy::erased_token();
    let events = events_of(conn, company, fingerprint)?;
    exec(conn, privacy::erase(company, fingerprint, &token, &events)?)?;
    Ok(token)
}

/// `shop/redact`: the shop's orders (and what identified their shoppers) go,
/// leaving the reports as if they had never come; then the shop itself.
pub(super) fn redact_shop(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    shop_domain: &str,
) -> Result<u64, StoreError> {
    companies.get(conn, company)?;
    let mut stmt = conn.prepare(
        "SELECT event_pk, order_id, user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
                message_source, is_test, usd_cents, refunded_cents
         FROM events INDEXED BY events_by_shop WHERE shop_domain = ?1 AND company_id = ?2",
    )?;
    let mut found = stmt.query(rusqlite::params![shop_domain, company.0])?;
    let mut orders = Vec::new();
    while let Some(r) = found.next()? {
        orders.push(privacy::shop_order(r)?);
    }
    let mut erased: Vec<String> = Vec::new();
    for order in &orders {
        for fingerprint in &order.fingerprints {
            if !erased.contains(fingerprint) {
                erase_fingerprint(conn, company, fingerprint)?;
                erased.push(fingerprint.clone());
            }
        }
        rollups::apply(conn, company, &order.key, order.contribution, -1)?;
        exec(conn, privacy::delete_order(company, order))?;
    }
    exec(conn, privacy::delete_shop(shop_domain))?;
    Ok(orders.len() as u64)
}

/// Everything revtrace holds under these fingerprints, as one JSON document.
pub(super) fn export(conn: &Connection, company: &CompanyId, fingerprints: &[String]) -> Result<Value, StoreError> {
    let mut people = Vec::new();
    for fingerprint in fingerprints {
        let found = events_of(conn, company, fingerprint)?;
        let mut batch = Batch::default();
        let ix = privacy::push_export(&mut batch, company, fingerprint);
        let events_from = batch.queries.len();
        privacy::push_events(&mut batch, company, &found)?;
        people.push(privacy::person(fingerprint, &all(conn, batch)?, &ix, events_from)?);
    }
    Ok(privacy::document(company, people))
}
