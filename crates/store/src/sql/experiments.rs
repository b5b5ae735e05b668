//! Experiments on both backends: definitions and their arms, the facts an
//! assignment needs, and the arms' sums their results are computed from.
//! Each exposure keeps its visitor's outcome in step with its events (see
//! `engine::experiments::Outcome`), so results read the exposures alone.

use revtrace_core::experiment::{Arm, ArmOutcome, Experiment, Kind};

use super::{Cells, args, db::Db, reads::Batch};
use crate::{
    StoreError,
    engine::experiments::{self, AssignmentFacts, OutcomeEvent, StoredExposure},
    model::{AssignmentInput, CompanyId, ExperimentVisitors},
};

const DEFINITION: &str = "SELECT experiment_key, name, kind, control, starts_at_ms, ends_at_ms, revenue_cap_cents
     FROM experiments WHERE company_id = $1 AND experiment_key = $2";
const DEFINITIONS: &str = "SELECT experiment_key, name, kind, control, starts_at_ms, ends_at_ms, revenue_cap_cents
     FROM experiments WHERE company_id = $1 ORDER BY starts_at_ms DESC, experiment_key";
const ARMS: &str = "SELECT name, weight, assistant, ai_profile_id FROM experiment_arms
     WHERE company_id = $1 AND experiment_key = $2 ORDER BY position";
const ALL_ARMS: &str = "SELECT experiment_key, name, weight, assistant, ai_profile_id FROM experiment_arms
     WHERE company_id = $1 ORDER BY experiment_key, position";
const VISITORS: &str = "SELECT experiment_key, arm, count(*) FROM exposures WHERE company_id = $1
     GROUP BY experiment_key, arm";

fn arm<R: Cells>(r: &R, at: usize) -> Result<Arm, StoreError> {
    let weight = r.int(at + 1)?;
    Ok(Arm {
        name: r.text(at)?,
        weight: u32::try_from(weight).map_err(|_| StoreError::corrupt(format!("arm weight {weight}")))?,
        assistant: r.flag(at + 2)?,
        ai_profile_id: r.opt_text(at + 3)?,
    })
}

fn definition<R: Cells>(r: &R, arms: Vec<Arm>) -> Result<Experiment, StoreError> {
    let kind = r.text(2)?;
    Ok(Experiment {
        key: r.text(0)?,
        name: r.text(1)?,
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("experiment kind {kind}")))?,
        control: r.text(3)?,
        starts_at_ms: r.int(4)?,
        ends_at_ms: r.opt_int(5)?,
        revenue_cap_cents: r.opt_int(6)?,
        arms,
    })
}

/// Where one experiment's definition comes back.
pub(crate) struct DefinitionReads {
    definition: usize,
    arms: usize,
}

pub(crate) fn push_definition(batch: &mut Batch, company: &CompanyId, key: &str) -> DefinitionReads {
    DefinitionReads {
        definition: batch.push(DEFINITION, args![company, key]),
        arms: batch.push(ARMS, args![company, key]),
    }
}

pub(crate) fn experiment<R: Cells>(rows: &[Vec<R>], ix: &DefinitionReads) -> Result<Option<Experiment>, StoreError> {
    let Some(r) = rows[ix.definition].first() else { return Ok(None) };
    let arms = rows[ix.arms].iter().map(|a| arm(a, 0)).collect::<Result<_, _>>()?;
    definition(r, arms).map(Some)
}

/// Where an assignment's facts come back.
pub(crate) struct AssignmentReads {
    definition: DefinitionReads,
    stored: usize,
    /// The visitor's active days: where its earlier events are.
    days: usize,
    tickets: usize,
}

pub(crate) fn push_assignment(batch: &mut Batch, company: &CompanyId, input: &AssignmentInput) -> AssignmentReads {
    AssignmentReads {
        definition: push_definition(batch, company, &input.experiment),
        stored: batch.push(
            "SELECT arm, exposed_at_ms FROM exposures
             WHERE company_id = $1 AND experiment_key = $2 AND fingerprint = $3",
            args![company, input.experiment.clone(), input.fingerprint.as_str()],
        ),
        days: batch.push(super::privacy::DAYS_OF, super::privacy::days_args(company, input.fingerprint.as_str())),
        tickets: batch.push(
            "SELECT 1 FROM tickets WHERE company_id = $1 AND fingerprint = $2 LIMIT 1",
            args![company, input.fingerprint.as_str()],
        ),
    }
}

