//! Writes made by operators (CLI, or a secret-key call): companies, keys,
//! currency rates and the product catalog.

use rusqlite::{Connection, params};

use super::history::Companies;
use crate::{
    StoreError,
    keys::{random_token, sha256_hex, time_ordered_id},
    model::{CompanyCredentials, CompanyId, NewCompany, Product, RateInput},
};

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
