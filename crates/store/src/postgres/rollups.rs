//! The rollup rows and visitor days reports read, kept in step with `events`
//! inside the same transaction (the PostgreSQL twin of `sqlite::rollups`).
//! The hot counters are sharded by connection: each transaction adds to the
//! row of its own shard, and reports sum the shards.

use super::{
    Tx,
    pipeline::{Pipeline, params},
};
use crate::{
    StoreError,
    model::CompanyId,
    rows::{Contribution, RollupKey, VisitorFlags},
};

/// Adds (`sign` = 1) or takes away (`sign` = -1) one event's contribution.
pub(super) async fn apply(
    tx: &Tx<'_>,
    company: &CompanyId,
    key: &RollupKey,
    c: Contribution,
    sign: i64,
) -> Result<(), StoreError> {
    upsert(tx, company, key, sums(c, sign)).await
}

/// A refund moves only the refunded sum of its order's row.
pub(super) async fn add_refund(
    tx: &Tx<'_>,
    company: &CompanyId,
    key: &RollupKey,
    cents: i64,
) -> Result<(), StoreError> {
    upsert(tx, company, key, [0, 0, 0, 0, cents]).await
}

const UPSERT_ROLLUP: &str =
    "INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source,
        is_test, shard, events, unconverted, usd_cents, quantity, refunded_cents)
     VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid() % 32, $8, $9, $10, $11, $12)
     ON CONFLICT (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard)
     DO UPDATE SET
        events = rollups.events + excluded.events, unconverted = rollups.unconverted + excluded.unconverted,
        usd_cents = rollups.usd_cents + excluded.usd_cents, quantity = rollups.quantity + excluded.quantity,
        refunded_cents = rollups.refunded_cents + excluded.refunded_cents";

/// `[events, unconverted, usd_cents, quantity, refunded_cents]` of one
/// event's contribution, signed.
fn sums(c: Contribution, sign: i64) -> [i64; 5] {
    let unconverted = i64::from(c.usd_cents.is_none());
    [sign, sign * unconverted, sign * c.usd_cents.unwrap_or_default(), sign * c.quantity, sign * c.refunded_cents]
}

/// Queues the addition of `sums` to this connection's shard of a row.
pub(super) fn push_upsert(p: &mut Pipeline, company: &CompanyId, key: &RollupKey, sums: [i64; 5]) {
    let [events, unconverted, usd_cents, quantity, refunded_cents] = sums;
    p.push(
        UPSERT_ROLLUP,
        params![
            company.0.clone(),
            key.day.clone(),
            key.cart_type,
            key.attributed,
            key.ai_profile_id.clone(),
            key.message_source.clone(),
            key.is_test,
            events,
            unconverted,
            usd_cents,
            quantity,
            refunded_cents
        ],
    );
}

/// Queues one event's contribution (`sign` 1) or its removal (-1).
pub(super) fn push_apply(p: &mut Pipeline, company: &CompanyId, key: &RollupKey, c: Contribution, sign: i64) {
    push_upsert(p, company, key, sums(c, sign));
}

async fn upsert(tx: &Tx<'_>, company: &CompanyId, key: &RollupKey, sums: [i64; 5]) -> Result<(), StoreError> {
    let mut p = Pipeline::default();
    push_upsert(&mut p, company, key, sums);
    p.run(tx).await.map(drop)
}

const COUNT_VISITOR: &str = "INSERT INTO visitor_counts (company_id, day, seen, assisted, converted, shard, visitors)
     VALUES ($1, $2, $3, $4, $5, pg_backend_pid() % 32, $6)
     ON CONFLICT (company_id, day, seen, assisted, converted, shard)
     DO UPDATE SET visitors = visitor_counts.visitors + excluded.visitors";

/// Every visitor day of one fingerprint: `(fingerprint, day, seen,
/// assisted, converted, multi)`, read with the call's other reads (equalities
/// on the key's leading columns, so no cached plan can turn it into a scan).
pub(super) const VISITOR_DAYS_OF: &str =
    "SELECT user_fingerprint, day, seen, assisted, converted, multi FROM visitor_days
     WHERE company_id = $1 AND user_fingerprint = $2";

struct StoredDay {
    day: String,
    flags: VisitorFlags,
    multi: bool,
}

