//! Connected Shopify shops and their verified webhook deliveries. A delivery
//! is recorded and acted on in one transaction: a repeat of a webhook id finds
//! its row and does nothing, however the two deliveries race.

use revtrace_core::Fingerprint;
use rusqlite::{Connection, OptionalExtension, params};

use super::{history::Companies, ingest, privacy};
use crate::{
    Rejection, StoreError,
    model::{
        CompanyId, DeliveryOutcome, RevenueBasis, ShopifyAction, ShopifyConnect, ShopifyDelivery, ShopifyOrder,
        ShopifyStore,
    },
};

/// Secrets kept per shop: the newest and the one before (rotation).
const LIVE_SECRETS: i64 = 2;

pub(super) fn store(conn: &Connection, shop_domain: &str) -> Result<Option<ShopifyStore>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT company_id, ai_profile_id, fingerprint_property, revenue_basis FROM shopify_stores
             WHERE shop_domain = ?1",
        )?
        .query_row(params![shop_domain], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })
        .optional()?;
    let Some((company, ai_profile_id, fingerprint_property, basis)) = found else {
        return Ok(None);
    };
    let secrets = conn
        .prepare_cached("SELECT secret FROM shopify_secrets WHERE shop_domain = ?1 ORDER BY added_at_ms DESC, secret")?
        .query_map(params![shop_domain], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(ShopifyStore {
        shop_domain: shop_domain.to_owned(),
        company_id: CompanyId(company),
        ai_profile_id,
        fingerprint_property,
        revenue_basis: RevenueBasis::parse(&basis)
            .ok_or_else(|| StoreError::Corrupt(format!("revenue basis {basis}")))?,
        secrets,
    }))
}

pub(super) fn connect(
    conn: &Connection,
    companies: &mut Companies,
    c: ShopifyConnect,
    now_ms: i64,
) -> Result<ShopifyStore, StoreError> {
    companies.get(conn, &c.company)?;
    if let Some(existing) = store(conn, &c.shop_domain)?
        && existing.company_id != c.company
    {
        return Err(Rejection::Invalid(format!(
            "{} is connected to company {}; disconnect it there first",
            c.shop_domain, existing.company_id
        ))
        .into());
    }
    conn.execute(
        "INSERT INTO shopify_stores (shop_domain, company_id, ai_profile_id, fingerprint_property, revenue_basis,
            connected_at_ms)
         VALUES (?1, ?2, coalesce(?3, 'default'), coalesce(?4, '_revtrace_fingerprint'), coalesce(?5, 'total_price'), ?6)
         ON CONFLICT (shop_domain) DO UPDATE SET
            ai_profile_id = coalesce(?3, ai_profile_id),
            fingerprint_property = coalesce(?4, fingerprint_property),
            revenue_basis = coalesce(?5, revenue_basis)",
        params![
            c.shop_domain,
            c.company.0,
            c.ai_profile_id,
            c.fingerprint_property,
            c.revenue_basis.map(RevenueBasis::as_str),
            now_ms
        ],
    )?;
    conn.execute(
        "INSERT INTO shopify_secrets (shop_domain, secret, added_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (shop_domain, secret) DO UPDATE SET added_at_ms = excluded.added_at_ms",
        params![c.shop_domain, c.secret, now_ms],
    )?;
    // Only the newest two stay live: the new secret and the one it replaces.
    conn.execute(
        "DELETE FROM shopify_secrets WHERE shop_domain = ?1 AND secret NOT IN
            (SELECT secret FROM shopify_secrets WHERE shop_domain = ?1 ORDER BY added_at_ms DESC LIMIT ?2)",
        params![c.shop_domain, LIVE_SECRETS],
    )?;
    store(conn, &c.shop_domain)?.ok_or_else(|| StoreError::Corrupt("the shop just connected is missing".into()))
}

