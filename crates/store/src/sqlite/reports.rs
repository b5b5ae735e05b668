//! The reporting reads: rollup rows and distinct visitors for the revenue
//! report, the per-conversation view, and the reporting table export.

use revtrace_core::{
    MessageSource, UsdCents, UsdTotal,
    report::{DayRange, Filter, RollupRow, Visitors},
    time::to_rfc3339,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::history;
use crate::sql::{conversation, reads::Batch};
use crate::{
    StoreError,
    model::{CompanyId, CompanyOverview, CompanyProfile, ConversationRow, ExportRow, TicketRevenue},
    rows::VisitorFlags,
};

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {raw}"))
}

pub(super) fn company_profile(conn: &Connection, company: &CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name, timezone, window_ms FROM companies WHERE company_id = ?1")?
        .query_row(params![company.0], |r| {
            Ok(CompanyProfile { name: r.get(0)?, timezone: r.get(1)?, window_ms: r.get(2)? })
        })
        .optional()?)
}

/// The rollup rows of the days `from..=to`, ordered by day, and whether the
/// company has any non-test checkout at all.
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
    let rows = stmt
        .query_map(params![company.0, from.to_string(), to.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                [r.get::<_, i64>(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?],
            ))
        })?
        .map(|row| {
            let (
                day,
                cart_type,
                attributed,
                ai_profile_id,
                source,
                [is_test, events, unconverted, cents, qty, refunded],
            ) = row?;
            let message_source = match source.as_str() {
                "" => None,
                s => Some(MessageSource::parse(s).ok_or_else(|| corrupt("message source", s))?),
            };
            Ok(RollupRow {
                day: day.parse().map_err(|_| corrupt("day", &day))?,
                checkout: cart_type == "CHECKOUT",
                attributed,
                ai_profile_id,
                message_source,
                is_test: is_test != 0,
                events,
                unconverted,
                usd_cents: cents.into(),
                quantity: qty,
                refunded_cents: refunded.into(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let has_checkout_data = has_checkout_data(conn, company)?;
    Ok((rows, has_checkout_data))
}

/// Whether the company has at least one non-test checkout stored.
fn has_checkout_data(conn: &Connection, company: &CompanyId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM rollups
                            WHERE company_id = ?1 AND cart_type = 'CHECKOUT' AND is_test = 0 AND events > 0)",
        )?
        .query_row(params![company.0], |r| r.get(0))?)
}

/// Distinct visitors seen in the range, split by whether a grounded AI answer
/// reached them in the range, each with how many converted: single-day
/// visitors from their counts, the others from their rows.
pub(super) fn visitors(conn: &Connection, company: &CompanyId, range: &DayRange) -> Result<Visitors, StoreError> {
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let mut v = Visitors::default();
    let mut add = |seen: bool, assisted: bool, converted: bool, n: i64| {
        // A conversion is a sighting too (a checkout's identity set).
        if !(seen || converted) {
            return;
        }
        if assisted {
            v.assisted += n;
            v.assisted_converted += if converted { n } else { 0 };
        } else {
            v.unassisted += n;
            v.unassisted_converted += if converted { n } else { 0 };
        }
    };
    let mut counted = conn.prepare_cached(
        "SELECT seen, assisted, converted, sum(visitors) FROM visitor_counts
         WHERE company_id = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY 1, 2, 3",
    )?;
    let mut rows = counted.query(params![company.0, from, to])?;
    while let Some(r) = rows.next()? {
        add(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    }
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
        add(f.seen, f.assisted, f.converted, 1);
    }
    Ok(v)
}

fn usd_text(cents: i64) -> String {
    UsdCents(cents).to_string()
}

pub(super) fn company_overview(conn: &Connection, company: &CompanyId) -> Result<Option<CompanyOverview>, StoreError> {
    let Some(profile) = company_profile(conn, company)? else {
        return Ok(None);
    };
    let ai_profiles = conn
        .prepare_cached("SELECT DISTINCT ai_profile_id FROM tickets WHERE company_id = ?1 ORDER BY 1")?
        .query_map(params![company.0], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let has_checkout_data = has_checkout_data(conn, company)?;
    Ok(Some(CompanyOverview {
        company_id: company.0.clone(),
        name: profile.name,
        timezone: profile.timezone,
        ai_profiles,
        has_checkout_data,
    }))
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
    let (from, _) = revtrace_core::time::day_bounds(range.from, &timezone);
    let (_, to) = revtrace_core::time::day_bounds(range.to, &timezone);
    let mut stmt = conn.prepare_cached(
        "SELECT ticket_id, ai_profile_id, message_source, count(*),
                sum(cart_type = 'CHECKOUT'),
                total(CASE cart_type WHEN 'CHECKOUT' THEN usd_cents END),
                total(CASE cart_type WHEN 'CART_EVENT' THEN usd_cents END),
                max(occurred_at_ms),
                -- Exact sums in two halves: SQLite's sum() stops at i64.
                coalesce(sum(CASE cart_type WHEN 'CHECKOUT' THEN usd_cents / 1000000000 END), 0),
                coalesce(sum(CASE cart_type WHEN 'CHECKOUT' THEN usd_cents % 1000000000 END), 0),
                coalesce(sum(CASE cart_type WHEN 'CART_EVENT' THEN usd_cents / 1000000000 END), 0),
                coalesce(sum(CASE cart_type WHEN 'CART_EVENT' THEN usd_cents % 1000000000 END), 0)
         FROM events
         WHERE company_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms < ?3 AND ticket_id IS NOT NULL
           AND (is_test = 0 OR ?4) AND (?5 IS NULL OR ai_profile_id = ?5) AND (?6 IS NULL OR message_source = ?6)
         GROUP BY ticket_id
         ORDER BY 6 DESC, 7 DESC, 8 DESC
         LIMIT ?7",
    )?;
    let rows = stmt.query_map(
        params![
            company.0,
            from,
            to,
            filter.include_test,
            filter.ai_profile,
            filter.source.map(MessageSource::as_str),
            limit
        ],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                [r.get::<_, i64>(3)?, r.get(4)?, r.get(7)?],
                [r.get::<_, i64>(8)?, r.get(9)?, r.get(10)?, r.get(11)?],
            ))
        },
    )?;
    rows.map(|row| {
        let (ticket_id, ai_profile_id, source, [events, orders, last], [checkout_hi, checkout_lo, cart_hi, cart_lo]) =
            row?;
        let exact = |hi: i64, lo: i64| UsdTotal(i128::from(hi) * 1_000_000_000 + i128::from(lo)).to_string();
        Ok(ConversationRow {
            ticket_id,
            ai_profile_id,
            message_source: MessageSource::parse(&source).ok_or_else(|| corrupt("message source", &source))?,
            events,
            orders,
            checkout_revenue_usd: exact(checkout_hi, checkout_lo),
            cart_gmv_usd: exact(cart_hi, cart_lo),
            last_event_at: to_rfc3339(last),
        })
    })
    .collect()
}

