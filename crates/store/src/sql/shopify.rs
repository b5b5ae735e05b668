//! Shopify's statements, written once: a connected shop and its secrets,
//! a delivery's row, cancellations, an order's presentment amount.

use super::{Arg, Cells, args, reads::Batch};
use crate::{
    StoreError,
    model::{CompanyId, RevenueBasis, ShopifyConnect, ShopifyDelivery, ShopifyShop},
};

/// Secrets kept per shop: the newest and the one before (rotation).
const LIVE_SECRETS: i64 = 2;

pub(crate) struct StoreReads {
    shop: usize,
    secrets: usize,
}

pub(crate) fn push_store(batch: &mut Batch, shop_domain: &str) -> StoreReads {
    StoreReads {
        shop: batch.push(
            "SELECT company_id, ai_profile_id, fingerprint_property, revenue_basis FROM shopify_stores
             WHERE shop_domain = $1",
            args![shop_domain],
        ),
        secrets: batch.push(
            "SELECT secret FROM shopify_secrets WHERE shop_domain = $1 ORDER BY added_at_ms DESC, secret",
            args![shop_domain],
        ),
    }
}

pub(crate) fn store<R: Cells>(
    shop_domain: &str,
    rows: &[Vec<R>],
    ix: &StoreReads,
) -> Result<Option<ShopifyShop>, StoreError> {
    let Some(r) = rows[ix.shop].first() else {
        return Ok(None);
    };
    let basis = r.text(3)?;
    Ok(Some(ShopifyShop {
        shop_domain: shop_domain.to_owned(),
        company_id: CompanyId::new(r.text(0)?),
        ai_profile_id: r.text(1)?,
        fingerprint_property: r.text(2)?,
        revenue_basis: RevenueBasis::parse(&basis)
            .ok_or_else(|| StoreError::corrupt(format!("revenue basis {basis}")))?,
        secrets: rows[ix.secrets].iter().map(|s| s.text(0)).collect::<Result<_, _>>()?,
    }))
}

/// Connecting a shop (or changing its settings) and adding its secret;
/// only the newest two secrets stay live.
pub(crate) fn connect(c: &ShopifyConnect, now_ms: i64) -> Batch {
    let mut batch = Batch::default();
    batch.push(
        "INSERT INTO shopify_stores (shop_domain, company_id, ai_profile_id, fingerprint_property, revenue_basis,
            connected_at_ms)
         VALUES ($1, $2, coalesce($3, 'default'), coalesce($4, '_revtrace_fingerprint'), coalesce($5, 'total_price'), $6)
         ON CONFLICT (shop_domain) DO UPDATE SET
            ai_profile_id = coalesce($3, shopify_stores.ai_profile_id),
            fingerprint_property = coalesce($4, shopify_stores.fingerprint_property),
            revenue_basis = coalesce($5, shopify_stores.revenue_basis)",
        args![
            c.shop_domain.clone(),
            c.company.to_string(),
            c.ai_profile_id.clone(),
            c.fingerprint_property.clone(),
            c.revenue_basis.map(RevenueBasis::as_str),
            now_ms
        ],
    );
    batch.push(
        "INSERT INTO shopify_secrets (shop_domain, secret, added_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (shop_domain, secret) DO UPDATE SET added_at_ms = excluded.added_at_ms",
        args![c.shop_domain.clone(), c.secret.clone(), now_ms],
    );
    batch.push(
        "DELETE FROM shopify_secrets WHERE shop_domain = $1 AND secret NOT IN
            (SELECT secret FROM shopify_secrets WHERE shop_domain = $1 ORDER BY added_at_ms DESC LIMIT $2)",
        args![c.shop_domain.clone(), LIVE_SECRETS],
    );
    batch
}

/// A delivery's row: one row changed (the delivery is new) or none (a repeat).
pub(crate) fn record_delivery(d: &ShopifyDelivery, now_ms: i64) -> (&'static str, Vec<Arg>) {
    (
        "INSERT INTO shopify_deliveries (shop_domain, webhook_id, topic, outcome, received_at_ms)
         VALUES ($1, $2, $3, '', $4) ON CONFLICT (shop_domain, webhook_id) DO NOTHING",
        args![d.shop_domain.clone(), d.webhook_id.clone(), d.topic.clone(), now_ms],
    )
}

pub(crate) fn delivery_outcome(d: &ShopifyDelivery, status: &str) -> Batch {
    let mut batch = Batch::default();
    batch.push(
        "UPDATE shopify_deliveries SET outcome = $3 WHERE shop_domain = $1 AND webhook_id = $2",
        args![d.shop_domain.clone(), d.webhook_id.clone(), status],
    );
    batch
}

pub(crate) fn cancel(company: &CompanyId, order_id: &revtrace_core::OrderId, at_ms: i64) -> Batch {
    let mut batch = Batch::default();
    batch.push(
        "INSERT INTO cancellations (company_id, order_id, cancelled_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (company_id, order_id) DO NOTHING",
        args![company.to_string(), order_id, at_ms],
    );
    batch
}

