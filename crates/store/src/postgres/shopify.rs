//! Connected Shopify shops and their verified deliveries on PostgreSQL. A
//! delivery's row and its effect commit together; a repeat of a webhook id
//! (on this server or another) waits on the primary key and finds the row.

use deadpool_postgres::GenericClient;
use revtrace_core::Fingerprint;

use super::{Tx, all, exec, history, ingest, lock, opt, privacy};
use crate::{
    Rejection, StoreError,
    model::{
        CompanyId, DeliveryOutcome, RevenueBasis, ShopifyAction, ShopifyConnect, ShopifyDelivery, ShopifyOrder,
        ShopifyStore,
    },
};

/// Secrets kept per shop: the newest and the one before (rotation).
const LIVE_SECRETS: i64 = 2;

pub(super) async fn store(c: &impl GenericClient, shop_domain: &str) -> Result<Option<ShopifyStore>, StoreError> {
    let Some(r) = opt(
        c,
        "SELECT company_id, ai_profile_id, fingerprint_property, revenue_basis FROM shopify_stores
         WHERE shop_domain = $1",
        &[&shop_domain],
    )
    .await?
    else {
        return Ok(None);
    };
    let basis: &str = r.get(3);
    let secrets = all(
        c,
        "SELECT secret FROM shopify_secrets WHERE shop_domain = $1 ORDER BY added_at_ms DESC, secret",
        &[&shop_domain],
    )
    .await?
    .iter()
    .map(|s| s.get(0))
    .collect();
    Ok(Some(ShopifyStore {
        shop_domain: shop_domain.to_owned(),
        company_id: CompanyId(r.get(0)),
        ai_profile_id: r.get(1),
        fingerprint_property: r.get(2),
        revenue_basis: RevenueBasis::parse(basis)
            .ok_or_else(|| StoreError::Corrupt(format!("revenue basis {basis}")))?,
        secrets,
    }))
}

pub(super) async fn connect(tx: &Tx<'_>, c: &ShopifyConnect, now_ms: i64) -> Result<ShopifyStore, StoreError> {
    history::company_settings(tx, &c.company).await?;
    lock(tx, &[format!("shop\u{0}{}", c.shop_domain)]).await?;
    if let Some(existing) = store(tx, &c.shop_domain).await?
        && existing.company_id != c.company
    {
        return Err(Rejection::Invalid(format!(
            "{} is connected to company {}; disconnect it there first",
            c.shop_domain, existing.company_id
        ))
        .into());
    }
    exec(
        tx,
        "INSERT INTO shopify_stores (shop_domain, company_id, ai_profile_id, fingerprint_property, revenue_basis,
            connected_at_ms)
         VALUES ($1, $2, coalesce($3, 'default'), coalesce($4, '_revtrace_fingerprint'), coalesce($5, 'total_price'), $6)
         ON CONFLICT (shop_domain) DO UPDATE SET
            ai_profile_id = coalesce($3, shopify_stores.ai_profile_id),
            fingerprint_property = coalesce($4, shopify_stores.fingerprint_property),
            revenue_basis = coalesce($5, shopify_stores.revenue_basis)",
        &[
            &c.shop_domain,
            &c.company.0,
            &c.ai_profile_id,
            &c.fingerprint_property,
            &c.revenue_basis.map(RevenueBasis::as_str),
            &now_ms,
        ],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO shopify_secrets (shop_domain, secret, added_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (shop_domain, secret) DO UPDATE SET added_at_ms = excluded.added_at_ms",
        &[&c.shop_domain, &c.secret, &now_ms],
    )
    .await?;
    // Only the newest two stay live: the new secret and the one it replaces.
    exec(
        tx,
        "DELETE FROM shopify_secrets WHERE shop_domain = $1 AND secret NOT IN
            (SELECT secret FROM shopify_secrets WHERE shop_domain = $1 ORDER BY added_at_ms DESC LIMIT $2)",
        &[&c.shop_domain, &LIVE_SECRETS],
    )
    .await?;
    store(tx, &c.shop_domain).await?.ok_or_else(|| StoreError::Corrupt("the shop just connected is missing".into()))
}

