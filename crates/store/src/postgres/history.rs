//! Company settings and conversation history on PostgreSQL, read with the
//! shared queries of `sql::reads`.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use revtrace_core::TicketHistory;

use super::all;
use crate::{StoreError, model::CompanyId, sql::reads};

/// The company's attribution window and time zone.
pub(super) use crate::engine::Settings as CompanySettings;

/// Every ticket of a company with all its messages, grouped by fingerprint
/// (the replay path: one pass instead of a look-up per event).
pub(super) async fn all_by_fingerprint(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<HashMap<String, Vec<TicketHistory>>, StoreError> {
    let mut histories = reads::AllHistories::default();
    for r in &all(c, reads::ALL_TICKETS, &[&company.0]).await? {
        histories.ticket(r)?;
    }
    for r in &all(c, reads::ALL_MESSAGES, &[&company.0]).await? {
        histories.message(r)?;
    }
    Ok(histories.by_fingerprint())
}

/// Read in every call's own transaction, so a window changed by the CLI
/// applies to the next call of every server.
pub(super) async fn company_settings(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<CompanySettings, StoreError> {
    reads::settings(&all(c, reads::SETTINGS, &[&company.0]).await?, company)
}
