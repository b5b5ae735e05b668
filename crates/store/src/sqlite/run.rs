//! Running the statements of `sql` on a SQLite connection.

use rusqlite::{Connection, params_from_iter};

use crate::{
    StoreError,
    sql::{Arg, SqliteRow, reads::Batch, sqlite_text},
};

/// Runs a batch of queries one after the other; every row of each.
pub(super) fn all(conn: &Connection, batch: Batch) -> Result<Vec<Vec<SqliteRow>>, StoreError> {
    batch.queries.into_iter().map(|(sql, args)| rows(conn, sql, args)).collect()
}

/// Every row of one query.
pub(super) fn rows(conn: &Connection, sql: &'static str, args: Vec<Arg>) -> Result<Vec<SqliteRow>, StoreError> {
    let mut statement = conn.prepare_cached(sqlite_text(sql))?;
    let columns = statement.column_count();
    let rows = statement
        .query_map(params_from_iter(args.iter()), |r| (0..columns).map(|i| r.get(i)).collect())?
        .collect::<Result<Vec<SqliteRow>, _>>()?;
    Ok(rows)
}

/// Runs statements that answer no rows, in order.
pub(super) fn exec(conn: &Connection, batch: Batch) -> Result<(), StoreError> {
    for (sql, args) in batch.queries {
        conn.prepare_cached(sqlite_text(sql))?.execute(params_from_iter(args.iter()))?;
    }
    Ok(())
}
