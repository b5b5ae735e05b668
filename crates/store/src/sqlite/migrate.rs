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
    Migration { sql: include_str!("migrations/0003_shopify.sql"), backfill: None },
    Migration { sql: include_str!("migrations/0004_origins.sql"), backfill: None },
    Migration { sql: include_str!("migrations/0005_hardening.sql"), backfill: Some(exact_rollups) },
    Migration { sql: include_str!("migrations/0006_schema_parity.sql"), backfill: None },
    Migration { sql: include_str!("migrations/0007_answers_without_status.sql"), backfill: None },
    Migration { sql: include_str!("migrations/0008_experiments.sql"), backfill: None },
    Migration { sql: include_str!("migrations/0009_ticket_facts.sql"), backfill: Some(ticket_facts) },
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
         ON CONFLICT (company_id, user_fingerprint, day) DO UPDATE SET assisted = 1",
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

/// Version 5: rebuilds every rollup key that holds a float (a sum that left
/// i64 before this version refused it) from its events, exactly, spread over
/// shards so that each row stays within i64; then guards the table.
/// Migration 9: the funnel's facts of every stored ticket.
fn ticket_facts(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(include_str!("migrations/ticket_facts.sql"))?;
    conn.execute_batch(concat!("UPDATE tickets SET ", include_str!("../sql/ticket_firsts.sql"), ";"))
}

