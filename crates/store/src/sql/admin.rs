//! Operator writes, written once: companies, keys, currency rates, the
//! product catalog and allowed origins. Each is a list of statements (and,
//! for keys, the reads they depend on); a backend runs them in its own
//! transaction.

use super::{Arg, Cells, args, reads::Batch};
use crate::Rejection;
use crate::{
    StoreError,
    clock::time_ordered_id,
    keys::{random_token, sha256_hex},
    model::{CompanyCredentials, CompanyId, KeyChange, NewCompany, Product, RateInput, SecretKeyInfo},
};

/// PostgreSQL keeps rates as `integer`; a rate past it is as good as none.
fn rate_arg(value: Option<u32>) -> Arg {
    value.map(|n| i64::from(n.min(i32::MAX as u32))).into()
}

pub(crate) fn create_company(company: &NewCompany, now_ms: i64) -> (Batch, CompanyCredentials) {
    let credentials = CompanyCredentials {
        company_id: time_ordered_id("co_", now_ms),
        company_key: random_token("pk_"),
        secret_key: random_token("sk_"),
    };
    let mut batch = Batch::default();
    batch.push(
        "INSERT INTO companies (company_id, name, timezone, window_ms, company_key, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
        args![
            credentials.company_id.clone(),
            company.name.clone(),
            company.timezone.clone(),
            company.window_ms,
            credentials.company_key.clone(),
            now_ms
        ],
    );
    batch.push(
        "INSERT INTO api_keys (key_sha256, company_id, key_prefix, created_at_ms) VALUES ($1, $2, $3, $4)",
        args![
            sha256_hex(&credentials.secret_key),
            credentials.company_id.clone(),
            &credentials.secret_key[..10],
            now_ms
        ],
    );
    (batch, credentials)
}

pub(crate) fn set_rates(rates: &[RateInput]) -> Batch {
    let mut batch = Batch::default();
    for rate in rates {
        batch.push(
            "INSERT INTO currency_rates (currency, effective_from, usd_multiplier, source) VALUES ($1, $2, $3, $4)
             ON CONFLICT (currency, effective_from) DO UPDATE SET usd_multiplier = excluded.usd_multiplier,
                source = excluded.source",
            args![
                rate.currency.as_str(),
                rate.effective_from.to_string(),
                rate.multiplier.value().to_string(),
                rate.source.clone()
            ],
        );
    }
    batch
}

pub(crate) fn upsert_products(company: &CompanyId, products: &[Product], now_ms: i64) -> Batch {
    let mut batch = Batch::default();
    for p in products {
        batch.push(
            "INSERT INTO products (company_id, product_id, title, image_url, url, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (company_id, product_id) DO UPDATE SET title = excluded.title, image_url = excluded.image_url,
                url = excluded.url, updated_at_ms = excluded.updated_at_ms",
            args![
                company.to_string(),
                p.product_id.clone(),
                p.title.clone(),
                p.image_url.clone(),
                p.url.clone(),
                now_ms
            ],
        );
    }
    batch
}

pub(crate) const ORIGINS: &str = "SELECT origin FROM allowed_origins WHERE company_id = $1 ORDER BY origin";

pub(crate) fn origins<R: Cells>(rows: &[R]) -> Result<Vec<String>, StoreError> {
    rows.iter().map(|r| r.text(0)).collect()
}

pub(crate) fn set_origins(company: &CompanyId, add: &[String], remove: &[String]) -> Batch {
    let mut batch = Batch::repeated(
        "INSERT INTO allowed_origins (company_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        add.iter().map(|origin| args![company.to_string(), origin]),
    );
    let removals = Batch::repeated(
        "DELETE FROM allowed_origins WHERE company_id = $1 AND origin = $2",
        remove.iter().map(|origin| args![company.to_string(), origin]),
    );
    batch.queries.extend(removals.queries);
    batch
}

/// A company's key (`company_key, public_rate_per_minute`).
pub(crate) const COMPANY_KEY: &str = "SELECT company_key, public_rate_per_minute FROM companies WHERE company_id = $1";

pub(crate) const SECRET_KEYS: &str = "SELECT key_prefix, created_at_ms, rate_per_minute FROM api_keys
     WHERE company_id = $1 ORDER BY created_at_ms, key_prefix";

pub(crate) fn secret_keys<R: Cells>(rows: &[R]) -> Result<Vec<SecretKeyInfo>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(SecretKeyInfo {
                prefix: r.text(0)?,
                created_at: revtrace_core::time::to_rfc3339(r.int(1)?),
                rate_per_minute: r.opt_int(2)?.and_then(|n| u32::try_from(n).ok()),
            })
        })
        .collect()
}

/// The company's public key and rate, or a rejection for an unknown company.
pub(crate) fn company_key<R: Cells>(rows: &[R], company: &CompanyId) -> Result<(String, Option<u32>), StoreError> {
    let r = rows.first().ok_or_else(|| crate::Rejection::UnknownCompany(company.clone()))?;
    Ok((r.text(0)?, r.opt_int(1)?.and_then(|n| u32::try_from(n).ok())))
}

/// What a key change writes, the secret key it adds (shown once) and the
/// public rate after it.
pub(crate) struct KeyPlan {
    pub batch: Batch,
    pub added: Option<String>,
    pub public_rate: Option<u32>,
}