/// The fingerprint a cart token was last linked to.
pub(crate) fn token_query(company: &CompanyId, cart_token: &str) -> (&'static str, Vec<Arg>) {
    (
        "SELECT user_fingerprint FROM cart_tokens WHERE company_id = $1 AND cart_token = $2",
        args![company.to_string(), cart_token],
    )
}

pub(crate) fn token_fingerprint<R: Cells>(rows: &[R]) -> Result<Option<String>, StoreError> {
    rows.first().map(|r| r.text(0)).transpose()
}

/// The shop and the amount in the buyer's currency, on the order's event.
pub(crate) fn presentment(
    event_id: &revtrace_core::EventId,
    shop_domain: &str,
    presentment: Option<&(String, rust_decimal::Decimal)>,
) -> Batch {
    let (currency, amount) = presentment.map(|(c, a)| (Some(c.clone()), Some(a.to_string()))).unwrap_or_default();
    let mut batch = Batch::default();
    batch.push(
        "UPDATE events SET shop_domain = $2, presentment_currency = $3, presentment_amount = $4 WHERE event_id = $1",
        args![event_id, shop_domain, currency, amount],
    );
    batch
}

// --- the flows, over either backend ---------------------------------------

use super::db::{Db, shop_lock};
use crate::{
    engine,
    model::{DeliveryOutcome, DeliveryStatus, ShopifyAction, ShopifyOrder},
    sql::privacy,
};

/// A connected shop with its live secrets.
pub(crate) async fn shop<D: Db>(db: &D, shop_domain: &str) -> Result<Option<ShopifyShop>, StoreError> {
    let mut batch = Batch::default();
    let ix = push_store(&mut batch, shop_domain);
    store(shop_domain, &db.all(batch).await?, &ix)
}

/// Connects a shop to a company (or changes its settings) with a new secret.
pub(crate) async fn connect_shop<D: Db>(db: &D, c: &ShopifyConnect, now_ms: i64) -> Result<ShopifyShop, StoreError> {
    super::reads::company_settings(db, &c.company).await?;
    db.lock(&[shop_lock(&c.shop_domain)]).await?;
    engine::shopify::may_connect(shop(db, &c.shop_domain).await?.as_ref(), c)?;
    db.exec(connect(c, now_ms)).await?;
    shop(db, &c.shop_domain).await?.ok_or_else(|| StoreError::corrupt("the shop just connected is missing"))
}

/// Records a verified delivery and acts on it, in the caller's transaction:
/// a repeat of a webhook id finds its row and does nothing.
pub(crate) async fn deliver<D: Db>(
    db: &D,
    company: &CompanyId,
    d: &ShopifyDelivery,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let (sql, args) = record_delivery(d, now_ms);
    if db.changes(sql, args).await? == 0 {
        return Ok(DeliveryOutcome::status(DeliveryStatus::Duplicate));
    }
    let shop = d.shop_domain.as_str();
    let outcome = match &d.action {
        ShopifyAction::Order(order) => paid_order(db, company, shop, order, now_ms).await?,
        ShopifyAction::Refund(refund) => {
            engine::shopify::refund_outcome(super::ingest::refund(db, company, refund.clone(), now_ms).await)?
        }
        ShopifyAction::Cancel { order_id, at_ms } => {
            db.exec(cancel(company, order_id, *at_ms)).await?;
            DeliveryOutcome::status(DeliveryStatus::Processed)
        }
        ShopifyAction::RedactCustomer { order_ids, payload } => {
            privacy::redact_orders(db, company, order_ids).await?;
            privacy::record_request(db, company, Some(shop), "customer_redact", payload, now_ms).await?;
            DeliveryOutcome::status(DeliveryStatus::Processed)
        }
        ShopifyAction::RedactShop { payload } => {
            privacy::redact_shop(db, company, shop, now_ms).await?;
            privacy::record_request(db, company, Some(shop), "shop_redact", payload, now_ms).await?;
            DeliveryOutcome::status(DeliveryStatus::Processed)
        }
        ShopifyAction::DataRequest { payload } => {
            let request = privacy::record_request(db, company, Some(shop), "data_request", payload, now_ms).await?;
            DeliveryOutcome { privacy_request: Some(request), ..DeliveryOutcome::status(DeliveryStatus::Processed) }
        }
        ShopifyAction::Ignore => DeliveryOutcome::status(DeliveryStatus::Ignored),
    };
    db.exec(delivery_outcome(d, outcome.status.as_str())).await?;
    Ok(outcome)
}

async fn paid_order<D: Db>(
    db: &D,
    company: &CompanyId,
    shop_domain: &str,
    order: &ShopifyOrder,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let recorded = match &order.cart_token {
        Some(token) => {
            let (sql, args) = token_query(company, token);
            token_fingerprint(&db.rows(sql, args).await?)?
        }
        None => None,
    };
    let resolved = engine::shopify::fingerprint(order, recorded);
    let mut input = order.event.clone();
    input.user_fingerprint = resolved.as_ref().map(|(f, _)| f.clone());
    let stored = super::ingest::event(db, company, input, now_ms).await;
    if let Ok(receipt) = &stored {
        db.exec(presentment(&receipt.event_id, shop_domain, order.presentment.as_ref())).await?;
    }
    engine::shopify::order_outcome(stored, resolved.map(|(_, source)| source))
}
