//! Key look-ups and decision receipts on PostgreSQL.

use deadpool_postgres::GenericClient;

use super::rows;
use crate::{
    StoreError,
    model::{AttributionReceipt, CompanyId, Principal},
    sql::lookups,
};

pub(super) async fn principal(c: &impl GenericClient, key: &str) -> Result<Option<Principal>, StoreError> {
    let (sql, args, kind) = lookups::principal_query(key);
    lookups::principal(&rows(c, sql, args).await?, kind)
}

pub(super) async fn attribution(
    c: &impl GenericClient,
    company: &CompanyId,
    event_id: &str,
) -> Result<Option<AttributionReceipt>, StoreError> {
    let (sql, args) = lookups::attribution_query(company, event_id);
    lookups::attribution(&rows(c, sql, args).await?)
}
