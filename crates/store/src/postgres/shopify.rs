//! Connected Shopify shops and their verified deliveries on PostgreSQL
//! (rules in `engine::shopify`, statements in `sql::shopify`). A delivery's
//! row and its effect commit together; a repeat of a webhook id (on this
//! server or another) waits on the primary key and finds the row.

use deadpool_postgres::GenericClient;

use super::{Tx, exec_all, history, ingest, lock, privacy, rows, rows_of};
use crate::{
    StoreError, engine,
    model::{CompanyId, DeliveryOutcome, ShopifyAction, ShopifyConnect, ShopifyDelivery, ShopifyOrder, ShopifyStore},
    sql::{reads::Batch, shopify},
};

pub(super) async fn store(c: &impl GenericClient, shop_domain: &str) -> Result<Option<ShopifyStore>, StoreError> {
    let mut batch = Batch::default();
    let ix = shopify::push_store(&mut batch, shop_domain);
    shopify::store(shop_domain, &rows_of(c, batch).await?, &ix)
}

pub(super) async fn connect(tx: &Tx<'_>, c: &ShopifyConnect, now_ms: i64) -> Result<ShopifyStore, StoreError> {
    history::company_settings(tx, &c.company).await?;
    lock(tx, &[format!("shop\u{0}{}", c.shop_domain)]).await?;
    engine::shopify::may_connect(store(tx, &c.shop_domain).await?.as_ref(), c)?;
    exec_all(tx, shopify::connect(c, now_ms)).await?;
    store(tx, &c.shop_domain).await?.ok_or_else(|| StoreError::Corrupt("the shop just connected is missing".into()))
}

pub(super) async fn delivery(
    tx: &Tx<'_>,
    company: &CompanyId,
    d: &ShopifyDelivery,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let (sql, args) = shopify::record_delivery(d, now_ms);
    if rows(tx, sql, args).await?.is_empty() {
        return Ok(DeliveryOutcome::status("duplicate"));
    }
    let shop = d.shop_domain.as_str();
    let outcome = match &d.action {
        ShopifyAction::Order(order) => paid_order(tx, company, shop, order, now_ms).await?,
        ShopifyAction::Refund(refund) => {
            lock(tx, &[ingest::order_lock(company, &refund.order_id)]).await?;
            engine::shopify::refund_outcome(ingest::refund(tx, company, refund, now_ms).await)?
        }
        ShopifyAction::Cancel { order_id, at_ms } => {
            exec_all(tx, shopify::cancel(company, order_id, *at_ms)).await?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactCustomer { order_ids, payload } => {
            privacy::redact_orders(tx, company, order_ids).await?;
            privacy::record(tx, company, Some(shop), "customer_redact", payload, now_ms).await?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactShop { payload } => {
            privacy::redact_shop(tx, company, shop).await?;
            privacy::record(tx, company, Some(shop), "shop_redact", payload, now_ms).await?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::DataRequest { payload } => {
            let request = privacy::record(tx, company, Some(shop), "data_request", payload, now_ms).await?;
            DeliveryOutcome { privacy_request: Some(request), ..DeliveryOutcome::status("processed") }
        }
        ShopifyAction::Ignore => DeliveryOutcome::status("ignored"),
    };
    exec_all(tx, shopify::delivery_outcome(d, outcome.status)).await?;
    Ok(outcome)
}

async fn paid_order(
    tx: &Tx<'_>,
    company: &CompanyId,
    shop_domain: &str,
    order: &ShopifyOrder,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let recorded = match &order.cart_token {
        Some(token) => {
            let (sql, args) = shopify::token_query(company, token);
            shopify::token_fingerprint(&rows(tx, sql, args).await?)?
        }
        None => None,
    };
    let resolved = engine::shopify::fingerprint(order, recorded);
    let mut input = order.event.clone();
    input.user_fingerprint = resolved.as_ref().map(|(f, _)| f.clone());
    let mut keys: Vec<String> = input.identity().into_iter().map(|f| ingest::shopper_lock(company, f)).collect();
    if let crate::model::EventKind::Checkout { order_id, .. } = &input.kind {
        keys.push(ingest::order_lock(company, order_id));
    }
    let stored = ingest::event(tx, company, &input, &keys, now_ms).await;
    if let Ok(receipt) = &stored {
        exec_all(tx, shopify::presentment(&receipt.event_id, shop_domain, order.presentment.as_ref())).await?;
    }
    engine::shopify::order_outcome(stored, resolved.map(|(_, source)| source))
}
