//! The read side: key look-ups and decision receipts, on pooled readers.

use rusqlite::Connection;

use super::run::rows as one_query;
use crate::{
    StoreError,
    model::{AttributionReceipt, CompanyId, Principal},
    sql::lookups,
};

pub(super) fn principal(conn: &Connection, key: &str) -> Result<Option<Principal>, StoreError> {
    let (sql, args, kind) = lookups::principal_query(key);
    lookups::principal(&one_query(conn, sql, args)?, kind)
}

pub(super) fn attribution(
    conn: &Connection,
    company: &CompanyId,
    event_id: &str,
) -> Result<Option<AttributionReceipt>, StoreError> {
    let (sql, args) = lookups::attribution_query(company, event_id);
    lookups::attribution(&one_query(conn, sql, args)?)
}