pub(super) async fn delivery(
    tx: &Tx<'_>,
    company: &CompanyId,
    d: &ShopifyDelivery,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let first = exec(
        tx,
        "INSERT INTO shopify_deliveries (shop_domain, webhook_id, topic, outcome, received_at_ms)
         VALUES ($1, $2, $3, '', $4) ON CONFLICT (shop_domain, webhook_id) DO NOTHING",
        &[&d.shop_domain, &d.webhook_id, &d.topic, &now_ms],
    )
    .await?;
    if first == 0 {
        return Ok(DeliveryOutcome::status("duplicate"));
    }
    let outcome = match &d.action {
        ShopifyAction::Order(order) => paid_order(tx, company, &d.shop_domain, order, now_ms).await?,
        ShopifyAction::Refund(refund) => {
            lock(tx, &[ingest::order_lock(company, &refund.order_id)]).await?;
            match ingest::refund(tx, company, refund, now_ms).await {
                Ok(_) => DeliveryOutcome::status("processed"),
                Err(StoreError::Rejected(Rejection::DuplicateRefund { .. })) => {
                    DeliveryOutcome::status("already_stored")
                }
                Err(other) => return Err(other),
            }
        }
        ShopifyAction::Cancel { order_id, at_ms } => {
            exec(
                tx,
                "INSERT INTO cancellations (company_id, order_id, cancelled_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (company_id, order_id) DO NOTHING",
                &[&company.0, order_id, at_ms],
            )
            .await?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactCustomer { order_ids, payload } => {
            privacy::redact_orders(tx, company, order_ids).await?;
            privacy::record(tx, company, Some(&d.shop_domain), "customer_redact", payload, now_ms).await?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactShop { payload } => {
            privacy::redact_shop(tx, company, &d.shop_domain).await?;
            privacy::record(tx, company, Some(&d.shop_domain), "shop_redact", payload, now_ms).await?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::DataRequest { payload } => {
            let request = privacy::record(tx, company, Some(&d.shop_domain), "data_request", payload, now_ms).await?;
            DeliveryOutcome { privacy_request: Some(request), ..DeliveryOutcome::status("processed") }
        }
        ShopifyAction::Ignore => DeliveryOutcome::status("ignored"),
    };
    exec(
        tx,
        "UPDATE shopify_deliveries SET outcome = $3 WHERE shop_domain = $1 AND webhook_id = $2",
        &[&d.shop_domain, &d.webhook_id, &outcome.status],
    )
    .await?;
    Ok(outcome)
}

/// The order's fingerprint, by the first source that has one.
async fn resolve_fingerprint(
    tx: &Tx<'_>,
    company: &CompanyId,
    order: &ShopifyOrder,
) -> Result<Option<(Fingerprint, &'static str)>, StoreError> {
    if let Some(token) = &order.cart_token {
        let recorded = opt(
            tx,
            "SELECT user_fingerprint FROM cart_tokens WHERE company_id = $1 AND cart_token = $2",
            &[&company.0, token],
        )
        .await?;
        if let Some(fingerprint) = recorded.and_then(|r| Fingerprint::parse(r.get(0)).ok()) {
            return Ok(Some((fingerprint, "cart_token")));
        }
    }
    if let Some(fingerprint) = &order.property_fingerprint {
        return Ok(Some((fingerprint.clone(), "line_item_property")));
    }
    Ok(order.note_fingerprint.clone().map(|f| (f, "note_attribute")))
}

async fn paid_order(
    tx: &Tx<'_>,
    company: &CompanyId,
    shop_domain: &str,
    order: &ShopifyOrder,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let resolved = resolve_fingerprint(tx, company, order).await?;
    let mut input = order.event.clone();
    input.user_fingerprint = resolved.as_ref().map(|(f, _)| f.clone());
    let mut keys: Vec<String> = input.identity().into_iter().map(|f| ingest::shopper_lock(company, f)).collect();
    if let crate::model::EventKind::Checkout { order_id, .. } = &input.kind {
        keys.push(ingest::order_lock(company, order_id));
    }
    match ingest::event(tx, company, &input, &keys, now_ms).await {
        Ok(receipt) => {
            let (currency, amount) =
                order.presentment.as_ref().map(|(c, a)| (Some(c.clone()), Some(a.to_string()))).unwrap_or_default();
            exec(
                tx,
                "UPDATE events SET shop_domain = $2, presentment_currency = $3, presentment_amount = $4
                 WHERE event_id = $1",
                &[&receipt.event_id, &shop_domain, &currency, &amount],
            )
            .await?;
            Ok(DeliveryOutcome {
                event_id: Some(receipt.event_id),
                reason: Some(receipt.reason),
                fingerprint_source: resolved.map(|(_, source)| source),
                ..DeliveryOutcome::status("processed")
            })
        }
        // Sent earlier through the API (or by another shop's delivery): the
        // stored event stands.
        Err(StoreError::Rejected(Rejection::DuplicateOrder { event_id, .. })) => {
            Ok(DeliveryOutcome { event_id: Some(event_id), ..DeliveryOutcome::status("already_stored") })
        }
        Err(other) => Err(other),
    }
}
