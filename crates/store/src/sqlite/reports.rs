//! The reporting table export on SQLite, streamed from a reader (the other
//! reports are `sql::reports`' flows).

use revtrace_core::report::DayRange;
use rusqlite::Connection;

use super::settings;
use crate::{
    StoreError,
    model::{CompanyId, ExportRow},
    sql::{reports, sqlite_text},
};

/// Streams the reporting table rows of a day range, in time order, to `sink`
/// (which stops the scan by returning false).
pub(super) fn export(
    conn: &Connection,
    company: &CompanyId,
    range: &DayRange,
    mut sink: impl FnMut(Result<ExportRow, StoreError>) -> bool,
) -> Result<(), StoreError> {
    let settings = settings::company_settings(conn, company)?;
    let mut stmt = conn.prepare(sqlite_text(reports::EXPORT))?;
    let args = reports::export_args(company, &settings.timezone, range);
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    while let Some(r) = rows.next()? {
        if !sink(reports::export_row(r)) {
            break;
        }
    }
    Ok(())
}
