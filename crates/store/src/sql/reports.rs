//! The reporting reads, written once where the dialects agree: the company's
//! profile and overview, the rows of the rollup and visitor-count tables,
//! the top conversations and the reporting-table export. What differs stays
//! in the backends: summing rollup shards (SQLite's sums stop at i64, so its
//! shards are added up in Rust) and the multi-day visitor mirror (packed
//! days on SQLite, `bit_or` on PostgreSQL).

use revtrace_core::{
    MessageSource, UsdCents, UsdTotal,
    report::{DayRange, Filter, RollupRow, Visitors},
    time::to_rfc3339,
};

use super::{Arg, Cells, args};
use crate::{
    StoreError,
    model::{CompanyId, CompanyOverview, CompanyProfile, CompanySetup, ConversationRow, ExportRow},
    rows::VisitorFlags,
};

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::corrupt(format!("{what} {raw}"))
}

pub(crate) const PROFILE: &str = "SELECT name, timezone, window_ms FROM companies WHERE company_id = $1";

pub(crate) fn profile<R: Cells>(rows: &[R]) -> Result<Option<CompanyProfile>, StoreError> {
    rows.first()
        .map(|r| Ok(CompanyProfile { name: r.text(0)?, timezone: r.text(1)?, window_ms: r.int(2)? }))
        .transpose()
}

pub(crate) const AI_PROFILES: &str = "SELECT DISTINCT ai_profile_id FROM tickets WHERE company_id = $1 ORDER BY 1";

/// Whether the company has at least one non-test checkout stored.
pub(crate) const HAS_CHECKOUT_DATA: &str = "SELECT CASE WHEN EXISTS (SELECT 1 FROM rollups
        WHERE company_id = $1 AND cart_type = 'CHECKOUT' AND NOT is_test AND events > 0) THEN 1 ELSE 0 END";

pub(crate) fn has_checkout_data<R: Cells>(rows: &[R]) -> Result<bool, StoreError> {
    Ok(rows.first().map(|r| r.int(0)).transpose()?.is_some_and(|v| v != 0))
}

/// The setup checklist's three signs, each an index-led existence check.
pub(crate) const SETUP: &str = "SELECT
        CASE WHEN EXISTS (SELECT 1 FROM visitor_counts WHERE company_id = $1 AND seen AND visitors > 0)
              OR EXISTS (SELECT 1 FROM multi_visitor_days WHERE company_id = $1 AND (flags & 1) = 1) THEN 1 ELSE 0 END,
        CASE WHEN EXISTS (SELECT 1 FROM tickets WHERE company_id = $1) THEN 1 ELSE 0 END,
        CASE WHEN EXISTS (SELECT 1 FROM rollups WHERE company_id = $1) THEN 1 ELSE 0 END";

const COMPANY_KEY: &str = "SELECT company_key FROM companies WHERE company_id = $1";

/// The rows of `company_overview`'s batch, in its order.
pub(crate) struct OverviewRows<'a, R> {
    pub ai_profiles: &'a [R],
    pub has_checkout: &'a [R],
    pub company_key: &'a [R],
    pub setup: &'a [R],
}

pub(crate) fn overview<R: Cells>(
    company: &CompanyId,
    profile: Option<CompanyProfile>,
    rows: OverviewRows<'_, R>,
) -> Result<Option<CompanyOverview>, StoreError> {
    let (Some(profile), Some(key), Some(setup)) = (profile, rows.company_key.first(), rows.setup.first()) else {
        return Ok(None);
    };
    Ok(Some(CompanyOverview {
        company_id: company.to_string(),
        name: profile.name,
        timezone: profile.timezone,
        ai_profiles: rows.ai_profiles.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?,
        has_checkout_data: has_checkout_data(rows.has_checkout)?,
        company_key: key.text(0)?,
        setup: CompanySetup {
            script_seen: setup.int(0)? != 0,
            has_tickets: setup.int(1)? != 0,
            has_events: setup.int(2)? != 0,
        },
    }))
}