pub(crate) fn assignment<R: Cells>(rows: &[Vec<R>], ix: &AssignmentReads) -> Result<AssignmentFacts, StoreError> {
    let stored = rows[ix.stored]
        .first()
        .map(|r| Ok::<_, StoreError>(StoredExposure { arm: r.text(0)?, exposed_at_ms: r.int(1)? }))
        .transpose()?;
    Ok(AssignmentFacts {
        experiment: experiment(rows, &ix.definition)?,
        stored,
        events: Vec::new(),
        with_ticket: !rows[ix.tickets].is_empty(),
    })
}

/// The visitor's own non-test events from `from_ms` on, when a new or
/// earlier exposure must start from them: found through its active days
/// (from the exposure's day), so no index of events by fingerprint is kept
/// for every ingest to pay for. Usually there are none: a widget asks before
/// the visitor does anything.
pub(crate) async fn history<D: Db>(
    db: &D,
    company: &CompanyId,
    timezone: &jiff::tz::TimeZone,
    input: &AssignmentInput,
    days: &[D::Row],
) -> Result<Vec<OutcomeEvent>, StoreError> {
    let first = revtrace_core::time::reporting_day(input.occurred_at_ms, timezone).to_string();
    let mut batch = Batch::default();
    for r in days {
        let day = r.text(0)?;
        if day < first {
            continue;
        }
        let date: jiff::civil::Date = day.parse().map_err(|_| StoreError::corrupt(format!("day {day}")))?;
        let (from, to) = revtrace_core::time::day_bounds(date, timezone);
        batch.push(
            "SELECT cart_type, usd_cents, refunded_cents, attributed, occurred_at_ms FROM events
             WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3
               AND user_fingerprint = $4 AND NOT is_test",
            args![company, from.max(input.occurred_at_ms), to, input.fingerprint.as_str()],
        );
    }
    if batch.queries.is_empty() {
        return Ok(Vec::new());
    }
    let found = db.all(batch).await?;
    found
        .iter()
        .flatten()
        .map(|r| {
            Ok(OutcomeEvent {
                checkout: crate::rows::CartType::parse(&r.text(0)?)? == crate::rows::CartType::Checkout,
                usd_cents: r.opt_int(1)?,
                refunded_cents: r.int(2)?,
                attributed: r.flag(3)?,
                occurred_at_ms: r.int(4)?,
            })
        })
        .collect()
}

/// The rows of the visitor's active days, from an assignment's reads.
pub(crate) fn active_days<'r, R>(rows: &'r [Vec<R>], ix: &AssignmentReads) -> &'r [R] {
    &rows[ix.days]
}

/// Stores a new experiment (its key unique per company).
pub(crate) async fn create<D: Db>(
    db: &D,
    company: &CompanyId,
    new: &Experiment,
    now_ms: i64,
) -> Result<(), StoreError> {
    super::reads::company_settings(db, company).await?;
    let exists = !db.rows(DEFINITION, args![company, new.key.clone()]).await?.is_empty();
    experiments::create(new, exists)?;
    let mut batch = Batch::default();
    batch.push(
        "INSERT INTO experiments (company_id, experiment_key, name, kind, control, starts_at_ms, ends_at_ms,
            revenue_cap_cents, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            company,
            new.key.clone(),
            new.name.clone(),
            new.kind.as_str(),
            new.control.clone(),
            new.starts_at_ms,
            new.ends_at_ms,
            new.revenue_cap_cents,
            now_ms
        ],
    );
    for (position, a) in new.arms.iter().enumerate() {
        batch.push(
            "INSERT INTO experiment_arms (company_id, experiment_key, position, name, weight, assistant, ai_profile_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![
                company,
                new.key.clone(),
                position as i64,
                a.name.clone(),
                a.weight,
                a.assistant,
                a.ai_profile_id.clone()
            ],
        );
    }
    db.exec(batch).await
}

/// Every experiment of the company, newest start first, with its exposed
/// visitors per arm.
pub(crate) async fn list<D: Db>(db: &D, company: &CompanyId) -> Result<Vec<ExperimentVisitors>, StoreError> {
    let mut batch = Batch::default();
    batch.push(DEFINITIONS, args![company]);
    batch.push(ALL_ARMS, args![company]);
    batch.push(VISITORS, args![company]);
    let rows = db.all(batch).await?;
    let mut arms: Vec<(String, Arm)> =
        rows[1].iter().map(|r| Ok::<_, StoreError>((r.text(0)?, arm(r, 1)?))).collect::<Result<_, _>>()?;
    let counts: Vec<(String, String, i64)> =
        rows[2].iter().map(|r| Ok::<_, StoreError>((r.text(0)?, r.text(1)?, r.int(2)?))).collect::<Result<_, _>>()?;
    rows[0]
        .iter()
        .map(|r| {
            let key = r.text(0)?;
            let (mine, rest): (Vec<_>, Vec<_>) = arms.drain(..).partition(|(k, _)| *k == key);
            arms = rest;
            let experiment = definition(r, mine.into_iter().map(|(_, a)| a).collect())?;
            let visitors = experiment
                .arms
                .iter()
                .map(|a| counts.iter().find(|(k, arm, _)| *k == key && *arm == a.name).map_or(0, |(_, _, n)| *n as u64))
                .collect();
            Ok(ExperimentVisitors { experiment, visitors })
        })
        .collect()
}