pub(super) fn delivery(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    d: ShopifyDelivery,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let first = conn
        .prepare_cached(
            "INSERT INTO shopify_deliveries (shop_domain, webhook_id, topic, outcome, received_at_ms)
             VALUES (?1, ?2, ?3, '', ?4) ON CONFLICT (shop_domain, webhook_id) DO NOTHING",
        )?
        .execute(params![d.shop_domain, d.webhook_id, d.topic, now_ms])?;
    if first == 0 {
        return Ok(DeliveryOutcome::status("duplicate"));
    }
    let outcome = match d.action {
        ShopifyAction::Order(order) => paid_order(conn, companies, company, &d.shop_domain, *order, now_ms)?,
        ShopifyAction::Refund(refund) => match ingest::refund(conn, companies, company, refund, now_ms) {
            Ok(_) => DeliveryOutcome::status("processed"),
            Err(StoreError::Rejected(Rejection::DuplicateRefund { .. })) => DeliveryOutcome::status("already_stored"),
            Err(other) => return Err(other),
        },
        ShopifyAction::Cancel { order_id, at_ms } => {
            conn.prepare_cached(
                "INSERT INTO cancellations (company_id, order_id, cancelled_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (company_id, order_id) DO NOTHING",
            )?
            .execute(params![company.0, order_id, at_ms])?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactCustomer { order_ids, payload } => {
            privacy::redact_orders(conn, companies, company, &order_ids)?;
            privacy::record(conn, company, Some(&d.shop_domain), "customer_redact", &payload, now_ms)?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::RedactShop { payload } => {
            privacy::redact_shop(conn, companies, company, &d.shop_domain)?;
            privacy::record(conn, company, Some(&d.shop_domain), "shop_redact", &payload, now_ms)?;
            DeliveryOutcome::status("processed")
        }
        ShopifyAction::DataRequest { payload } => {
            let request = privacy::record(conn, company, Some(&d.shop_domain), "data_request", &payload, now_ms)?;
            DeliveryOutcome { privacy_request: Some(request), ..DeliveryOutcome::status("processed") }
        }
        ShopifyAction::Ignore => DeliveryOutcome::status("ignored"),
    };
    conn.prepare_cached("UPDATE shopify_deliveries SET outcome = ?3 WHERE shop_domain = ?1 AND webhook_id = ?2")?
        .execute(params![d.shop_domain, d.webhook_id, outcome.status])?;
    Ok(outcome)
}

/// The order's fingerprint, by the first source that has one.
fn resolve_fingerprint(
    conn: &Connection,
    company: &CompanyId,
    order: &ShopifyOrder,
) -> Result<Option<(Fingerprint, &'static str)>, StoreError> {
    if let Some(token) = &order.cart_token {
        let recorded: Option<String> = conn
            .prepare_cached("SELECT user_fingerprint FROM cart_tokens WHERE company_id = ?1 AND cart_token = ?2")?
            .query_row(params![company.0, token], |r| r.get(0))
            .optional()?;
        if let Some(fingerprint) = recorded.and_then(|f| Fingerprint::parse(&f).ok()) {
            return Ok(Some((fingerprint, "cart_token")));
        }
    }
    if let Some(fingerprint) = &order.property_fingerprint {
        return Ok(Some((fingerprint.clone(), "line_item_property")));
    }
    Ok(order.note_fingerprint.clone().map(|f| (f, "note_attribute")))
}

fn paid_order(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    shop_domain: &str,
    order: ShopifyOrder,
    now_ms: i64,
) -> Result<DeliveryOutcome, StoreError> {
    let resolved = resolve_fingerprint(conn, company, &order)?;
    let mut input = order.event;
    input.user_fingerprint = resolved.as_ref().map(|(f, _)| f.clone());
    match ingest::event(conn, companies, company, input, now_ms) {
        Ok(receipt) => {
            let (currency, amount) = order.presentment.map(|(c, a)| (Some(c), Some(a.to_string()))).unwrap_or_default();
            conn.prepare_cached(
                "UPDATE events SET shop_domain = ?2, presentment_currency = ?3, presentment_amount = ?4
                 WHERE event_id = ?1",
            )?
            .execute(params![receipt.event_id, shop_domain, currency, amount])?;
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
