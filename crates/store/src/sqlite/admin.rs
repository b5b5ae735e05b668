//! Writes made by operators (CLI, or a secret-key call): companies, keys,
//! currency rates and the product catalog.

use rusqlite::{Connection, OptionalExtension, params};

use super::history::Companies;
use crate::{
    StoreError,
    keys::{random_token, sha256_hex, time_ordered_id},
    model::{CompanyCredentials, CompanyId, CompanyKeys, KeyChange, NewCompany, Product, RateInput, SecretKeyInfo},
    rows::key_named,
};

/// Applies a change to a company's keys and answers them as they then are.
pub(super) fn keys(
    conn: &Connection,
    company: &CompanyId,
    change: KeyChange,
    now_ms: i64,
) -> Result<CompanyKeys, StoreError> {
    let secret_keys = |conn: &Connection| -> Result<Vec<SecretKeyInfo>, StoreError> {
        let mut stmt = conn.prepare_cached(
            "SELECT key_prefix, created_at_ms, rate_per_minute FROM api_keys WHERE company_id = ?1
             ORDER BY created_at_ms, key_prefix",
        )?;
        let rows = stmt.query_map(params![company.0], |r| {
            Ok(SecretKeyInfo {
                prefix: r.get(0)?,
                created_at: revtrace_core::time::to_rfc3339(r.get(1)?),
                rate_per_minute: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let company_row: Option<(String, Option<u32>)> = conn
        .prepare_cached("SELECT company_key, public_rate_per_minute FROM companies WHERE company_id = ?1")?
        .query_row(params![company.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((company_key, mut public_rate)) = company_row else {
        return Err(crate::Rejection::UnknownCompany(company.0.clone()).into());
    };
    let mut added = None;
    match change {
        KeyChange::List => {}
        KeyChange::Add { rate_per_minute } => {
            let key = random_token("sk_");
            conn.execute(
                "INSERT INTO api_keys (key_sha256, company_id, key_prefix, created_at_ms, rate_per_minute)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sha256_hex(&key), company.0, &key[..10], now_ms, rate_per_minute],
            )?;
            added = Some(key);
        }
        KeyChange::Revoke { prefix } => {
            let prefix = key_named(&secret_keys(conn)?, &prefix, true)?;
            conn.execute("DELETE FROM api_keys WHERE company_id = ?1 AND key_prefix = ?2", params![company.0, prefix])?;
        }
        KeyChange::SetKeyRate { prefix, rate_per_minute } => {
            let prefix = key_named(&secret_keys(conn)?, &prefix, false)?;
            conn.execute(
                "UPDATE api_keys SET rate_per_minute = ?3 WHERE company_id = ?1 AND key_prefix = ?2",
                params![company.0, prefix, rate_per_minute],
            )?;
        }
        KeyChange::PublicRate(rate) => {
            conn.execute(
                "UPDATE companies SET public_rate_per_minute = ?2 WHERE company_id = ?1",
                params![company.0, rate],
            )?;
            public_rate = rate;
        }
    }
    Ok(CompanyKeys { company_key, public_rate_per_minute: public_rate, secret_keys: secret_keys(conn)?, added })
}

pub(super) fn create_company(
    conn: &Connection,
    company: NewCompany,
    now_ms: i64,
) -> Result<CompanyCredentials, StoreError> {
    let credentials = CompanyCredentials {
        company_id: time_ordered_id("co_"),
        company_key: random_token("pk_"),
        secret_key: random_token("sk_"),
    };
    conn.execute(
        "INSERT INTO companies (company_id, name, timezone, window_ms, company_key, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            credentials.company_id,
            company.name,
            company.timezone,
            company.window_ms,
            credentials.company_key,
            now_ms
        ],
    )?;
    conn.execute(
        "INSERT INTO api_keys (key_sha256, company_id, key_prefix, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![sha256_hex(&credentials.secret_key), credentials.company_id, &credentials.secret_key[..10], now_ms],
    )?;
    Ok(credentials)
}

pub(super) fn set_rates(conn: &Connection, rates: &[RateInput]) -> Result<u64, StoreError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO currency_rates (currency, effective_from, usd_multiplier, source) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (currency, effective_from) DO UPDATE SET usd_multiplier = excluded.usd_multiplier,
            source = excluded.source",
    )?;
    for rate in rates {
        upsert.execute(params![
            rate.currency.as_str(),
            rate.effective_from.to_string(),
            rate.multiplier.value().to_string(),
            rate.source
        ])?;
    }
    Ok(rates.len() as u64)
}

/// Inserts or replaces catalog entries; returns how many were written.
pub(super) fn upsert_products(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    products: &[Product],
    now_ms: i64,
) -> Result<u64, StoreError> {
    companies.get(conn, company)?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO products (company_id, product_id, title, image_url, url, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (company_id, product_id) DO UPDATE SET title = excluded.title, image_url = excluded.image_url,
            url = excluded.url, updated_at_ms = excluded.updated_at_ms",
    )?;
    for p in products {
        upsert.execute(params![company.0, p.product_id, p.title, p.image_url, p.url, now_ms])?;
    }
    Ok(products.len() as u64)
}

pub(super) fn origins(conn: &Connection, company: &CompanyId) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT origin FROM allowed_origins WHERE company_id = ?1 ORDER BY origin")?
        .query_map(params![company.0], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

pub(super) fn set_origins(
    conn: &Connection,
    company: &CompanyId,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, StoreError> {
    for origin in add {
        conn.execute(
            "INSERT INTO allowed_origins (company_id, origin) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![company.0, origin],
        )?;
    }
    for origin in remove {
        conn.execute("DELETE FROM allowed_origins WHERE company_id = ?1 AND origin = ?2", params![company.0, origin])?;
    }
    origins(conn, company)
}