pub(super) fn ticket_revenue(
    conn: &Connection,
    company: &CompanyId,
    ticket_id: &str,
) -> Result<Option<TicketRevenue>, StoreError> {
    let mut batch = Batch::default();
    let ix = conversation::push(&mut batch, company, ticket_id);
    conversation::fold(&super::ingest::run(conn, batch)?, &ix, ticket_id)
}

/// Streams the reporting table rows of a day range, in time order, to `sink`
/// (which stops the scan by returning false). The range is turned into an
/// instant range so the scan uses the time index.
pub(super) fn export(
    conn: &Connection,
    company: &CompanyId,
    range: &DayRange,
    mut sink: impl FnMut(Result<ExportRow, StoreError>) -> bool,
) -> Result<(), StoreError> {
    let settings = history::company_settings(conn, company)?;
    let (lo, _) = revtrace_core::time::day_bounds(range.from, &settings.timezone);
    let (_, hi) = revtrace_core::time::day_bounds(range.to, &settings.timezone);
    let mut stmt = conn.prepare(
        "SELECT company_id, event_id, occurred_at_ms, day, cart_type, source_category, message_source, ticket_id,
                ai_profile_id, user_fingerprint, event_type, product_id, variant_id, quantity_signed, order_id, amount,
                currency, usd_multiplier, usd_cents, attributed, reason, is_test, refunded_cents
         FROM events WHERE company_id = ?1 AND occurred_at_ms >= ?2 AND occurred_at_ms < ?3
         ORDER BY occurred_at_ms, event_pk",
    )?;
    let mut rows = stmt.query(params![company.0, lo, hi])?;
    while let Some(r) = rows.next()? {
        let row = (|| {
            Ok(ExportRow {
                company_id: r.get(0)?,
                event_id: r.get(1)?,
                occurred_at: to_rfc3339(r.get(2)?),
                day: r.get(3)?,
                cart_type: r.get(4)?,
                source_category: r.get(5)?,
                message_source: r.get(6)?,
                ticket_id: r.get(7)?,
                ai_profile_id: r.get(8)?,
                user_fingerprint: r.get(9)?,
                event_type: r.get(10)?,
                product_id: r.get(11)?,
                variant_id: r.get(12)?,
                quantity_signed: r.get(13)?,
                order_id: r.get(14)?,
                cart_value: r.get(15)?,
                currency: r.get(16)?,
                currency_multiplier: r.get(17)?,
                usd_cart_value: r.get::<_, Option<i64>>(18)?.map(usd_text),
                attributed: r.get(19)?,
                reason: r.get(20)?,
                is_test: r.get(21)?,
                refunded_usd: usd_text(r.get(22)?),
            })
        })();
        if !sink(row.map_err(|e: rusqlite::Error| e.into())) {
            break;
        }
    }
    Ok(())
}
