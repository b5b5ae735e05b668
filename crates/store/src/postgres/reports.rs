//! The reporting reads on PostgreSQL: the shared queries of `sql::reports`,
//! plus what is PostgreSQL's own: rollup shards summed in SQL (as exact
//! text) and multi-day visitors folded with `bit_or`.

use deadpool_postgres::GenericClient;
use futures_util::{StreamExt, pin_mut};
use revtrace_core::report::{DayRange, Filter, RollupRow, Visitors};
use tokio::sync::mpsc;

use super::{history, rows};
use crate::{
    StoreError,
    model::{CompanyId, CompanyOverview, CompanyProfile, ConversationRow, ExportRow, TicketRevenue},
    rows::VisitorFlags,
    sql::{Cells, args, conversation, reads::Batch, reports},
};

pub(super) async fn company_profile(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<Option<CompanyProfile>, StoreError> {
    reports::profile(&rows(c, reports::PROFILE, args![company.0.clone()]).await?)
}

/// The rollup rows of the days `from..=to`, ordered by day (shards summed),
/// and whether the company has any non-test checkout at all.
pub(super) async fn rollup_rows(
    c: &impl GenericClient,
    company: &CompanyId,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<(Vec<RollupRow>, bool), StoreError> {
    let found = rows(
        c,
        "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, sum(events)::int8,
                sum(unconverted)::int8, sum(usd_cents)::text, sum(quantity)::int8, sum(refunded_cents)::text
         FROM rollups WHERE company_id = $1 AND day BETWEEN $2 AND $3
         GROUP BY day, cart_type, attributed, ai_profile_id, message_source, is_test ORDER BY day",
        reports::rollup_args(company, from, to),
    )
    .await?;
    let found = found.iter().map(reports::rollup_row).collect::<Result<Vec<_>, _>>()?;
    Ok((found, has_checkout_data(c, company).await?))
}

async fn has_checkout_data(c: &impl GenericClient, company: &CompanyId) -> Result<bool, StoreError> {
    reports::has_checkout_data(&rows(c, reports::HAS_CHECKOUT_DATA, args![company.0.clone()]).await?)
}

/// Distinct visitors seen in the range: single-day visitors from their
/// counts, multi-day ones folded in SQL.
pub(super) async fn visitors(
    c: &impl GenericClient,
    company: &CompanyId,
    range: &DayRange,
) -> Result<Visitors, StoreError> {
    let mut tally = reports::VisitorTally::default();
    tally.add_counts(&rows(c, reports::VISITOR_COUNTS, reports::range_args(company, range)).await?)?;
    let multi = rows(
        c,
        "SELECT flags, count(*) FROM
            (SELECT bit_or(flags) AS flags FROM multi_visitor_days
             WHERE company_id = $1 AND day BETWEEN $2 AND $3 GROUP BY visitor_id) v
         GROUP BY flags",
        reports::range_args(company, range),
    )
    .await?;
    for r in multi {
        let bits = u8::try_from(r.int(0)?).map_err(|_| StoreError::Corrupt("visitor flags".into()))?;
        tally.add(VisitorFlags::from_bits(bits), r.int(1)?);
    }
    Ok(tally.visitors())
}

pub(super) async fn company_overview(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<Option<CompanyOverview>, StoreError> {
    let key = || args![company.0.clone()];
    reports::overview(
        company,
        company_profile(c, company).await?,
        &rows(c, reports::AI_PROFILES, key()).await?,
        &rows(c, reports::HAS_CHECKOUT_DATA, key()).await?,
    )
}

pub(super) async fn top_conversations(
    c: &impl GenericClient,
    company: &CompanyId,
    range: &DayRange,
    filter: &Filter,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let timezone = history::company_settings(c, company).await?.timezone;
    let args = reports::top_args(company, &timezone, range, filter, limit);
    reports::conversations(&rows(c, reports::TOP_CONVERSATIONS, args).await?)
}

pub(super) async fn ticket_revenue(
    c: &impl GenericClient,
    company: &CompanyId,
    ticket_id: &str,
) -> Result<Option<TicketRevenue>, StoreError> {
    let mut batch = Batch::default();
    let ix = conversation::push(&mut batch, company, ticket_id);
    conversation::fold(&super::rows_of(c, batch).await?, &ix, ticket_id)
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
    let args = reports::export_args(company, &settings.timezone, range);
    let rows = tx.query_raw(reports::EXPORT, args.iter()).await?;
    pin_mut!(rows);
    let mut batch = Vec::with_capacity(chunk);
    while let Some(r) = rows.next().await {
        let r = r?;
        batch.push(reports::export_row(&r)?);
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
