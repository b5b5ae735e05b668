//! A company's settings on SQLite, and the writer's per-batch cache of them.

use std::collections::HashMap;

use rusqlite::Connection;

use super::run::rows as one_query;
use crate::{
    StoreError,
    model::CompanyId,
    sql::{args, reads},
};

/// The company's attribution window and time zone.
pub(super) use crate::engine::Settings as CompanySettings;

pub(super) fn company_settings(conn: &Connection, company: &CompanyId) -> Result<CompanySettings, StoreError> {
    reads::settings(&one_query(conn, reads::SETTINGS, args![company.to_string()])?, company)
}

/// Company settings read once per write batch: every call of a batch sees
/// the same settings, and the next batch sees what a CLI command changed.
#[derive(Default)]
pub(super) struct Companies(HashMap<String, CompanySettings>);

impl Companies {
    pub fn get(&mut self, conn: &Connection, company: &CompanyId) -> Result<&CompanySettings, StoreError> {
        if !self.0.contains_key(company.as_str()) {
            let settings = company_settings(conn, company)?;
            self.0.insert(company.to_string(), settings);
        }
        self.0.get(company.as_str()).ok_or_else(|| crate::Rejection::UnknownCompany(company.clone()).into())
    }
}
