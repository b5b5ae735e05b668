//! Operator writes on PostgreSQL: the statements of `sql::admin`, run in
//! the call's transaction.

use deadpool_postgres::GenericClient;

use super::{Tx, exec_all, history, rows};
use crate::{
    StoreError,
    model::{CompanyCredentials, CompanyId, CompanyKeys, KeyChange, NewCompany, Product, RateInput},
    sql::{admin, args},
};

/// Applies a change to a company's keys and answers them as they then are.
pub(super) async fn keys(
    tx: &Tx<'_>,
    company: &CompanyId,
    change: &KeyChange,
    now_ms: i64,
) -> Result<CompanyKeys, StoreError> {
    // The company's row is locked: two key changes of one company queue.
    rows(tx, "SELECT 1 FROM companies WHERE company_id = $1 FOR UPDATE", args![company.0.clone()]).await?;
    let (company_key, public_rate) =
        admin::company_key(&rows(tx, admin::COMPANY_KEY, args![company.0.clone()]).await?, company)?;
    let keys = admin::secret_keys(&rows(tx, admin::SECRET_KEYS, args![company.0.clone()]).await?)?;
    let plan = admin::change_keys(company, &keys, public_rate, change, now_ms)?;
    exec_all(tx, plan.batch).await?;
    Ok(CompanyKeys {
        company_key,
        public_rate_per_minute: plan.public_rate,
        secret_keys: admin::secret_keys(&rows(tx, admin::SECRET_KEYS, args![company.0.clone()]).await?)?,
        added: plan.added,
    })
}

pub(super) async fn create_company(
    tx: &Tx<'_>,
    company: &NewCompany,
    now_ms: i64,
) -> Result<CompanyCredentials, StoreError> {
    let (batch, credentials) = admin::create_company(company, now_ms);
    exec_all(tx, batch).await?;
    Ok(credentials)
}

pub(super) async fn set_rates(tx: &Tx<'_>, rates: &[RateInput]) -> Result<u64, StoreError> {
    exec_all(tx, admin::set_rates(rates)).await?;
    Ok(rates.len() as u64)
}

pub(super) async fn upsert_products(
    tx: &Tx<'_>,
    company: &CompanyId,
    products: &[Product],
    now_ms: i64,
) -> Result<u64, StoreError> {
    history::company_settings(tx, company).await?;
    exec_all(tx, admin::upsert_products(company, products, now_ms)).await?;
    Ok(products.len() as u64)
}

pub(super) async fn origins(c: &impl GenericClient, company: &CompanyId) -> Result<Vec<String>, StoreError> {
    admin::origins(&rows(c, admin::ORIGINS, args![company.0.clone()]).await?)
}

pub(super) async fn set_origins(
    tx: &Tx<'_>,
    company: &CompanyId,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, StoreError> {
    history::company_settings(tx, company).await?;
    exec_all(tx, admin::set_origins(company, add, remove)).await?;
    origins(tx, company).await
}
