//! Schema migrations, tracked in SQLite's `user_version`.

use rusqlite::{Connection, params};

/// One step up: SQL, then (when SQL cannot say it) a Rust backfill.
struct Migration {
    sql: &'static str,
    backfill: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

/// Each entry moves the schema up one version. Append only.
const MIGRATIONS: &[Migration] = &[
    Migration { sql: include_str!("migrations/0001_init.sql"), backfill: None },
    Migration { sql: include_str!("migrations/0002_reporting.sql"), backfill: Some(assisted_days) },
];

pub(super) fn run(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, step) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.execute_batch(step.sql)?;
        if let Some(backfill) = step.backfill {
            backfill(&tx)?;
        }
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
    }
    tx.commit()
}

/// Version 2: marks the visitor days on which a grounded AI answer was sent,
/// in each company's own time zone (which SQL cannot convert to), then
/// counts single-day visitors.
fn assisted_days(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT t.company_id, c.timezone, t.fingerprint, m.sent_at_ms
         FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk JOIN companies c ON c.company_id = t.company_id
         WHERE m.role = 'ai' AND m.has_answer_found = 1",
    )?;
    let mut mark = conn.prepare(
        "INSERT INTO visitor_days (company_id, day, user_fingerprint, seen, assisted) VALUES (?1, ?2, ?3, 0, 1)
         ON CONFLICT (company_id, day, user_fingerprint) DO UPDATE SET assisted = 1",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (company, zone, fingerprint, at_ms): (String, String, String, i64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let tz = jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let day = revtrace_core::time::reporting_day(at_ms, &tz).to_string();
        mark.execute(params![company, day, fingerprint])?;
    }
    conn.execute_batch(include_str!("migrations/visitor_counts.sql"))
}
