//! Connected Shopify shops and their verified webhook deliveries on the
//! writer's connection (rules in `engine::shopify`, statements in
//! `sql::shopify`). A delivery is recorded and acted on in one transaction:
//! a repeat of a webhook id finds its row and does nothing.

use rusqlite::Connection;

use super::{
    history::Companies,
    ingest, privacy,
    run::{all, exec, rows},
};
use crate::{
    StoreError, engine,
    model::{CompanyId, DeliveryOutcome, ShopifyAction, ShopifyConnect, ShopifyDelivery, ShopifyOrder, ShopifyStore},
    sql::{reads::Batch, shopify},
};

pub(super) fn store(conn: &Connection, shop_domain: &str) -> Result<Option<ShopifyStore>, StoreError> {
    let mut batch = Batch::default();
    let ix = shopify::push_store(&mut batch, shop_domain);
    shopify::store(shop_domain, &all(conn, batch)?, &ix)
}

pub(super) fn connect(
    conn: &Connection,
    companies: &mut Companies,
    c: ShopifyConnect,
    now_ms: i64,
) -> Result<ShopifyStore, StoreError> {
    companies.get(conn, &c.company)?;
    engine::shopify::may_connect(store(conn, &c.shop_domain)?.as_ref(), &c)?;
    exec(conn, shopify::connect(&c, now_ms))?;
    store(conn, &c.shop_domain)?.ok_or_else(|| StoreError::Corrupt("the shop just connected is missing".into()))
}

pub(super) fn delivery(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    d: ShopifyDelivery,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let (sql, args) = shopify::record_delivery(&d, now_ms);
    if rows(conn, sql, args)?.is_empty() {
        return Ok(DeliveryOutcome::status("duplicate"));
    }
    let shop = d.shop_domain.as_str();
    let outcome = match &d.action {
        ShopifyAction::Order(order) => paid_order(conn, companies, company, shop, order, now_ms)?,
        ShopifyAction::Refund(refund) => {
            engine::shopify::refund_outcome(ingest::refund(conn, companies, company, refund.clone(), now_ms))?
        }
        ShopifyAction::Cancel { order_id, at_ms } => {
            exec(conn, shopify::cancel(company, order_id, *at_ms))?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactCustomer { order_ids, payload } => {
            privacy::redact_orders(conn, companies, company, order_ids)?;
            privacy::record(conn, company, Some(shop), "customer_redact", payload, now_ms)?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactShop { payload } => {
            privacy::redact_shop(conn, companies, company, shop)?;
            privacy::record(conn, company, Some(shop), "shop_redact", payload, now_ms)?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::DataRequest { payload } => {
            let request = privacy::record(conn, company, Some(shop), "data_request", payload, now_ms)?;
            DeliveryOutcome { privacy_request: Some(request), ..DeliveryOutcome::status("processed") }
        }
        ShopifyAction::Ignore => DeliveryOutcome::status("ignored"),
    };
    exec(conn, shopify::delivery_outcome(&d, outcome.status))?;
    Ok(outcome)
}

fn paid_order(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    shop_domain: &str,
    order: &ShopifyOrder,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let recorded = match &order.cart_token {
        Some(token) => {
            let (sql, args) = shopify::token_query(company, token);
            shopify::token_fingerprint(&rows(conn, sql, args)?)?
        }
        None => None,
    };
    let resolved = engine::shopify::fingerprint(order, recorded);
    let mut input = order.event.clone();
    input.user_fingerprint = resolved.as_ref().map(|(f, _)| f.clone());
    let stored = ingest::event(conn, companies, company, input, now_ms);
    if let Ok(receipt) = &stored {
        exec(conn, shopify::presentment(&receipt.event_id, shop_domain, order.presentment.as_ref()))?;
    }
    engine::shopify::order_outcome(stored, resolved.map(|(_, source)| source))
}
