//! The writer's connection as a [`Sink`]: plan statements run at once,
//! inside the call's savepoint; rollups and visitor counts keep SQLite's
//! own storage (shards past i64, packed mirror days).

use rusqlite::{Connection, params, params_from_iter};

use super::rollups;
use crate::{
    StoreError,
    engine::{NewLineItem, Write},
    model::CompanyId,
    rows::{RollupKey, VisitorFlags},
    sql::{Arg, sqlite_text, writes::Sink},
};

struct Writer<'a> {
    conn: &'a Connection,
    company: &'a CompanyId,
}

impl Sink for Writer<'_> {
    fn exec(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<(), StoreError> {
        self.conn.prepare_cached(sqlite_text(sql))?.execute(params_from_iter(args.iter()))?;
        Ok(())
    }

    fn rollup(&mut self, key: &RollupKey, sums: [i64; 5]) -> Result<(), StoreError> {
        rollups::upsert(self.conn, self.company, key, sums)
    }

    fn count_visitor(&mut self, day: String, flags: VisitorFlags, delta: i64) -> Result<(), StoreError> {
        rollups::count_visitor(self.conn, self.company, &day, flags, delta)
    }

    fn mirror(&mut self, fingerprint: String, day: String, flags: VisitorFlags) -> Result<(), StoreError> {
        let id = rollups::multi_visitor_id(self.conn, self.company, &fingerprint)?;
        rollups::mirror_day(self.conn, self.company, &day, id, flags)
    }

    fn line_items(&mut self, _event_id: revtrace_core::EventId, items: Vec<NewLineItem>) -> Result<(), StoreError> {
        // The event row is the last this connection inserted (`writes`
        // stores an order's lines right after it).
        let event_pk = self.conn.last_insert_rowid();
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (position, item) in items.into_iter().enumerate() {
            insert.execute(params![
                event_pk,
                position as i64,
                item.product_id.as_str(),
                item.variant_id,
                item.sku,
                item.title,
                item.quantity,
                item.unit_price
            ])?;
        }
        Ok(())
    }
}

/// Writes a plan on the writer's connection.
pub(super) fn apply(conn: &Connection, company: &CompanyId, writes: Vec<Write>, now_ms: i64) -> Result<(), StoreError> {
    crate::sql::writes::apply(&mut Writer { conn, company }, company, writes, now_ms)
}