/// The arguments of a rollup read over `from..=to`.
pub(crate) fn rollup_args(company: &CompanyId, from: jiff::civil::Date, to: jiff::civil::Date) -> Vec<Arg> {
    args![company.to_string(), from.to_string(), to.to_string()]
}

/// A rollup row from `day, cart_type, attributed, ai_profile_id,
/// message_source, is_test, events, unconverted, usd_cents, quantity,
/// refunded_cents` (the two money sums as integers or exact text).
pub(crate) fn rollup_row<R: Cells>(r: &R) -> Result<RollupRow, StoreError> {
    let day = r.text(0)?;
    let source = r.text(4)?;
    let message_source = match source.as_str() {
        "" => None,
        s => Some(MessageSource::parse(s).ok_or_else(|| corrupt("message source", s))?),
    };
    Ok(RollupRow {
        day: day.parse().map_err(|_| corrupt("day", &day))?,
        checkout: crate::rows::CartType::parse(&r.text(1)?)? == crate::rows::CartType::Checkout,
        attributed: r.flag(2)?,
        ai_profile_id: r.text(3)?,
        message_source,
        is_test: r.flag(5)?,
        events: r.int(6)?,
        unconverted: r.int(7)?,
        usd_cents: r.wide(8)?,
        quantity: r.int(9)?,
        refunded_cents: r.wide(10)?,
    })
}

/// Single-day visitors of a range, per flags.
pub(crate) const VISITOR_COUNTS: &str =
    "SELECT seen, assisted, converted, CAST(sum(visitors) AS BIGINT) FROM visitor_counts
     WHERE company_id = $1 AND day BETWEEN $2 AND $3 GROUP BY seen, assisted, converted";

pub(crate) fn range_args(company: &CompanyId, range: &DayRange) -> Vec<Arg> {
    args![company.to_string(), range.from.to_string(), range.to.to_string()]
}

/// Distinct visitors of a range, split by whether a grounded AI answer
/// reached them, each with how many converted.
#[derive(Default)]
pub(crate) struct VisitorTally(Visitors);

impl VisitorTally {
    /// `n` visitors whose days in the range fold into `f`.
    pub fn add(&mut self, f: VisitorFlags, n: i64) {
        let v = &mut self.0;
        // A conversion is a sighting too (a checkout's identity set).
        if !(f.seen || f.converted) {
            return;
        }
        let converted = if f.converted { n } else { 0 };
        if f.assisted {
            v.assisted += n;
            v.assisted_converted += converted;
        } else {
            v.unassisted += n;
            v.unassisted_converted += converted;
        }
    }

    /// The rows of [`VISITOR_COUNTS`].
    pub fn add_counts<R: Cells>(&mut self, rows: &[R]) -> Result<(), StoreError> {
        for r in rows {
            self.add(VisitorFlags { seen: r.flag(0)?, assisted: r.flag(1)?, converted: r.flag(2)? }, r.int(3)?);
        }
        Ok(())
    }

    pub fn visitors(self) -> Visitors {
        self.0
    }
}

/// The range's conversations, best first. Money sums come in two exact
/// halves (SQLite's `sum` stops at i64); the order uses a float sum, which
/// both dialects compute without overflow.
pub(crate) const TOP_CONVERSATIONS: &str = "SELECT ticket_id, min(ai_profile_id), min(message_source), count(*),
        sum(CASE cart_type WHEN 'CHECKOUT' THEN 1 ELSE 0 END), max(occurred_at_ms),
        CAST(coalesce(sum(CASE cart_type WHEN 'CHECKOUT' THEN usd_cents / 1000000000 END), 0) AS BIGINT),
        CAST(coalesce(sum(CASE cart_type WHEN 'CHECKOUT' THEN usd_cents % 1000000000 END), 0) AS BIGINT),
        CAST(coalesce(sum(CASE cart_type WHEN 'CART_EVENT' THEN usd_cents / 1000000000 END), 0) AS BIGINT),
        CAST(coalesce(sum(CASE cart_type WHEN 'CART_EVENT' THEN usd_cents % 1000000000 END), 0) AS BIGINT)
     FROM events
     WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3 AND ticket_id IS NOT NULL
       AND (NOT is_test OR $4) AND (CAST($5 AS TEXT) IS NULL OR ai_profile_id = $5)
       AND (CAST($6 AS TEXT) IS NULL OR message_source = $6)
     GROUP BY ticket_id
     ORDER BY coalesce(sum(CASE cart_type WHEN 'CHECKOUT' THEN usd_cents * 1.0 END), 0) DESC,
              coalesce(sum(CASE cart_type WHEN 'CART_EVENT' THEN usd_cents * 1.0 END), 0) DESC,
              max(occurred_at_ms) DESC
     LIMIT $7";

