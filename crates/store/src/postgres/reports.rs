//! The reporting reads on PostgreSQL: rollup rows (summed over their shards)
//! and distinct visitors for the revenue report, the per-conversation view,
//! and the reporting table export.

use deadpool_postgres::GenericClient;
use futures_util::{StreamExt, pin_mut};
use revtrace_core::{
    MessageSource, UsdCents, UsdTotal,
    report::{DayRange, Filter, RollupRow, Visitors},
    time::to_rfc3339,
};
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;

use super::{all, history, one, opt};
use crate::sql::{conversation, reads::Batch};
use crate::{
    StoreError,
    model::{CompanyId, CompanyOverview, CompanyProfile, ConversationRow, ExportRow, TicketRevenue},
    rows::VisitorFlags,
};

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {raw}"))
}

fn usd_text(cents: i64) -> String {
    UsdCents(cents).to_string()
}

pub(super) async fn company_profile(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<Option<CompanyProfile>, StoreError> {
    Ok(opt(c, "SELECT name, timezone, window_ms FROM companies WHERE company_id = $1", &[&company.0])
        .await?
        .map(|r| CompanyProfile { name: r.get(0), timezone: r.get(1), window_ms: r.get(2) }))
}

/// The rollup rows of the days `from..=to`, ordered by day, and whether the
/// company has any non-test checkout at all.
pub(super) async fn rollup_rows(
    c: &impl GenericClient,
    company: &CompanyId,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<(Vec<RollupRow>, bool), StoreError> {
    let rows = all(
        c,
        "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, sum(events)::int8,
                sum(unconverted)::int8, sum(usd_cents)::text, sum(quantity)::int8, sum(refunded_cents)::text
         FROM rollups WHERE company_id = $1 AND day BETWEEN $2 AND $3
         GROUP BY day, cart_type, attributed, ai_profile_id, message_source, is_test ORDER BY day",
        &[&company.0, &from.to_string(), &to.to_string()],
    )
    .await?;
    let rows = rows
        .iter()
        .map(|r| {
            let day: &str = r.get(0);
            let source: &str = r.get(4);
            let message_source = match source {
                "" => None,
                s => Some(MessageSource::parse(s).ok_or_else(|| corrupt("message source", s))?),
            };
            Ok(RollupRow {
                day: day.parse().map_err(|_| corrupt("day", day))?,
                checkout: r.get::<_, &str>(1) == "CHECKOUT",
                attributed: r.get(2),
                ai_profile_id: r.get(3),
                message_source,
                is_test: r.get(5),
                events: r.get(6),
                unconverted: r.get(7),
                usd_cents: wide(r.get(8))?,
                quantity: r.get(9),
                refunded_cents: wide(r.get(10))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((rows, has_checkout_data(c, company).await?))
}

/// A sum over shards, exact as text: the shards' total may exceed `i64`.
fn wide(text: &str) -> Result<i128, StoreError> {
    text.parse().map_err(|_| corrupt("sum", text))
}

async fn has_checkout_data(c: &impl GenericClient, company: &CompanyId) -> Result<bool, StoreError> {
    Ok(one(
        c,
        "SELECT EXISTS (SELECT 1 FROM rollups
                        WHERE company_id = $1 AND cart_type = 'CHECKOUT' AND NOT is_test AND events > 0)",
        &[&company.0],
    )
    .await?
    .get(0))
}

/// Distinct visitors seen in the range (see `sqlite::reports::visitors`):
/// single-day visitors from their counts, multi-day ones folded in SQL.
pub(super) async fn visitors(
    c: &impl GenericClient,
    company: &CompanyId,
    range: &DayRange,
) -> Result<Visitors, StoreError> {
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let mut v = Visitors::default();
    let mut add = |f: VisitorFlags, n: i64| {
        // A conversion is a sighting too (a checkout's identity set).
        if !(f.seen || f.converted) {
            return;
        }
        if f.assisted {
            v.assisted += n;
            v.assisted_converted += if f.converted { n } else { 0 };
        } else {
            v.unassisted += n;
            v.unassisted_converted += if f.converted { n } else { 0 };
        }
    };
    let counted = all(
        c,
        "SELECT seen, assisted, converted, sum(visitors)::int8 FROM visitor_counts
         WHERE company_id = $1 AND day BETWEEN $2 AND $3 GROUP BY 1, 2, 3",
        &[&company.0, &from, &to],
    )
    .await?;
    for r in counted {
        add(VisitorFlags { seen: r.get(0), assisted: r.get(1), converted: r.get(2) }, r.get(3));
    }
    let multi = all(
        c,
        "SELECT flags, count(*) FROM
            (SELECT bit_or(flags) AS flags FROM multi_visitor_days
             WHERE company_id = $1 AND day BETWEEN $2 AND $3 GROUP BY visitor_id) v
         GROUP BY flags",
        &[&company.0, &from, &to],
    )
    .await?;
    for r in multi {
        let bits: i16 = r.get(0);
        add(VisitorFlags::from_bits(bits as u8), r.get(1));
    }
    Ok(v)
}

pub(super) async fn company_overview(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<Option<CompanyOverview>, StoreError> {
    let Some(profile) = company_profile(c, company).await? else {
        return Ok(None);
    };
    let ai_profiles =
        all(c, "SELECT DISTINCT ai_profile_id FROM tickets WHERE company_id = $1 ORDER BY 1", &[&company.0])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    Ok(Some(CompanyOverview {
        company_id: company.0.clone(),
        name: profile.name,
        timezone: profile.timezone,
        ai_profiles,
        has_checkout_data: has_checkout_data(c, company).await?,
    }))
}

pub(super) async fn top_conversations(
    c: &impl GenericClient,
    company: &CompanyId,
    range: &DayRange,
    filter: &Filter,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let timezone = history::company_settings(c, company).await?.timezone;
    let (from, _) = revtrace_core::time::day_bounds(range.from, &timezone);
    let (_, to) = revtrace_core::time::day_bounds(range.to, &timezone);
    let rows = all(
        c,
        "SELECT ticket_id, min(ai_profile_id), min(message_source), count(*),
                count(*) FILTER (WHERE cart_type = 'CHECKOUT'),
                coalesce(sum(usd_cents) FILTER (WHERE cart_type = 'CHECKOUT'), 0)::text,
                coalesce(sum(usd_cents) FILTER (WHERE cart_type = 'CART_EVENT'), 0)::text,
                max(occurred_at_ms)
         FROM events
         WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3 AND ticket_id IS NOT NULL
           AND (NOT is_test OR $4) AND ($5::text IS NULL OR ai_profile_id = $5)
           AND ($6::text IS NULL OR message_source = $6)
         GROUP BY ticket_id
         ORDER BY coalesce(sum(usd_cents) FILTER (WHERE cart_type = 'CHECKOUT'), 0) DESC,
                  coalesce(sum(usd_cents) FILTER (WHERE cart_type = 'CART_EVENT'), 0) DESC, 8 DESC
         LIMIT $7",
        &[
            &company.0,
            &from,
            &to,
            &filter.include_test,
            &filter.ai_profile,
            &filter.source.map(MessageSource::as_str),
            &i64::from(limit),
        ],
    )
    .await?;
    rows.iter()
        .map(|r| {
            let source: &str = r.get(2);
            Ok(ConversationRow {
                ticket_id: r.get(0),
                ai_profile_id: r.get(1),
                message_source: MessageSource::parse(source).ok_or_else(|| corrupt("message source", source))?,
                events: r.get(3),
                orders: r.get(4),
                checkout_revenue_usd: UsdTotal(wide(r.get(5))?).to_string(),
                cart_gmv_usd: UsdTotal(wide(r.get(6))?).to_string(),
                last_event_at: to_rfc3339(r.get(7)),
            })
        })
        .collect()
}

pub(super) async fn ticket_revenue(
    c: &impl GenericClient,
    company: &CompanyId,
    ticket_id: &str,
) -> Result<Option<TicketRevenue>, StoreError> {
    let mut batch = Batch::default();
    let ix = conversation::push(&mut batch, company, ticket_id);
    let mut rows = Vec::with_capacity(batch.queries.len());
    for (sql, args) in batch.queries {
        rows.push(super::rows(c, sql, args).await?);
    }
    conversation::fold(&rows, &ix, ticket_id)
}

/// Streams the reporting table rows of a day range, in time order, in
/// chunks of `chunk` rows, from one snapshot (a repeatable-read transaction);
/// a closed channel (the client went away) stops the scan.
pub(super) async fn export(
    client: &mut deadpool_postgres::Object,
    company: &CompanyId,
    range: &DayRange,
    chunk: usize,
    sink: &mpsc::Sender<Result<Vec<ExportRow>, StoreError>>,
) -> Result<(), StoreError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let settings = history::company_settings(&tx, company).await?;
    let (lo, _) = revtrace_core::time::day_bounds(range.from, &settings.timezone);
    let (_, hi) = revtrace_core::time::day_bounds(range.to, &settings.timezone);
    let params: [&(dyn ToSql + Sync); 3] = [&company.0, &lo, &hi];
    let rows = tx
        .query_raw(
            "SELECT company_id, event_id, occurred_at_ms, day, cart_type, source_category, message_source, ticket_id,
                    ai_profile_id, user_fingerprint, event_type, product_id, variant_id, quantity_signed, order_id,
                    amount, currency, usd_multiplier, usd_cents, attributed, reason, is_test, refunded_cents
             FROM events WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3
             ORDER BY occurred_at_ms, event_pk",
            params.iter().copied(),
        )
        .await?;
    pin_mut!(rows);
    let mut batch = Vec::with_capacity(chunk);
    while let Some(r) = rows.next().await {
        let r = r?;
        batch.push(ExportRow {
            company_id: r.get(0),
            event_id: r.get(1),
            occurred_at: to_rfc3339(r.get(2)),
            day: r.get(3),
            cart_type: r.get(4),
            source_category: r.get(5),
            message_source: r.get(6),
            ticket_id: r.get(7),
            ai_profile_id: r.get(8),
            user_fingerprint: r.get(9),
            event_type: r.get(10),
            product_id: r.get(11),
            variant_id: r.get(12),
            quantity_signed: r.get(13),
            order_id: r.get(14),
            cart_value: r.get(15),
            currency: r.get(16),
            currency_multiplier: r.get(17),
            usd_cart_value: r.get::<_, Option<i64>>(18).map(usd_text),
            attributed: r.get(19),
            reason: r.get(20),
            is_test: r.get(21),
            refunded_usd: usd_text(r.get(22)),
        });
        if batch.len() >= chunk
            && sink.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(chunk)))).await.is_err()
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        let _ = sink.send(Ok(batch)).await;
    }
    Ok(())
}
