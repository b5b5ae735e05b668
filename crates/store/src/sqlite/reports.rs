//! The reporting reads on SQLite: the shared queries of `sql::reports`,
//! plus what is SQLite's own: rollup shards summed in Rust (SQLite's sums
//! stop at i64) and multi-day visitors read from their packed days.

use revtrace_core::report::{DayRange, Filter, RollupRow, Visitors};
use rusqlite::{Connection, params};

use super::{history, run::rows as one_query};
use crate::{
    StoreError,
    model::{CompanyId, CompanyOverview, CompanyProfile, ConversationRow, ExportRow, TicketRevenue},
    rows::VisitorFlags,
    sql::{args, conversation, reads::Batch, reports, sqlite_text},
};

pub(super) fn company_profile(conn: &Connection, company: &CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
    reports::profile(&one_query(conn, reports::PROFILE, args![company.0.clone()])?)
}

/// The rollup rows of the days `from..=to`, ordered by day (a key's shards
/// as separate rows: the report adds them up), and whether the company has
/// any non-test checkout at all.
pub(super) fn rollup_rows(
    conn: &Connection,
    company: &CompanyId,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<(Vec<RollupRow>, bool), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, events, unconverted, usd_cents,
                quantity, refunded_cents
         FROM rollups WHERE company_id = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
    )?;
    let mut rows = stmt.query(rusqlite::params_from_iter(reports::rollup_args(company, from, to).iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(reports::rollup_row(r)?);
    }
    Ok((out, has_checkout_data(conn, company)?))
}

fn has_checkout_data(conn: &Connection, company: &CompanyId) -> Result<bool, StoreError> {
    reports::has_checkout_data(&one_query(conn, reports::HAS_CHECKOUT_DATA, args![company.0.clone()])?)
}

/// Distinct visitors seen in the range: single-day visitors from their
/// counts, the others from their packed days.
pub(super) fn visitors(conn: &Connection, company: &CompanyId, range: &DayRange) -> Result<Visitors, StoreError> {
    let mut tally = reports::VisitorTally::default();
    tally.add_counts(&one_query(conn, reports::VISITOR_COUNTS, reports::range_args(company, range))?)?;
    let (from, to) = (range.from.to_string(), range.to.to_string());
    // Multi-day visitors: each day's pack lists (id, flags) in hex; a
    // visitor's days in the range fold into one set of flags.
    let mut packs =
        conn.prepare_cached("SELECT pack FROM multi_visitor_packs WHERE company_id = ?1 AND day BETWEEN ?2 AND ?3")?;
    let mut rows = packs.query(params![company.0, from, to])?;
    let mut days: Vec<(u32, u8)> = Vec::new();
    while let Some(r) = rows.next()? {
        let pack = r.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?;
        let corrupt_pack = || StoreError::Corrupt("a visitor pack is not hex".into());
        for entry in pack.chunks(10) {
            let text = std::str::from_utf8(entry).map_err(|_| corrupt_pack())?;
            let id = u32::from_str_radix(text.get(..8).ok_or_else(corrupt_pack)?, 16).map_err(|_| corrupt_pack())?;
            let flags = u8::from_str_radix(text.get(8..).ok_or_else(corrupt_pack)?, 16).map_err(|_| corrupt_pack())?;
            days.push((id, flags));
        }
    }
    days.sort_unstable_by_key(|(visitor, _)| *visitor);
    for visitor in days.chunk_by(|a, b| a.0 == b.0) {
        let f = VisitorFlags::from_bits(visitor.iter().fold(0, |bits, (_, day)| bits | day));
        tally.add(f, 1);
    }
    Ok(tally.visitors())
}

pub(super) fn company_overview(conn: &Connection, company: &CompanyId) -> Result<Option<CompanyOverview>, StoreError> {
    let key = || args![company.0.clone()];
    reports::overview(
        company,
        company_profile(conn, company)?,
        &one_query(conn, reports::AI_PROFILES, key())?,
        &one_query(conn, reports::HAS_CHECKOUT_DATA, key())?,
    )
}

/// Scans the range's attributed events through the time index: fine for a
/// dashboard page, not meant for ranges of millions of events.
pub(super) fn top_conversations(
    conn: &Connection,
    company: &CompanyId,
    range: &DayRange,
    filter: &Filter,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let timezone = history::company_settings(conn, company)?.timezone;
    let args = reports::top_args(company, &timezone, range, filter, limit);
    reports::conversations(&one_query(conn, reports::TOP_CONVERSATIONS, args)?)
}

pub(super) fn ticket_revenue(
    conn: &Connection,
    company: &CompanyId,
    ticket_id: &str,
) -> Result<Option<TicketRevenue>, StoreError> {
    let mut batch = Batch::default();
    let ix = conversation::push(&mut batch, company, ticket_id);
    conversation::fold(&super::run::all(conn, batch)?, &ix, ticket_id)
}

/// Streams the reporting table rows of a day range, in time order, to `sink`
/// (which stops the scan by returning false).
pub(super) fn export(
    conn: &Connection,
    company: &CompanyId,
    range: &DayRange,
    mut sink: impl FnMut(Result<ExportRow, StoreError>) -> bool,
) -> Result<(), StoreError> {
    let settings = history::company_settings(conn, company)?;
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
