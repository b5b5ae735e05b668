//! A pipeline as a [`Sink`]: plan statements are queued and sent as one
//! batch. Rollups and visitor counts go to this connection's shard; an
//! order's line items are one statement whatever its size.

use super::{
    pipeline::{Param, Pipeline, params},
    rollups,
};
use crate::{
    StoreError,
    engine::{NewLineItem, Write},
    model::CompanyId,
    rows::{RollupKey, VisitorFlags},
    sql::{Arg, writes::Sink},
};

struct Batch<'a> {
    p: &'a mut Pipeline,
    company: &'a CompanyId,
}

impl Sink for Batch<'_> {
    fn exec(&mut self, sql: &'static str, args: Vec<Arg>) -> Result<(), StoreError> {
        self.p.push(sql, args.into_iter().map(|a| Box::new(a) as Param).collect());
        Ok(())
    }

    fn rollup(&mut self, key: &RollupKey, sums: [i64; 5]) -> Result<(), StoreError> {
        rollups::push_upsert(self.p, self.company, key, sums);
        Ok(())
    }

    fn count_visitor(&mut self, day: String, flags: VisitorFlags, delta: i64) -> Result<(), StoreError> {
        self.p.push(
            rollups::COUNT_VISITOR,
            params![self.company.to_string(), day, flags.seen, flags.assisted, flags.converted, delta],
        );
        Ok(())
    }

    fn mirror(&mut self, fingerprint: String, day: String, flags: VisitorFlags) -> Result<(), StoreError> {
        self.p.push(
            "INSERT INTO multi_visitor_days (company_id, day, visitor_id, flags)
             SELECT $1, $2, visitor_id, $4 FROM multi_visitors WHERE company_id = $1 AND fingerprint = $3
             ON CONFLICT (company_id, day, visitor_id) DO UPDATE SET flags = excluded.flags",
            params![self.company.to_string(), day, fingerprint, i16::from(flags.bits())],
        );
        Ok(())
    }

    fn line_items(&mut self, event_id: revtrace_core::EventId, items: Vec<NewLineItem>) -> Result<(), StoreError> {
        let positions: Vec<i64> = (0..items.len() as i64).collect();
        let products: Vec<String> = items.iter().map(|i| i.product_id.to_string()).collect();
        let variants: Vec<Option<String>> = items.iter().map(|i| i.variant_id.clone()).collect();
        let skus: Vec<Option<String>> = items.iter().map(|i| i.sku.clone()).collect();
        let titles: Vec<Option<String>> = items.iter().map(|i| i.title.clone()).collect();
        let quantities: Vec<i64> = items.iter().map(|i| i.quantity).collect();
        let prices: Vec<String> = items.into_iter().map(|i| i.unit_price).collect();
        self.p.push(
            "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
             SELECT (SELECT event_pk FROM events WHERE event_id = $1), *
             FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])",
            params![event_id.into_string(), positions, products, variants, skus, titles, quantities, prices],
        );
        Ok(())
    }
}

/// Queues a plan's writes on `p`.
pub(super) fn push(p: &mut Pipeline, company: &CompanyId, writes: Vec<Write>, now_ms: i64) -> Result<(), StoreError> {
    crate::sql::writes::apply(&mut Batch { p, company }, company, writes, now_ms)
}