pub(crate) fn change_keys(
    company: &CompanyId,
    keys: &[SecretKeyInfo],
    public_rate: Option<u32>,
    change: &KeyChange,
    now_ms: i64,
) -> Result<KeyPlan, StoreError> {
    let mut plan = KeyPlan { batch: Batch::default(), added: None, public_rate };
    match change {
        KeyChange::List => {}
        KeyChange::Add { rate_per_minute } => {
            let key = random_token("sk_");
            plan.batch.push(
                "INSERT INTO api_keys (key_sha256, company_id, key_prefix, created_at_ms, rate_per_minute)
                 VALUES ($1, $2, $3, $4, $5)",
                args![sha256_hex(&key), company.to_string(), &key[..10], now_ms, rate_arg(*rate_per_minute)],
            );
            plan.added = Some(key);
        }
        KeyChange::Revoke { prefix } => {
            let prefix = key_named(keys, prefix, true)?;
            plan.batch.push(
                "DELETE FROM api_keys WHERE company_id = $1 AND key_prefix = $2",
                args![company.to_string(), prefix],
            );
        }
        KeyChange::SetKeyRate { prefix, rate_per_minute } => {
            let prefix = key_named(keys, prefix, false)?;
            plan.batch.push(
                "UPDATE api_keys SET rate_per_minute = $3 WHERE company_id = $1 AND key_prefix = $2",
                args![company.to_string(), prefix, rate_arg(*rate_per_minute)],
            );
        }
        KeyChange::PublicRate(rate) => {
            plan.batch.push(
                "UPDATE companies SET public_rate_per_minute = $2 WHERE company_id = $1",
                args![company.to_string(), rate_arg(*rate)],
            );
            plan.public_rate = *rate;
        }
    }
    Ok(plan)
}

// --- the flows, over either backend ---------------------------------------

use super::db::{Db, keys_lock};
use crate::model::{CompanyKeys, NewCompany as Company};

/// Applies a change to a company's keys and answers them as they then are;
/// two changes of one company run one after the other.
pub(crate) async fn change<D: Db>(
    db: &D,
    company: &CompanyId,
    change: &KeyChange,
    now_ms: i64,
) -> Result<CompanyKeys, StoreError> {
    db.lock(&[keys_lock(company)]).await?;
    let (company_key, public_rate) = company_key(&db.rows(COMPANY_KEY, args![company.to_string()]).await?, company)?;
    let keys = secret_keys(&db.rows(SECRET_KEYS, args![company.to_string()]).await?)?;
    let plan = change_keys(company, &keys, public_rate, change, now_ms)?;
    db.exec(plan.batch).await?;
    Ok(CompanyKeys {
        company_key,
        public_rate_per_minute: plan.public_rate,
        secret_keys: secret_keys(&db.rows(SECRET_KEYS, args![company.to_string()]).await?)?,
        added: plan.added,
    })
}

pub(crate) async fn add_company<D: Db>(
    db: &D,
    company: &Company,
    now_ms: i64,
) -> Result<CompanyCredentials, StoreError> {
    let (batch, credentials) = create_company(company, now_ms);
    db.exec(batch).await?;
    Ok(credentials)
}

pub(crate) async fn store_rates<D: Db>(db: &D, rates: &[RateInput]) -> Result<u64, StoreError> {
    db.exec(set_rates(rates)).await?;
    Ok(rates.len() as u64)
}

/// Inserts or replaces catalog entries; returns how many were written.
pub(crate) async fn store_products<D: Db>(
    db: &D,
    company: &CompanyId,
    products: &[Product],
    now_ms: i64,
) -> Result<u64, StoreError> {
    super::reads::company_settings(db, company).await?;
    db.exec(upsert_products(company, products, now_ms)).await?;
    Ok(products.len() as u64)
}

pub(crate) async fn allowed_origins<D: Db>(db: &D, company: &CompanyId) -> Result<Vec<String>, StoreError> {
    origins(&db.rows(ORIGINS, args![company.to_string()]).await?)
}

pub(crate) async fn change_origins<D: Db>(
    db: &D,
    company: &CompanyId,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, StoreError> {
    super::reads::company_settings(db, company).await?;
    db.exec(set_origins(company, add, remove)).await?;
    allowed_origins(db, company).await
}

/// Which stored secret key a change names, by prefix: exactly one must match,
/// and the last live key is never revoked (the company would lose its reads).
pub(crate) fn key_named(
    keys: &[crate::model::SecretKeyInfo],
    prefix: &str,
    revoking: bool,
) -> Result<String, Rejection> {
    let matching: Vec<&crate::model::SecretKeyInfo> = keys.iter().filter(|k| k.prefix.starts_with(prefix)).collect();
    match matching.as_slice() {
        [] => Err(Rejection::invalid(None, format!("no secret key of this company starts with {prefix:?}"))),
        [one] if revoking && keys.len() == 1 => Err(Rejection::invalid(
            None,
            format!("{} is the company's only secret key; add another first (revtrace company keys add)", one.prefix),
        )),
        [one] => Ok(one.prefix.clone()),
        _ => Err(Rejection::invalid(None, format!("several secret keys start with {prefix:?}; give more of it"))),
    }
}

/// Every company, oldest first.
pub(crate) async fn companies<D: Db>(db: &D) -> Result<Vec<crate::model::CompanySummary>, StoreError> {
    db.rows(
        "SELECT company_id, name, timezone, window_ms, company_key, created_at_ms FROM companies
         ORDER BY created_at_ms, company_id",
        Vec::new(),
    )
    .await?
    .iter()
    .map(|r| {
        Ok(crate::model::CompanySummary {
            company_id: r.text(0)?,
            name: r.text(1)?,
            timezone: r.text(2)?,
            window_hours: r.int(3)? / 3_600_000,
            company_key: r.text(4)?,
            created_at: revtrace_core::time::to_rfc3339(r.int(5)?),
        })
    })
    .collect()
}