/// The arguments of [`TOP_CONVERSATIONS`]: the range as instants in the
/// company's zone, the filters, the limit.
pub(crate) fn top_args(
    company: &CompanyId,
    timezone: &jiff::tz::TimeZone,
    range: &DayRange,
    filter: &Filter,
    limit: u32,
) -> Vec<Arg> {
    let (from, to) = range.bounds(timezone);
    args![
        company.to_string(),
        from,
        to,
        filter.include_test,
        filter.ai_profile.clone(),
        filter.source.map(MessageSource::as_str),
        i64::from(limit)
    ]
}

pub(crate) fn conversations<R: Cells>(rows: &[R]) -> Result<Vec<ConversationRow>, StoreError> {
    let exact = |hi: i64, lo: i64| UsdTotal(i128::from(hi) * 1_000_000_000 + i128::from(lo)).to_string();
    rows.iter()
        .map(|r| {
            let source = r.text(2)?;
            Ok(ConversationRow {
                ticket_id: r.text(0)?.into(),
                ai_profile_id: r.text(1)?,
                message_source: MessageSource::parse(&source).ok_or_else(|| corrupt("message source", &source))?,
                events: r.int(3)?,
                orders: r.int(4)?,
                last_event_at: to_rfc3339(r.int(5)?),
                checkout_revenue_usd: exact(r.int(6)?, r.int(7)?),
                cart_gmv_usd: exact(r.int(8)?, r.int(9)?),
            })
        })
        .collect()
}

/// The reporting table rows of an instant range, in time order (the scan
/// uses the time index).
pub(crate) const EXPORT: &str = "SELECT company_id, event_id, occurred_at_ms, day, cart_type, source_category,
        message_source, ticket_id, ai_profile_id, user_fingerprint, event_type, product_id, variant_id,
        quantity_signed, order_id, amount, currency, usd_multiplier, usd_cents, attributed, reason, is_test,
        refunded_cents
     FROM events WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3
     ORDER BY occurred_at_ms, event_pk";

pub(crate) fn export_args(company: &CompanyId, timezone: &jiff::tz::TimeZone, range: &DayRange) -> Vec<Arg> {
    let (lo, hi) = range.bounds(timezone);
    args![company.to_string(), lo, hi]
}

pub(crate) fn export_row<R: Cells>(r: &R) -> Result<ExportRow, StoreError> {
    let usd = |cents: i64| UsdCents::new(cents).to_string();
    Ok(ExportRow {
        company_id: r.text(0)?,
        event_id: r.text(1)?,
        occurred_at: to_rfc3339(r.int(2)?),
        day: r.text(3)?,
        cart_type: r.text(4)?,
        source_category: r.text(5)?,
        message_source: r.opt_text(6)?,
        ticket_id: r.opt_text(7)?,
        ai_profile_id: r.opt_text(8)?,
        user_fingerprint: r.opt_text(9)?,
        event_type: r.opt_text(10)?,
        product_id: r.opt_text(11)?,
        variant_id: r.opt_text(12)?,
        quantity_signed: r.opt_int(13)?,
        order_id: r.opt_text(14)?,
        cart_value: r.text(15)?,
        currency: r.text(16)?,
        currency_multiplier: r.opt_text(17)?,
        usd_cart_value: r.opt_int(18)?.map(usd),
        attributed: r.flag(19)?,
        reason: r.text(20)?,
        is_test: r.flag(21)?,
        refunded_usd: usd(r.int(22)?),
    })
}

