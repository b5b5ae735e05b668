//! `revtrace experiment …`: holdouts and A/B splits (SPEC §11), the same
//! rules and statistics as the HTTP API.

use anyhow::{Context, bail};
use revtrace_core::{
    experiment::{self, Analysis, Arm, ArmsSpec, ExperimentResults, NewExperiment},
    time::to_rfc3339,
};
use rust_decimal::Decimal;

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Define an experiment: a holdout (`--holdout-pct 10`: a tenth of the
    /// visitors see no assistant) or an A/B split between AI profiles
    /// (`--arm concise:50:concise-v2 --arm detailed:50:detailed-v1 --control detailed`).
    ///
    /// Visitors are split by GrowthBook's hash version 2 of the key and their
    /// fingerprint, so the key fixes who lands where: arms cannot change later.
    Add(AddArgs),
    /// List the company's experiments with their status and visitors.
    List(ListArgs),
    /// Show an experiment's results: each arm, each lift against the
    /// control with its interval, incremental next to attributed revenue,
    /// and the sample-ratio check.
    Show(ShowArgs),
    /// End an experiment now (or at `--at`); assignments after it answer no arm.
    End(EndArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The experiment's key: lower-case letters, digits, '-' or '_' (it seeds the hash).
    key: String,
    /// The company the experiment belongs to (co_…).
    #[arg(long)]
    company: String,
    /// A human name for the dashboard; defaults to the key.
    #[arg(long)]
    name: Option<String>,
    /// Holdout: the percent of visitors (1–50) who see no assistant.
    #[arg(long, conflicts_with_all = ["arm", "control"], value_name = "PCT")]
    holdout_pct: Option<i64>,
    /// A/B: an arm as NAME:WEIGHT[:AI_PROFILE], in order; repeat for each arm (2–8).
    #[arg(long, value_name = "NAME:WEIGHT[:PROFILE]")]
    arm: Vec<String>,
    /// A/B: the arm the others are compared with.
    #[arg(long, value_name = "NAME")]
    control: Option<String>,
    /// When assignments start (RFC 3339); default now. May lie in the past (a backfill).
    #[arg(long, value_name = "INSTANT")]
    starts_at: Option<String>,
    /// When assignments stop (RFC 3339); open-ended by default.
    #[arg(long, value_name = "INSTANT")]
    ends_at: Option<String>,
    /// Cap each visitor's net revenue at this many USD (outliers), e.g. 500.
    #[arg(long, value_name = "USD")]
    revenue_cap_usd: Option<String>,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// The company whose experiments to list (co_…).
    #[arg(long)]
    company: String,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The experiment's key.
    key: String,
    /// The company the experiment belongs to (co_…).
    #[arg(long)]
    company: String,
    /// Significance level of the intervals and p-values.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Sequential intervals (valid however often you look), GrowthBook's.
    #[arg(long)]
    sequential: bool,
    /// N* of the sequential intervals.
    #[arg(long, default_value_t = 5000.0, value_name = "N")]
    sequential_tuning: f64,
    /// Print the results as JSON (the API's answer) instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct EndArgs {
    /// The experiment's key.
    key: String,
    /// The company the experiment belongs to (co_…).
    #[arg(long)]
    company: String,
    /// When it ends (RFC 3339); default now. An end it already has is never moved later.
    #[arg(long, value_name = "INSTANT")]
    at: Option<String>,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add(args) => add(args).await,
        Command::List(args) => list(args).await,
        Command::Show(args) => show(args).await,
        Command::End(args) => end(args).await,
    }
}

fn instant(flag: &str, raw: &str) -> anyhow::Result<i64> {
    let at: jiff::Timestamp = raw
        .parse()
        .ok()
        .with_context(|| format!("{flag} {raw:?} is not an RFC 3339 instant like 2026-09-01T00:00:00Z"))?;
    Ok(at.as_millisecond())
}