fn exact_rollups(conn: &Connection) -> rusqlite::Result<()> {
    const KEY: &str = "company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test";
    let broken: Vec<(String, String, String, i64, String, String, i64)> = conn
        .prepare(&format!(
            "SELECT DISTINCT {KEY} FROM rollups
             WHERE typeof(events) <> 'integer' OR typeof(unconverted) <> 'integer' OR typeof(usd_cents) <> 'integer'
                OR typeof(quantity) <> 'integer' OR typeof(refunded_cents) <> 'integer'"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<Result<_, _>>()?;
    for key in &broken {
        let (company, day, cart_type, attributed, profile, source, is_test) = key;
        let key_params = params![company, day, cart_type, attributed, profile, source, is_test];
        conn.execute(
            "DELETE FROM rollups WHERE company_id = ?1 AND day = ?2 AND cart_type = ?3 AND attributed = ?4
               AND ai_profile_id = ?5 AND message_source = ?6 AND is_test = ?7",
            key_params,
        )?;
        let mut events = conn.prepare(
            "SELECT usd_cents IS NULL, coalesce(usd_cents, 0), coalesce(quantity_signed, 0), refunded_cents FROM events
             WHERE company_id = ?1 AND day = ?2 AND cart_type = ?3 AND attributed = ?4
               AND coalesce(ai_profile_id, '') = ?5 AND coalesce(message_source, '') = ?6 AND is_test = ?7
             ORDER BY event_pk",
        )?;
        let mut rows = events.query(key_params)?;
        let mut shards: Vec<[i64; 5]> = vec![[0; 5]];
        while let Some(r) = rows.next()? {
            let event = [1, r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?];
            let current = shards.last_mut().expect("one shard at least");
            let added: Option<Vec<i64>> = current.iter().zip(event).map(|(sum, x)| sum.checked_add(x)).collect();
            match added {
                Some(sums) => current.copy_from_slice(&sums),
                None => shards.push(event),
            }
        }
        let mut insert = conn.prepare(
            "INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard,
                                  events, unconverted, usd_cents, quantity, refunded_cents)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for (shard, [n, unconverted, cents, quantity, refunded]) in shards.into_iter().enumerate() {
            if n > 0 {
                insert.execute(params![
                    company,
                    day,
                    cart_type,
                    attributed,
                    profile,
                    source,
                    is_test,
                    shard as i64,
                    n,
                    unconverted,
                    cents,
                    quantity,
                    refunded
                ])?;
            }
        }
    }
    if !broken.is_empty() {
        tracing::warn!(keys = broken.len(), "rollup rows that had left i64 were rebuilt exactly from their events");
    }
    conn.execute_batch(include_str!("migrations/rollup_guard.sql"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written by version 1 comes up with its reports filled in.
    #[test]
    fn version_2_backfills_rollups_and_visitor_days() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO companies VALUES ('co_1', 'Glow', 'America/New_York', 86400000, 'pk_1', 0);
             INSERT INTO tickets VALUES (1, 'co_1', 'T1', 'default', 'chat', 'FP-1', 0);
             -- 02:00Z on 03-09 is 22:00 EDT on 03-08 in New York.
             INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found)
                 VALUES (1, 'a', 1773021600000, 'ai', 1);
             INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
                 user_fingerprint, order_id, amount, currency, usd_cents, reason, attributed, ticket_id, ai_profile_id,
                 message_source, window_ms, candidates, decided_at_ms, decided_by)
             VALUES ('evt_1', 'co_1', 'CHECKOUT', 'API', 1773025200000, '2026-03-08', 0, 'FP-1', 'o1', '48.00', 'USD',
                 4800, 'ATTRIBUTED', 1, 'T1', 'default', 'CHAT_WIDGET', 86400000, '[]', 0, 'ingest'),
                ('evt_2', 'co_1', 'CHECKOUT', 'API', 1773111600000, '2026-03-09', 0, 'FP-1', 'o2', '20.00', 'USD',
                 2000, 'OUTSIDE_WINDOW', 0, NULL, NULL, NULL, 86400000, '[]', 0, 'ingest');",
        )
        .unwrap();
        run(&mut conn).unwrap();

        let rollups: Vec<(String, bool, i64, i64)> = conn
            .prepare("SELECT day, attributed, events, usd_cents FROM rollups ORDER BY day")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rollups, vec![("2026-03-08".into(), true, 1, 4800), ("2026-03-09".into(), false, 1, 2000)]);
        let days: Vec<(String, bool, bool, bool, bool)> = conn
            .prepare("SELECT day, seen, assisted, converted, multi FROM visitor_days ORDER BY day")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            days,
            vec![("2026-03-08".into(), true, true, true, true), ("2026-03-09".into(), true, false, true, true)],
            "assisted on the New York day of the answer; active on two days, so multi"
        );
        let counted: i64 = conn.query_row("SELECT count(*) FROM visitor_counts", [], |r| r.get(0)).unwrap();
        assert_eq!(counted, 0, "a multi-day visitor is not pre-counted");
    }

    /// Version 9 derives each stored ticket's funnel facts from its messages,
    /// as revtrace_core::classify and qualifies would.
    #[test]
    fn version_9_backfills_the_ticket_facts() {
        let mut conn = Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..8] {
            conn.execute_batch(m.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute_batch(
            "INSERT INTO companies (company_id, name, timezone, window_ms, company_key, created_at_ms)
                 VALUES ('co_1', 'Glow', 'UTC', 86400000, 'pk_1', 0);
             INSERT INTO tickets (ticket_pk, company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)
                 VALUES (1, 'co_1', 'T-NUDGE', 'default', 'chat', 'FP-1', 0), (2, 'co_1', 'T-FAQ', 'default', 'faq', 'FP-2', 0),
                        (3, 'co_1', 'T-CHAT', 'default', 'chat', 'FP-3', 0), (4, 'co_1', 'T-EMPTY', 'default', 'chat', 'FP-4', 0);
             -- T-NUDGE's first message (ties at 100: 'a' before 'b') carries the nudge.
             INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id) VALUES
                 (1, 'b', 100, 'ai', 1, NULL), (1, 'a', 100, 'ai', NULL, 'spring'),
                 (2, 'x', 50, 'ai', 1, NULL),
                 (3, 'q', 70, 'shopper', NULL, NULL), (3, 'h', 80, 'human_agent', 1, 'late');
             -- T-FAQ's credited orders: a test one first (it does not count), then a real one.
             INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
                 user_fingerprint, order_id, amount, currency, usd_cents, reason, attributed, ticket_id, ai_profile_id,
                 message_source, window_ms, candidates, decided_at_ms, decided_by, is_test)
             VALUES ('evt_t', 'co_1', 'CHECKOUT', 'API', 60, '1970-01-01', 0, 'FP-2', 'o0', '1.00', 'USD', 100,
                     'ATTRIBUTED', 1, 'T-FAQ', 'default', 'FAQ', 86400000, '[]', 0, 'ingest', 1),
                    ('evt_1', 'co_1', 'CHECKOUT', 'API', 90, '1970-01-01', 0, 'FP-2', 'o1', '1.00', 'USD', 100,
                     'ATTRIBUTED', 1, 'T-FAQ', 'default', 'FAQ', 86400000, '[]', 0, 'ingest', 0);",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let firsts: Vec<(Option<i64>, Option<i64>)> = conn
            .prepare("SELECT first_cart_ms, first_checkout_ms FROM tickets ORDER BY ticket_pk")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(firsts, vec![(None, None), (None, Some(90)), (None, None), (None, None)], "test orders never count");
        let facts: Vec<(String, Option<i64>, String, bool)> = conn
            .prepare("SELECT ticket_id, first_message_ms, message_source, grounded FROM tickets ORDER BY ticket_pk")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            facts,
            vec![
                ("T-NUDGE".into(), Some(100), "NUDGE_CLICK".into(), true),
                ("T-FAQ".into(), Some(50), "FAQ".into(), true),
                ("T-CHAT".into(), Some(70), "CHAT_WIDGET".into(), false),
                ("T-EMPTY".into(), None, "CHAT_WIDGET".into(), false),
            ],
            "a human agent's 'answer' never grounds; a later message's nudge is not the first's"
        );
    }

    /// A version-4 database whose rollup sum overflowed into a float (as
    /// eleven 9·10^17-cent cart events on one day did) comes up exact.
    #[test]
    fn version_5_rebuilds_overflowed_rollups_exactly() {
        let mut conn = Connection::open_in_memory().unwrap();
        for step in &MIGRATIONS[..4] {
            conn.execute_batch(step.sql).unwrap();
            if let Some(backfill) = step.backfill {
                backfill(&conn).unwrap();
            }
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute_batch("INSERT INTO companies VALUES ('co_1', 'Glow', 'UTC', 86400000, 'pk_1', 0);").unwrap();
        let cents: i64 = 899_999_999_999_999_100;
        for i in 0..11 {
            conn.execute(
                "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day,
                     received_at_ms, user_fingerprint, product_id, quantity_signed, amount, currency, usd_cents,
                     reason, attributed, window_ms, candidates, decided_at_ms, decided_by)
                 VALUES (?1, 'co_1', 'CART_EVENT', 'SDK', 0, '2026-09-01', 0, 'FP-1', 'p', 9, '1', 'USD', ?2,
                     'NO_TICKET', 0, 86400000, '[]', 0, 'ingest')",
                params![format!("evt_{i}"), cents],
            )
            .unwrap();
        }
        // What the old upsert left behind: the sum as a float.
        conn.execute(
            "INSERT INTO rollups VALUES ('co_1', '2026-09-01', 'CART_EVENT', 0, '', '', 0, 11, 0, 9.9e18, 99, 0)",
            [],
        )
        .unwrap();
        run(&mut conn).unwrap();
        let rows: Vec<(i64, String, i64, i64)> = conn
            .prepare("SELECT shard, typeof(usd_cents), usd_cents, events FROM rollups ORDER BY shard")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.1 == "integer"));
        assert_eq!(rows.iter().map(|r| i128::from(r.2)).sum::<i128>(), 11 * i128::from(cents));
        assert_eq!(rows.iter().map(|r| r.3).sum::<i64>(), 11);
        // From now on the guard refuses a sum that would leave i64.
        let overflow =
            conn.execute("UPDATE rollups SET usd_cents = usd_cents + 9000000000000000000 WHERE shard = 0", []);
        assert!(overflow.unwrap_err().to_string().contains("total out of range"));
    }
}
