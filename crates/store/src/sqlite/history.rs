//! Company settings and conversation history on SQLite, read with the
//! shared queries of `sql::reads`.

use std::collections::HashMap;

use revtrace_core::TicketHistory;
use rusqlite::Connection;

use super::run::rows as one_query;
use crate::{
    StoreError,
    model::CompanyId,
    sql::{args, reads, sqlite_text},
};

/// The company's attribution window and time zone.
pub(super) use crate::engine::Settings as CompanySettings;

/// Every ticket of a company with all its messages, grouped by fingerprint
/// (the replay path: one pass instead of a look-up per event).
pub(super) fn all_by_fingerprint(
    conn: &Connection,
    company: &CompanyId,
) -> Result<HashMap<String, Vec<TicketHistory>>, StoreError> {
    // Mapped row by row as SQLite steps: a large history is never held twice.
    let mut all = reads::AllHistories::default();
    let mut tickets = conn.prepare(sqlite_text(reads::ALL_TICKETS))?;
    let mut rows = tickets.query(rusqlite::params![company.0])?;
    while let Some(r) = rows.next()? {
        all.ticket(r)?;
    }
    let mut messages = conn.prepare(sqlite_text(reads::ALL_MESSAGES))?;
    let mut rows = messages.query(rusqlite::params![company.0])?;
    while let Some(r) = rows.next()? {
        all.message(r)?;
    }
    Ok(all.by_fingerprint())
}

pub(super) fn company_settings(conn: &Connection, company: &CompanyId) -> Result<CompanySettings, StoreError> {
    reads::settings(&one_query(conn, reads::SETTINGS, args![company.0.clone()])?, company)
}

/// Company settings read once per write batch: every call of a batch sees
/// the same settings, and the next batch sees what a CLI command changed.
#[derive(Default)]
pub(super) struct Companies(HashMap<String, CompanySettings>);

impl Companies {
    pub fn get(&mut self, conn: &Connection, company: &CompanyId) -> Result<&CompanySettings, StoreError> {
        if !self.0.contains_key(&company.0) {
            let settings = company_settings(conn, company)?;
            self.0.insert(company.0.clone(), settings);
        }
        self.0.get(&company.0).ok_or_else(|| crate::Rejection::UnknownCompany(company.0.clone()).into())
    }
}
