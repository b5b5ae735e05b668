//! Privacy on PostgreSQL: the steps of `sql::privacy` (what erasing a
//! fingerprint touches, what a shop's redaction removes, what an export
//! holds), run in the call's transaction under the shoppers' locks.

use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::Row;

use super::{Tx, exec_all, history, ingest, lock, rollups, rows, rows_of};
use crate::{
    StoreError,
    model::CompanyId,
    sql::{privacy, reads::Batch},
};

/// Records a privacy request or a redaction done; returns its number.
pub(super) async fn record(
    tx: &Tx<'_>,
    company: &CompanyId,
    shop_domain: Option<&str>,
    kind: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<i64, StoreError> {
    let (sql, args) = privacy::record(company, shop_domain, kind, payload, now_ms);
    privacy::recorded(&rows(tx, sql, args).await?)
}

/// The order ids of a recorded `customers/data_request`.
pub(super) async fn requested_orders(
    c: &impl GenericClient,
    company: &CompanyId,
    request: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let (sql, args) = privacy::request_query(company, request);
    privacy::requested_orders(&rows(c, sql, args).await?)
}

/// The fingerprints under which these orders were stored.
pub(super) async fn fingerprints_of_orders(
    c: &impl GenericClient,
    company: &CompanyId,
    order_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    privacy::fingerprints(&rows_of(c, privacy::orders_fingerprints(company, order_ids)).await?)
}

/// `customers/redact`: erases the fingerprints of the listed orders.
pub(super) async fn redact_orders(tx: &Tx<'_>, company: &CompanyId, order_ids: &[String]) -> Result<u64, StoreError> {
    history::company_settings(tx, company).await?;
    exec_all(tx, privacy::clear_cart_tokens(company, order_ids)).await?;
    let fingerprints = fingerprints_of_orders(tx, company, order_ids).await?;
    let keys: Vec<String> = fingerprints.iter().map(|f| ingest::shopper_lock(company, f)).collect();
    lock(tx, &keys).await?;
    for fingerprint in &fingerprints {
        erase_fingerprint(tx, company, fingerprint).await?;
    }
    Ok(fingerprints.len() as u64)
}

/// The events of a fingerprint, one row set per day it was active.
async fn events_of(
    c: &impl GenericClient,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<Vec<Vec<Row>>, StoreError> {
    let timezone = history::company_settings(c, company).await?.timezone;
    let days = rows(c, privacy::DAYS_OF, privacy::days_args(company, fingerprint)).await?;
    rows_of(c, privacy::events_on_days(company, &timezone, fingerprint, &days)?).await
}

/// Replaces a fingerprint with a fresh token everywhere, and drops what the
/// shopper wrote under it. Returns the token. The caller holds its lock.
pub(super) async fn erase_fingerprint(
    tx: &Tx<'_>,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<String, StoreError> {
    let token = privacy::erased_token();
    let events = events_of(tx, company, fingerprint).await?;
    exec_all(tx, privacy::erase(company, fingerprint, &token, &events)?).await?;
    Ok(token)
}

/// `shop/redact`: the shop's orders (and what identified their shoppers) go,
/// leaving the reports as if they had never come; then the shop itself.
pub(super) async fn redact_shop(tx: &Tx<'_>, company: &CompanyId, shop_domain: &str) -> Result<u64, StoreError> {
    history::company_settings(tx, company).await?;
    let found = rows(
        tx,
        "SELECT event_pk, order_id, user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
                message_source, is_test, usd_cents, refunded_cents
         FROM events WHERE shop_domain = $1 AND company_id = $2",
        crate::sql::args![shop_domain, company.0.clone()],
    )
    .await?;
    let orders = found.iter().map(privacy::shop_order).collect::<Result<Vec<_>, _>>()?;
    let mut erased: Vec<String> = Vec::new();
    for order in &orders {
        for fingerprint in &order.fingerprints {
            if !erased.contains(fingerprint) {
                lock(tx, &[ingest::shopper_lock(company, fingerprint)]).await?;
                erase_fingerprint(tx, company, fingerprint).await?;
                erased.push(fingerprint.clone());
            }
        }
        rollups::apply(tx, company, &order.key, order.contribution, -1).await?;
        exec_all(tx, privacy::delete_order(company, order)).await?;
    }
    exec_all(tx, privacy::delete_shop(shop_domain)).await?;
    Ok(orders.len() as u64)
}

/// Everything revtrace holds under these fingerprints, as one JSON document.
pub(super) async fn export(
    c: &impl GenericClient,
    company: &CompanyId,
    fingerprints: &[String],
) -> Result<Value, StoreError> {
    let mut people = Vec::new();
    for fingerprint in fingerprints {
        let found = events_of(c, company, fingerprint).await?;
        let mut batch = Batch::default();
        let ix = privacy::push_export(&mut batch, company, fingerprint);
        let events_from = batch.queries.len();
        privacy::push_events(&mut batch, company, &found)?;
        people.push(privacy::person(fingerprint, &rows_of(c, batch).await?, &ix, events_from)?);
    }
    Ok(privacy::document(company, people))
}
