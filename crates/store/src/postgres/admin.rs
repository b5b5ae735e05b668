//! Operator writes on PostgreSQL: companies, keys, rates, the catalog, origins.

use deadpool_postgres::GenericClient;

use super::{Tx, all, exec, history};
use crate::{
    StoreError,
    keys::{random_token, sha256_hex, time_ordered_id},
    model::{CompanyCredentials, CompanyId, CompanyKeys, KeyChange, NewCompany, Product, RateInput, SecretKeyInfo},
    rows::key_named,
};

fn rate(value: Option<i32>) -> Option<u32> {
    value.and_then(|n| u32::try_from(n).ok())
}

fn rate_param(value: Option<u32>) -> Option<i32> {
    value.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

async fn secret_keys(tx: &Tx<'_>, company: &CompanyId) -> Result<Vec<SecretKeyInfo>, StoreError> {
    let rows = all(
        tx,
        "SELECT key_prefix, created_at_ms, rate_per_minute FROM api_keys WHERE company_id = $1
         ORDER BY created_at_ms, key_prefix",
        &[&company.0],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| SecretKeyInfo {
            prefix: r.get(0),
            created_at: revtrace_core::time::to_rfc3339(r.get(1)),
            rate_per_minute: rate(r.get(2)),
        })
        .collect())
}

/// Applies a change to a company's keys and answers them as they then are.
pub(super) async fn keys(
    tx: &Tx<'_>,
    company: &CompanyId,
    change: &KeyChange,
    now_ms: i64,
) -> Result<CompanyKeys, StoreError> {
    let Some(row) = tx
        .query_opt(
            "SELECT company_key, public_rate_per_minute FROM companies WHERE company_id = $1 FOR UPDATE",
            &[&company.0],
        )
        .await?
    else {
        return Err(crate::Rejection::UnknownCompany(company.0.clone()).into());
    };
    let company_key: String = row.get(0);
    let mut public_rate = rate(row.get(1));
    let mut added = None;
    match change {
        KeyChange::List => {}
        KeyChange::Add { rate_per_minute } => {
            let key = random_token("sk_");
            exec(
                tx,
                "INSERT INTO api_keys (key_sha256, company_id, key_prefix, created_at_ms, rate_per_minute)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&sha256_hex(&key), &company.0, &&key[..10], &now_ms, &rate_param(*rate_per_minute)],
            )
            .await?;
            added = Some(key);
        }
        KeyChange::Revoke { prefix } => {
            let prefix = key_named(&secret_keys(tx, company).await?, prefix, true)?;
            exec(tx, "DELETE FROM api_keys WHERE company_id = $1 AND key_prefix = $2", &[&company.0, &prefix]).await?;
        }
        KeyChange::SetKeyRate { prefix, rate_per_minute } => {
            let prefix = key_named(&secret_keys(tx, company).await?, prefix, false)?;
            exec(
                tx,
                "UPDATE api_keys SET rate_per_minute = $3 WHERE company_id = $1 AND key_prefix = $2",
                &[&company.0, &prefix, &rate_param(*rate_per_minute)],
            )
            .await?;
        }
        KeyChange::PublicRate(value) => {
            exec(
                tx,
                "UPDATE companies SET public_rate_per_minute = $2 WHERE company_id = $1",
                &[&company.0, &rate_param(*value)],
            )
            .await?;
            public_rate = *value;
        }
    }
    Ok(CompanyKeys {
        company_key,
        public_rate_per_minute: public_rate,
        secret_keys: secret_keys(tx, company).await?,
        added,
    })
}

pub(super) async fn create_company(
    tx: &Tx<'_>,
    company: &NewCompany,
    now_ms: i64,
) -> Result<CompanyCredentials, StoreError> {
    let credentials = CompanyCredentials {
        company_id: time_ordered_id("co_"),
        company_key: random_token("pk_"),
        secret_key: random_token("sk_"),
    };
    exec(
        tx,
        "INSERT INTO companies (company_id, name, timezone, window_ms, company_key, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &credentials.company_id,
            &company.name,
            &company.timezone,
            &company.window_ms,
            &credentials.company_key,
            &now_ms,
        ],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO api_keys (key_sha256, company_id, key_prefix, created_at_ms) VALUES ($1, $2, $3, $4)",
        &[&sha256_hex(&credentials.secret_key), &credentials.company_id, &&credentials.secret_key[..10], &now_ms],
    )
    .await?;
    Ok(credentials)
}

pub(super) async fn set_rates(tx: &Tx<'_>, rates: &[RateInput]) -> Result<u64, StoreError> {
    for rate in rates {
        exec(
            tx,
            "INSERT INTO currency_rates (currency, effective_from, usd_multiplier, source) VALUES ($1, $2, $3, $4)
             ON CONFLICT (currency, effective_from) DO UPDATE SET usd_multiplier = excluded.usd_multiplier,
                source = excluded.source",
            &[
                &rate.currency.as_str(),
                &rate.effective_from.to_string(),
                &rate.multiplier.value().to_string(),
                &rate.source,
            ],
        )
        .await?;
    }
    Ok(rates.len() as u64)
}

pub(super) async fn upsert_products(
    tx: &Tx<'_>,
    company: &CompanyId,
    products: &[Product],
    now_ms: i64,
) -> Result<u64, StoreError> {
    history::company_settings(tx, company).await?;
    for p in products {
        exec(
            tx,
            "INSERT INTO products (company_id, product_id, title, image_url, url, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (company_id, product_id) DO UPDATE SET title = excluded.title, image_url = excluded.image_url,
                url = excluded.url, updated_at_ms = excluded.updated_at_ms",
            &[&company.0, &p.product_id, &p.title, &p.image_url, &p.url, &now_ms],
        )
        .await?;
    }
    Ok(products.len() as u64)
}

pub(super) async fn origins(c: &impl GenericClient, company: &CompanyId) -> Result<Vec<String>, StoreError> {
    Ok(all(c, "SELECT origin FROM allowed_origins WHERE company_id = $1 ORDER BY origin", &[&company.0])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

pub(super) async fn set_origins(
    tx: &Tx<'_>,
    company: &CompanyId,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, StoreError> {
    history::company_settings(tx, company).await?;
    for origin in add {
        exec(
            tx,
            "INSERT INTO allowed_origins (company_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&company.0, origin],
        )
        .await?;
    }
    for origin in remove {
        exec(tx, "DELETE FROM allowed_origins WHERE company_id = $1 AND origin = $2", &[&company.0, origin]).await?;
    }
    origins(tx, company).await
}