// --- the flows, over either backend ---------------------------------------

use super::db::{Db, Dialect};
use crate::model::TicketRevenue;

pub(crate) async fn company_profile<D: Db>(db: &D, company: &CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
    profile(&db.rows(PROFILE, args![company.to_string()]).await?)
}

/// The rollup rows of the days `from..=to`, ordered by day, and whether the
/// company has any non-test checkout at all.
pub(crate) async fn rollups<D: Db>(
    db: &D,
    company: &CompanyId,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<(Vec<RollupRow>, bool), StoreError> {
    let sql = match D::DIALECT {
        // A key's shards as separate rows (each within i64): the report
        // adds them up in i128.
        Dialect::Sqlite => {
            "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, events, unconverted,
                    usd_cents, quantity, refunded_cents
             FROM rollups WHERE company_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day"
        }
        // The shards summed as exact text.
        Dialect::Postgres => {
            "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, sum(events)::int8,
                    sum(unconverted)::int8, sum(usd_cents)::text, sum(quantity)::int8, sum(refunded_cents)::text
             FROM rollups WHERE company_id = $1 AND day BETWEEN $2 AND $3
             GROUP BY day, cart_type, attributed, ai_profile_id, message_source, is_test ORDER BY day"
        }
    };
    let mut batch = super::reads::Batch::default();
    batch.push(sql, rollup_args(company, from, to));
    batch.push(HAS_CHECKOUT_DATA, args![company.to_string()]);
    let found = db.all(batch).await?;
    let rows = found[0].iter().map(rollup_row).collect::<Result<Vec<_>, _>>()?;
    Ok((rows, has_checkout_data(&found[1])?))
}

/// Distinct visitors seen in the range: single-day visitors from their
/// counts, multi-day ones from their mirrored days.
pub(crate) async fn visitors<D: Db>(db: &D, company: &CompanyId, range: &DayRange) -> Result<Visitors, StoreError> {
    let mut tally = VisitorTally::default();
    tally.add_counts(&db.rows(VISITOR_COUNTS, range_args(company, range)).await?)?;
    match D::DIALECT {
        // Each day's pack lists (id, flags) in hex; a visitor's days in the
        // range fold into one set of flags.
        Dialect::Sqlite => {
            let packs = db
                .rows(
                    "SELECT pack FROM multi_visitor_packs WHERE company_id = $1 AND day BETWEEN $2 AND $3",
                    range_args(company, range),
                )
                .await?;
            let corrupt_pack = || StoreError::corrupt("a visitor pack is not hex");
            let mut days: Vec<(u32, u8)> = Vec::new();
            for r in &packs {
                let pack = r.text(0)?;
                for entry in pack.as_bytes().chunks(10) {
                    let text = std::str::from_utf8(entry).map_err(|_| corrupt_pack())?;
                    let id =
                        u32::from_str_radix(text.get(..8).ok_or_else(corrupt_pack)?, 16).map_err(|_| corrupt_pack())?;
                    let flags =
                        u8::from_str_radix(text.get(8..).ok_or_else(corrupt_pack)?, 16).map_err(|_| corrupt_pack())?;
                    days.push((id, flags));
                }
            }
            days.sort_unstable_by_key(|(visitor, _)| *visitor);
            for visitor in days.chunk_by(|a, b| a.0 == b.0) {
                tally.add(VisitorFlags::from_bits(visitor.iter().fold(0, |bits, (_, day)| bits | day)), 1);
            }
        }
        Dialect::Postgres => {
            let multi = db
                .rows(
                    "SELECT flags, count(*) FROM
                        (SELECT bit_or(flags) AS flags FROM multi_visitor_days
                         WHERE company_id = $1 AND day BETWEEN $2 AND $3 GROUP BY visitor_id) v
                     GROUP BY flags",
                    range_args(company, range),
                )
                .await?;
            for r in &multi {
                let bits = u8::try_from(r.int(0)?).map_err(|_| StoreError::corrupt("visitor flags"))?;
                tally.add(VisitorFlags::from_bits(bits), r.int(1)?);
            }
        }
    }
    Ok(tally.visitors())
}

pub(crate) async fn company_overview<D: Db>(
    db: &D,
    company: &CompanyId,
) -> Result<Option<CompanyOverview>, StoreError> {
    let mut batch = super::reads::Batch::default();
    batch.push(PROFILE, args![company.to_string()]);
    batch.push(AI_PROFILES, args![company.to_string()]);
    batch.push(HAS_CHECKOUT_DATA, args![company.to_string()]);
    batch.push(COMPANY_KEY, args![company.to_string()]);
    batch.push(SETUP, args![company.to_string()]);
    let found = db.all(batch).await?;
    let rows =
        OverviewRows { ai_profiles: &found[1], has_checkout: &found[2], company_key: &found[3], setup: &found[4] };
    overview(company, profile(&found[0])?, rows)
}

/// The range's conversations, best first (a scan of the range's attributed
/// events through the time index: a dashboard page, not millions of events).
pub(crate) async fn top_conversations<D: Db>(
    db: &D,
    company: &CompanyId,
    range: &DayRange,
    filter: &Filter,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let timezone = super::reads::company_settings(db, company).await?.timezone;
    conversations(&db.rows(TOP_CONVERSATIONS, top_args(company, &timezone, range, filter, limit)).await?)
}

/// The funnel's conversations: first message in the range (the company's
/// days, as instants), filters on the ticket's profile and source, with the
/// first credited cart add and checkout the engine keeps on each ticket
/// (one covering-index range scan).
const FUNNEL_TICKETS: &str = "SELECT message_source, first_message_ms, grounded, first_cart_ms, first_checkout_ms
     FROM tickets
     WHERE company_id = $1 AND first_message_ms >= $2 AND first_message_ms < $3
       AND (CAST($4 AS TEXT) IS NULL OR ai_profile_id = $4)
       AND (CAST($5 AS TEXT) IS NULL OR message_source = $5)";

pub(crate) async fn funnel_tickets<D: Db>(
    db: &D,
    company: &CompanyId,
    range: &DayRange,
    filter: &Filter,
) -> Result<Vec<revtrace_core::funnel::FunnelTicket>, StoreError> {
    let timezone = super::reads::company_settings(db, company).await?.timezone;
    let (from, to) = range.bounds(&timezone);
    let args =
        args![company.to_string(), from, to, filter.ai_profile.clone(), filter.source.map(MessageSource::as_str)];
    db.rows(FUNNEL_TICKETS, args)
        .await?
        .iter()
        .map(|r| {
            let source = r.text(0)?;
            Ok(revtrace_core::funnel::FunnelTicket {
                message_source: MessageSource::parse(&source).ok_or_else(|| corrupt("message source", &source))?,
                first_message_ms: r.int(1)?,
                grounded: r.flag(2)?,
                first_cart_ms: r.opt_int(3)?,
                first_checkout_ms: r.opt_int(4)?,
            })
        })
        .collect()
}

pub(crate) async fn ticket_revenue<D: Db>(
    db: &D,
    company: &CompanyId,
    ticket_id: &revtrace_core::TicketId,
) -> Result<Option<TicketRevenue>, StoreError> {
    let mut batch = super::reads::Batch::default();
    let ix = super::conversation::push(&mut batch, company, ticket_id);
    let Some(mut page) = super::conversation::fold(&db.all(batch).await?, &ix, ticket_id)? else {
        return Ok(None);
    };
    // The products the messages showed, from the catalog: a second read,
    // since they are known only once the messages are.
    let ids = super::conversation::shown_ids(&page);
    if !ids.is_empty() {
        let mut batch = super::reads::Batch::default();
        let reads = super::conversation::push_catalog(&mut batch, company, &ids);
        let found = db.all(batch).await?;
        for at in reads {
            super::conversation::with_catalog(&mut page, &found[at])?;
        }
    }
    Ok(Some(page))
}