/// Ends an experiment at `at_ms`; `None` when there is no such experiment.
pub(crate) async fn end<D: Db>(
    db: &D,
    company: &CompanyId,
    key: &str,
    at_ms: i64,
) -> Result<Option<ExperimentVisitors>, StoreError> {
    let mut batch = Batch::default();
    let ix = push_definition(&mut batch, company, key);
    let Some(mut found) = experiment(&db.all(batch).await?, &ix)? else { return Ok(None) };
    let ends_at_ms = experiments::end(&found, at_ms)?;
    if found.ends_at_ms != Some(ends_at_ms) {
        found.ends_at_ms = Some(recount_to(db, company, &found, ends_at_ms).await?);
    }
    let counts = db
        .rows(
            "SELECT arm, count(*) FROM exposures WHERE company_id = $1 AND experiment_key = $2 GROUP BY arm",
            args![company, key],
        )
        .await?;
    let counts: Vec<(String, i64)> =
        counts.iter().map(|r| Ok::<_, StoreError>((r.text(0)?, r.int(1)?))).collect::<Result<_, _>>()?;
    let visitors = found
        .arms
        .iter()
        .map(|a| counts.iter().find(|(arm, _)| *arm == a.name).map_or(0, |(_, n)| *n as u64))
        .collect();
    Ok(Some(ExperimentVisitors { experiment: found, visitors }))
}

/// Moves an experiment's end earlier to `ends_at_ms` and takes out of its
/// exposures what no longer falls inside it.
async fn recount_to<D: Db>(
    db: &D,
    company: &CompanyId,
    found: &Experiment,
    ends_at_ms: i64,
) -> Result<i64, StoreError> {
    let key = found.key.as_str();
    let mut update = Batch::default();
    update.push(
        "UPDATE experiments SET ends_at_ms = $3 WHERE company_id = $1 AND experiment_key = $2",
        args![company, key, ends_at_ms],
    );
    // Visitors exposed after the new end are outside the window now; the
    // others lose their events after it (up to the old end, if any).
    update.push(
        "DELETE FROM exposures WHERE company_id = $1 AND experiment_key = $2 AND exposed_at_ms > $3",
        args![company, key, ends_at_ms],
    );
    update.push(UNCOUNT, args![company, key, ends_at_ms, found.ends_at_ms.unwrap_or(i64::MAX)]);
    db.exec(update).await?;
    Ok(ends_at_ms)
}