/// One fingerprint's visitor days, read once per call. Marks are decided
/// against this copy (kept up to date as they are planned) and queued as
/// writes: the same rules as `sqlite::rollups::mark_visitor`. The caller
/// holds the fingerprint's lock, so the copy stays true until the commit.
pub(super) struct VisitorDays {
    company: String,
    fingerprint: String,
    days: Vec<StoredDay>,
}

impl VisitorDays {
    /// The days of `fingerprint` from rows read with [`VISITOR_DAYS_OF`].
    pub fn from_rows(company: &CompanyId, fingerprint: &str, rows: &[tokio_postgres::Row]) -> Self {
        let days = rows
            .iter()
            .filter(|r| r.get::<_, &str>(0) == fingerprint)
            .map(|r| StoredDay {
                day: r.get(1),
                flags: VisitorFlags { seen: r.get(2), assisted: r.get(3), converted: r.get(4) },
                multi: r.get(5),
            })
            .collect();
        Self { company: company.0.clone(), fingerprint: fingerprint.to_owned(), days }
    }

    /// Records what the fingerprint did on `day`. Flags only ever turn on; a
    /// fingerprint active on one day only is counted in `visitor_counts`,
    /// one active on several is marked `multi` and mirrored instead.
    pub fn mark(&mut self, p: &mut Pipeline, day: &str, flags: VisitorFlags) {
        if let Some(stored) = self.days.iter_mut().find(|d| d.day == day) {
            let before = stored.flags;
            let after = before.union(flags);
            if after == before {
                return;
            }
            stored.flags = after;
            let multi = stored.multi;
            p.push(
                "UPDATE visitor_days SET seen = $4, assisted = $5, converted = $6
                 WHERE company_id = $1 AND user_fingerprint = $2 AND day = $3",
                params![
                    self.company.clone(),
                    self.fingerprint.clone(),
                    day.to_owned(),
                    after.seen,
                    after.assisted,
                    after.converted
                ],
            );
            if multi {
                self.mirror(p, day, after);
            } else {
                self.count(p, day, before, -1);
                self.count(p, day, after, 1);
            }
            return;
        }
        let multi = match self.days.first() {
            None => {
                self.count(p, day, flags, 1);
                false
            }
            Some(other) => {
                let (other_day, other_flags, already_multi) = (other.day.clone(), other.flags, other.multi);
                p.push(
                    "INSERT INTO multi_visitors (company_id, fingerprint) VALUES ($1, $2)
                     ON CONFLICT (company_id, fingerprint) DO NOTHING",
                    params![self.company.clone(), self.fingerprint.clone()],
                );
                if !already_multi {
                    // Its first day leaves the counts for the mirror.
                    self.count(p, &other_day, other_flags, -1);
                    p.push(
                        "UPDATE visitor_days SET multi = true WHERE company_id = $1 AND user_fingerprint = $2",
                        params![self.company.clone(), self.fingerprint.clone()],
                    );
                    self.mirror(p, &other_day, other_flags);
                    self.days.iter_mut().for_each(|d| d.multi = true);
                }
                self.mirror(p, day, flags);
                true
            }
        };
        p.push(
            "INSERT INTO visitor_days (company_id, user_fingerprint, day, seen, assisted, converted, multi)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![
                self.company.clone(),
                self.fingerprint.clone(),
                day.to_owned(),
                flags.seen,
                flags.assisted,
                flags.converted,
                multi
            ],
        );
        self.days.push(StoredDay { day: day.to_owned(), flags, multi });
    }

    fn count(&self, p: &mut Pipeline, day: &str, f: VisitorFlags, delta: i64) {
        p.push(COUNT_VISITOR, params![self.company.clone(), day.to_owned(), f.seen, f.assisted, f.converted, delta]);
    }

    fn mirror(&self, p: &mut Pipeline, day: &str, flags: VisitorFlags) {
        p.push(
            "INSERT INTO multi_visitor_days (company_id, day, visitor_id, flags)
             SELECT $1, $2, visitor_id, $4 FROM multi_visitors WHERE company_id = $1 AND fingerprint = $3
             ON CONFLICT (company_id, day, visitor_id) DO UPDATE SET flags = excluded.flags",
            params![self.company.clone(), day.to_owned(), self.fingerprint.clone(), i16::from(flags.bits())],
        );
    }
}
