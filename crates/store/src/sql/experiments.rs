//! Experiments on both backends: definitions and their arms, the facts an
//! assignment needs, and the per-arm sums their results are computed from
//! (one query: each exposed visitor's outcome, then the arms' sums).

use revtrace_core::experiment::{Arm, ArmOutcome, Experiment, Kind};

use super::{Cells, args, db::Db, reads::Batch};
use crate::{
    StoreError,
    engine::experiments::{self, AssignmentFacts, StoredExposure},
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
}

pub(crate) fn push_assignment(batch: &mut Batch, company: &CompanyId, input: &AssignmentInput) -> AssignmentReads {
    AssignmentReads {
        definition: push_definition(batch, company, &input.experiment),
        stored: batch.push(
            "SELECT arm, exposed_at_ms FROM exposures
             WHERE company_id = $1 AND experiment_key = $2 AND fingerprint = $3",
            args![company, input.experiment.clone(), input.fingerprint.as_str()],
        ),
    }
}

pub(crate) fn assignment<R: Cells>(rows: &[Vec<R>], ix: &AssignmentReads) -> Result<AssignmentFacts, StoreError> {
    let stored = rows[ix.stored]
        .first()
        .map(|r| Ok::<_, StoreError>(StoredExposure { arm: r.text(0)?, exposed_at_ms: r.int(1)? }))
        .transpose()?;
    Ok(AssignmentFacts { experiment: experiment(rows, &ix.definition)?, stored })
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
) -> Result<Option<Experiment>, StoreError> {
    let mut batch = Batch::default();
    let ix = push_definition(&mut batch, company, key);
    let Some(mut found) = experiment(&db.all(batch).await?, &ix)? else { return Ok(None) };
    let ends_at_ms = experiments::end(&found, at_ms)?;
    let mut update = Batch::default();
    update.push(
        "UPDATE experiments SET ends_at_ms = $3 WHERE company_id = $1 AND experiment_key = $2",
        args![company, key, ends_at_ms],
    );
    db.exec(update).await?;
    found.ends_at_ms = Some(ends_at_ms);
    Ok(Some(found))
}

/// Each exposed visitor's outcome (SPEC §11: its own non-test events from its
/// exposure to the end), then the arms' sums. Money in cents, exact; squares
/// and products as doubles. `$3` is the end, `$4` the per-visitor cap.
const OUTCOMES: &str = "SELECT arm, count(*), CAST(sum(converted) AS BIGINT), CAST(sum(orders) AS BIGINT),
        sum(CAST(orders AS DOUBLE PRECISION) * orders),
        CAST(sum(revenue) AS TEXT), sum(CAST(revenue AS DOUBLE PRECISION) * revenue),
        sum(CAST(revenue AS DOUBLE PRECISION) * orders),
        CAST(sum(cart) AS TEXT), sum(CAST(cart AS DOUBLE PRECISION) * cart),
        CAST(sum(CASE WHEN attributed < revenue THEN attributed ELSE revenue END) AS TEXT),
        CAST(sum(with_ticket) AS BIGINT), CAST(sum(unconverted) AS BIGINT)
     FROM (
        SELECT arm, converted, orders, cart, attributed, with_ticket, unconverted,
               CASE WHEN net > $4 THEN $4 ELSE net END AS revenue
        FROM (
            SELECT x.arm AS arm,
                CASE WHEN sum(CASE WHEN e.cart_type = 'CHECKOUT' THEN 1 ELSE 0 END) > 0 THEN 1 ELSE 0 END AS converted,
                CAST(sum(CASE WHEN e.cart_type = 'CHECKOUT' THEN 1 ELSE 0 END) AS BIGINT) AS orders,
                CAST(sum(CASE WHEN e.cart_type = 'CHECKOUT' THEN coalesce(e.usd_cents, 0) - e.refunded_cents ELSE 0 END)
                    AS BIGINT) AS net,
                CAST(sum(CASE WHEN e.cart_type = 'CART_EVENT' THEN coalesce(e.usd_cents, 0) ELSE 0 END) AS BIGINT)
                    AS cart,
                CAST(sum(CASE WHEN e.cart_type = 'CHECKOUT' AND e.attributed
                    THEN coalesce(e.usd_cents, 0) - e.refunded_cents ELSE 0 END) AS BIGINT) AS attributed,
                CASE WHEN EXISTS (SELECT 1 FROM tickets t WHERE t.company_id = $1 AND t.fingerprint = x.fingerprint)
                    THEN 1 ELSE 0 END AS with_ticket,
                CAST(sum(CASE WHEN e.event_pk IS NOT NULL AND e.usd_cents IS NULL THEN 1 ELSE 0 END) AS BIGINT)
                    AS unconverted
            FROM exposures x
            LEFT JOIN events e ON e.company_id = x.company_id AND e.user_fingerprint = x.fingerprint
                AND e.occurred_at_ms >= x.exposed_at_ms AND e.occurred_at_ms <= $3 AND NOT e.is_test
            WHERE x.company_id = $1 AND x.experiment_key = $2
            GROUP BY x.arm, x.fingerprint
        ) visitors
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

/// An experiment and its arms' sums (in the arms' order) up to its end, or
/// `now_ms` while it runs; `None` when there is no such experiment.
pub(crate) async fn outcomes<D: Db>(
    db: &D,
    company: &CompanyId,
    key: &str,
    now_ms: i64,
) -> Result<Option<(Experiment, Vec<ArmOutcome>)>, StoreError> {
    let mut batch = Batch::default();
    let ix = push_definition(&mut batch, company, key);
    let Some(found) = experiment(&db.all(batch).await?, &ix)? else { return Ok(None) };
    let end = found.ends_at_ms.unwrap_or(now_ms);
    let cap = found.revenue_cap_cents.unwrap_or(i64::MAX);
    let rows = db.rows(OUTCOMES, args![company, key, end, cap]).await?;
    let mut sums: Vec<(String, ArmOutcome)> =
        rows.iter().map(|r| Ok::<_, StoreError>((r.text(0)?, outcome(r)?))).collect::<Result<_, _>>()?;
    let per_arm = found
        .arms
        .iter()
        .map(|a| sums.iter().position(|(name, _)| *name == a.name).map(|i| sums.swap_remove(i).1).unwrap_or_default())
        .collect();
    Ok(Some((found, per_arm)))
}
