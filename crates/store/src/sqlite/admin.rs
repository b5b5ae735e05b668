//! Operator writes (CLI, or a secret-key call) on the writer's connection:
//! the statements of `sql::admin`, run in the writer's transaction.

use rusqlite::Connection;

use super::{
    history::Companies,
    run::{exec as exec_all, rows as one_query},
};
use crate::{
    StoreError,
    model::{CompanyCredentials, CompanyId, CompanyKeys, KeyChange, NewCompany, Product, RateInput},
    sql::{admin, args},
};

/// Applies a change to a company's keys and answers them as they then are.
pub(super) fn keys(
    conn: &Connection,
    company: &CompanyId,
    change: KeyChange,
    now_ms: i64,
) -> Result<CompanyKeys, StoreError> {
    let secret_keys = |conn| admin::secret_keys(&one_query(conn, admin::SECRET_KEYS, args![company.0.clone()])?);
    let (company_key, public_rate) =
        admin::company_key(&one_query(conn, admin::COMPANY_KEY, args![company.0.clone()])?, company)?;
    let plan = admin::change_keys(company, &secret_keys(conn)?, public_rate, &change, now_ms)?;
    exec_all(conn, plan.batch)?;
    Ok(CompanyKeys {
        company_key,
        public_rate_per_minute: plan.public_rate,
        secret_keys: secret_keys(conn)?,
        added: plan.added,
    })
}

pub(super) fn create_company(
    conn: &Connection,
    company: NewCompany,
    now_ms: i64,
) -> Result<CompanyCredentials, StoreError> {
    let (batch, credentials) = admin::create_company(&company, now_ms);
    exec_all(conn, batch)?;
    Ok(credentials)
}

pub(super) fn set_rates(conn: &Connection, rates: &[RateInput]) -> Result<u64, StoreError> {
    exec_all(conn, admin::set_rates(rates))?;
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
    exec_all(conn, admin::upsert_products(company, products, now_ms))?;
    Ok(products.len() as u64)
}

pub(super) fn origins(conn: &Connection, company: &CompanyId) -> Result<Vec<String>, StoreError> {
    admin::origins(&one_query(conn, admin::ORIGINS, args![company.0.clone()])?)
}

pub(super) fn set_origins(
    conn: &Connection,
    company: &CompanyId,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, StoreError> {
    exec_all(conn, admin::set_origins(company, add, remove))?;
    origins(conn, company)
}
