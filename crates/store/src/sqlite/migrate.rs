//! Schema migrations, tracked in SQLite's `user_version`.

use rusqlite::Connection;

/// Each entry moves the schema up one version. Append only.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_init.sql")];

pub(super) fn run(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
    }
    tx.commit()
}