fn arm(raw: &str) -> anyhow::Result<Arm> {
    let mut parts = raw.splitn(3, ':');
    let name = parts.next().unwrap_or_default().to_owned();
    let weight = parts.next().and_then(|w| w.parse::<u32>().ok());
    let Some(weight) = weight else { bail!("--arm {raw:?} is not NAME:WEIGHT[:AI_PROFILE] (weight a whole number)") };
    let ai_profile_id = parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
    Ok(Arm { name, weight, assistant: true, ai_profile_id })
}

fn cap(raw: &str) -> anyhow::Result<i64> {
    let usd: Decimal = raw.parse().ok().with_context(|| format!("--revenue-cap-usd {raw:?} is not a decimal"))?;
    let cents = usd * Decimal::ONE_HUNDRED;
    if cents.fract() != Decimal::ZERO || cents <= Decimal::ZERO {
        bail!("--revenue-cap-usd {raw:?} must be a positive amount with at most 2 decimals");
    }
    i64::try_from(cents).ok().context("--revenue-cap-usd is too large")
}

async fn add(args: AddArgs) -> anyhow::Result<()> {
    let arms = match (args.holdout_pct, args.arm.is_empty()) {
        (Some(holdout_pct), true) => ArmsSpec::Holdout { holdout_pct },
        (None, false) => ArmsSpec::Ab {
            arms: args.arm.iter().map(|a| arm(a)).collect::<anyhow::Result<_>>()?,
            control: args.control.context("an A/B test needs --control NAME")?,
        },
        (None, true) => bail!("give --holdout-pct PCT (a holdout) or --arm … --control … (an A/B test)"),
        (Some(_), false) => bail!("--holdout-pct and --arm cannot be combined"),
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let experiment = NewExperiment {
        name: args.name.unwrap_or_else(|| args.key.clone()),
        key: args.key,
        arms,
        starts_at_ms: args.starts_at.as_deref().map(|s| instant("--starts-at", s)).transpose()?.unwrap_or(now),
        ends_at_ms: args.ends_at.as_deref().map(|s| instant("--ends-at", s)).transpose()?,
        revenue_cap_cents: args.revenue_cap_usd.as_deref().map(cap).transpose()?,
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("{}: {}", flag_of(&e.field), e.message))?;
    let (store, company) = args.database.open_company(&args.company).await?;
    store.create_experiment(&company, experiment.clone()).await?;
    let arms: Vec<String> = experiment.arms.iter().map(|a| format!("{} ({})", a.name, a.weight)).collect();
    println!(
        "experiment {} added to {}: arms {}, control {}, from {}",
        experiment.key,
        args.company,
        arms.join(", "),
        experiment.control,
        to_rfc3339(experiment.starts_at_ms)
    );
    Ok(())
}

/// The CLI flag a rule's field comes from.
fn flag_of(field: &str) -> String {
    match field {
        "key" => "KEY".into(),
        "holdout_pct" => "--holdout-pct".into(),
        "starts_at" => "--starts-at".into(),
        "ends_at" => "--ends-at".into(),
        "revenue_cap_usd" => "--revenue-cap-usd".into(),
        "control" => "--control".into(),
        "name" => "--name".into(),
        other if other.starts_with("arms") => format!("--arm {}", other.trim_start_matches("arms")),
        other => other.to_owned(),
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let (store, company) = args.database.open_company(&args.company).await?;
    let now = jiff::Timestamp::now().as_millisecond();
    let all = store.experiments(&company).await?;
    if all.is_empty() {
        println!("{} has no experiments yet (revtrace experiment add --help)", args.company);
    }
    for e in all {
        let s = experiment::summary(&e.experiment, &e.visitors, now);
        let arms: Vec<String> = s.arms.iter().map(|a| format!("{} {}", a.arm.name, a.visitors)).collect();
        println!(
            "{:<24} {:<8} {:<9} {}{}",
            s.experiment.key,
            s.experiment.kind.as_str(),
            format!("{:?}", s.experiment.status).to_lowercase(),
            arms.join(" · "),
            if s.srm.warning { "   ⚠ sample ratio mismatch" } else { "" }
        );
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:+.2} %", v * 100.0))
}

fn print_results(r: &ExperimentResults) {
    let x = &r.experiment;
    println!("{} ({}), {:?}, control {}", x.name, x.key, x.status, x.control);
    println!(
        "{:<14} {:>9} {:>10} {:>8} {:>14} {:>10} {:>14}",
        "arm", "visitors", "converted", "orders", "revenue USD", "per visitor", "attributed USD"
    );
    for a in &r.arms {
        println!(
            "{:<14} {:>9} {:>10} {:>8} {:>14} {:>10} {:>14}",
            a.name,
            a.visitors,
            a.conversion_rate.map_or("–".into(), |c| format!("{:.2} %", c * 100.0)),
            a.orders,
            a.revenue_usd,
            a.revenue_per_visitor_usd.map_or("–".into(), |v| format!("{v:.2}")),
            a.attributed_revenue_usd
        );
    }
    for c in &r.comparisons {
        println!("\n{} vs {} (relative lift, {:.0} % interval):", c.arm, c.against, (1.0 - r.alpha) * 100.0);
        let m = &c.metrics;
        for (name, lift) in [
            ("conversion rate", &m.conversion_rate),
            ("revenue per visitor", &m.revenue_per_visitor_usd),
            ("orders per visitor", &m.orders_per_visitor),
            ("average order value", &m.average_order_value_usd),
            ("cart GMV per visitor", &m.cart_gmv_per_visitor_usd),
        ] {
            match lift.note {
                Some(note) => println!("  {name:<22} –  ({note})"),
                None => println!(
                    "  {name:<22} {}  [{}, {}]  p = {:.4}",
                    pct(lift.relative.estimate),
                    pct(lift.relative.ci_low),
                    pct(lift.relative.ci_high),
                    lift.relative.p_value.unwrap_or(1.0)
                ),
            }
        }
        let inc = c.incremental_revenue_usd;
        match (inc.estimate, inc.ci_low, inc.ci_high) {
            (Some(e), Some(lo), Some(hi)) => {
                println!("  attributed ${} — incremental ${e:.2} (${lo:.2} to ${hi:.2})", c.attributed_revenue_usd)
            }
            _ => println!("  attributed ${} — incremental: not estimable yet", c.attributed_revenue_usd),
        }
    }
    if r.srm.warning {
        println!(
            "\n⚠ sample ratio mismatch (p = {:.2e}): the arms' visitors are not split as the weights say; \
             check that every visitor is assigned and the widget obeys the arm before trusting these results",
            r.srm.p_value
        );
    }
}

async fn show(args: ShowArgs) -> anyhow::Result<()> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        bail!("--alpha {} must be between 0 and 1", args.alpha);
    }
    if args.sequential_tuning <= 0.0 {
        bail!("--sequential-tuning must be positive");
    }
    let (store, company) = args.database.open_company(&args.company).await?;
    let (found, outcomes) = store
        .experiment_outcomes(&company, &args.key)
        .await?
        .with_context(|| format!("no experiment {} in {}", args.key, args.company))?;
    let analysis = Analysis {
        alpha: args.alpha,
        sequential_tuning: args.sequential.then_some(args.sequential_tuning),
        now_ms: jiff::Timestamp::now().as_millisecond(),
    };
    let results = experiment::results(&found, &outcomes, analysis);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print_results(&results);
    }
    Ok(())
}

async fn end(args: EndArgs) -> anyhow::Result<()> {
    let at = args.at.as_deref().map(|s| instant("--at", s)).transpose()?;
    let (store, company) = args.database.open_company(&args.company).await?;
    let ended = store
        .end_experiment(&company, &args.key, at)
        .await?
        .with_context(|| format!("no experiment {} in {}", args.key, args.company))?;
    let ended = ended.experiment;
    println!("experiment {} ends at {}", ended.key, ended.ends_at_ms.map(to_rfc3339).unwrap_or_default());
    Ok(())
}