/// Takes the events in `($3, $4]` out of an experiment's exposures (one
/// range of the company's events, grouped by visitor).
const UNCOUNT: &str = "UPDATE exposures SET orders = exposures.orders - later.orders,
        revenue_cents = exposures.revenue_cents - later.revenue, cart_cents = exposures.cart_cents - later.cart,
        attributed_cents = exposures.attributed_cents - later.attributed,
        unconverted = exposures.unconverted - later.unconverted
     FROM (
        SELECT user_fingerprint,
            CAST(sum(CASE WHEN cart_type = 'CHECKOUT' THEN 1 ELSE 0 END) AS BIGINT) AS orders,
            CAST(sum(CASE WHEN cart_type = 'CHECKOUT' THEN coalesce(usd_cents, 0) - refunded_cents ELSE 0 END)
                AS BIGINT) AS revenue,
            CAST(sum(CASE WHEN cart_type = 'CART_EVENT' THEN coalesce(usd_cents, 0) ELSE 0 END) AS BIGINT) AS cart,
            CAST(sum(CASE WHEN cart_type = 'CHECKOUT' AND attributed THEN coalesce(usd_cents, 0) - refunded_cents
                ELSE 0 END) AS BIGINT) AS attributed,
            CAST(sum(CASE WHEN usd_cents IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unconverted
        FROM events
        WHERE company_id = $1 AND occurred_at_ms > $3 AND occurred_at_ms <= $4 AND NOT is_test
          AND user_fingerprint IS NOT NULL
        GROUP BY user_fingerprint
     ) later
     WHERE exposures.company_id = $1 AND exposures.experiment_key = $2
       AND exposures.fingerprint = later.user_fingerprint";

/// The arms' sums over their exposures, each visitor's revenue capped at
/// `$3` (and its attributed part at most that). Money in cents, exact;
/// squares and products as doubles.
const OUTCOMES: &str = "SELECT arm, count(*), CAST(sum(CASE WHEN orders > 0 THEN 1 ELSE 0 END) AS BIGINT),
        CAST(sum(orders) AS BIGINT), sum(CAST(orders AS DOUBLE PRECISION) * orders),
        CAST(sum(revenue) AS TEXT), sum(CAST(revenue AS DOUBLE PRECISION) * revenue),
        sum(CAST(revenue AS DOUBLE PRECISION) * orders),
        CAST(sum(cart_cents) AS TEXT), sum(CAST(cart_cents AS DOUBLE PRECISION) * cart_cents),
        CAST(sum(CASE WHEN attributed_cents < revenue THEN attributed_cents ELSE revenue END) AS TEXT),
        CAST(sum(CASE WHEN with_ticket THEN 1 ELSE 0 END) AS BIGINT), CAST(sum(unconverted) AS BIGINT)
     FROM (
        SELECT arm, orders, cart_cents, attributed_cents, unconverted, with_ticket,
               CASE WHEN revenue_cents > $3 THEN $3 ELSE revenue_cents END AS revenue
        FROM exposures WHERE company_id = $1 AND experiment_key = $2
     ) capped
     GROUP BY arm";

fn outcome<R: Cells>(r: &R) -> Result<ArmOutcome, StoreError> {
    let count = |i| r.int(i).map(|v| v.max(0) as u64);
    Ok(ArmOutcome {
        visitors: count(1)?,
        converted: count(2)?,
        orders: count(3)?,
        orders_squares: r.float(4)?,
        revenue_cents: r.wide(5)?,
        revenue_squares: r.float(6)? / 10_000.0,
        revenue_orders: r.float(7)? / 100.0,
        cart_cents: r.wide(8)?,
        cart_squares: r.float(9)? / 10_000.0,
        attributed_cents: r.wide(10)?,
        with_tickets: count(11)?,
        unconverted_events: count(12)?,
    })
}

/// An experiment and its arms' sums (in the arms' order); `None` when
/// there is no such experiment.
pub(crate) async fn outcomes<D: Db>(
    db: &D,
    company: &CompanyId,
    key: &str,
) -> Result<Option<(Experiment, Vec<ArmOutcome>)>, StoreError> {
    let mut batch = Batch::default();
    let ix = push_definition(&mut batch, company, key);
    let Some(found) = experiment(&db.all(batch).await?, &ix)? else { return Ok(None) };
    let cap = found.revenue_cap_cents.unwrap_or(i64::MAX);
    let rows = db.rows(OUTCOMES, args![company, key, cap]).await?;
    let mut sums: Vec<(String, ArmOutcome)> =
        rows.iter().map(|r| Ok::<_, StoreError>((r.text(0)?, outcome(r)?))).collect::<Result<_, _>>()?;
    let per_arm = found
        .arms
        .iter()
        .map(|a| sums.iter().position(|(name, _)| *name == a.name).map(|i| sums.swap_remove(i).1).unwrap_or_default())
        .collect();
    Ok(Some((found, per_arm)))
}

/// An experiment's exposures with their outcomes, in fingerprint order;
/// `None` when there is no such experiment.
pub(crate) async fn exposures<D: Db>(
    db: &D,
    company: &CompanyId,
    key: &str,
) -> Result<Option<Vec<crate::model::ExposureRow>>, StoreError> {
    let mut batch = Batch::default();
    let ix = push_definition(&mut batch, company, key);
    batch.push(
        "SELECT fingerprint, arm, exposed_at_ms, orders, revenue_cents, cart_cents, attributed_cents, unconverted,
                with_ticket
         FROM exposures WHERE company_id = $1 AND experiment_key = $2 ORDER BY fingerprint",
        args![company, key],
    );
    let rows = db.all(batch).await?;
    if experiment(&rows, &ix)?.is_none() {
        return Ok(None);
    }
    let usd = |cents: i64| revtrace_core::UsdCents::new(cents).to_string();
    rows[2]
        .iter()
        .map(|r| {
            Ok(crate::model::ExposureRow {
                company_id: company.to_string(),
                experiment: key.to_owned(),
                fingerprint: r.text(0)?,
                arm: r.text(1)?,
                exposed_at: revtrace_core::time::to_rfc3339(r.int(2)?),
                orders: r.int(3)?,
                revenue_usd: usd(r.int(4)?),
                cart_gmv_usd: usd(r.int(5)?),
                attributed_revenue_usd: usd(r.int(6)?),
                unconverted_events: r.int(7)?,
                with_ticket: r.flag(8)?,
            })
        })
        .collect::<Result<_, StoreError>>()
        .map(Some)
}
