//! A company's settings on PostgreSQL.

use deadpool_postgres::GenericClient;

use super::all;
use crate::{StoreError, model::CompanyId, sql::reads};

/// The company's attribution window and time zone.
pub(super) use crate::engine::Settings as CompanySettings;

/// Read in every call's own transaction, so a window changed by the CLI
/// applies to the next call of every server.
pub(super) async fn company_settings(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<CompanySettings, StoreError> {
    reads::settings(&all(c, reads::SETTINGS, &[&company.as_str()]).await?, company)
}
