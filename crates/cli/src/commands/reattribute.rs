//! `revtrace reattribute`

use indicatif::{ProgressBar, ProgressStyle};
use revtrace_store::{CompanyId, ReattributeOptions};

use crate::database::DatabaseArg;

#[derive(clap::Args)]
pub struct Args {
    /// Only this company (default: every company).
    #[arg(long, value_name = "ID")]
    company: Option<String>,
    /// Set the attribution window to H hours first, then recompute with it.
    #[arg(long, value_name = "H", value_parser = clap::value_parser!(u32).range(1..=8760))]
    window_hours: Option<u32>,
    /// Compute and count the changes without writing anything.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let store = args.database.open().await?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} {wide_bar} {pos}/{len} events ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let report = store
        .reattribute(
            ReattributeOptions {
                company: args.company.map(CompanyId::new),
                window_ms: args.window_hours.map(|h| i64::from(h) * 3_600_000),
                dry_run: args.dry_run,
            },
            Box::new(move |p| {
                shown.set_length(p.total);
                shown.set_position(p.done);
            }),
        )
        .await?;
    bar.finish_and_clear();
    println!(
        "{} events in {} companies: {} decisions changed, {} receipts {}",
        report.events,
        report.companies,
        report.decisions_changed,
        report.receipts_rewritten,
        if report.dry_run { "would be rewritten (dry run, nothing written)" } else { "rewritten" }
    );
    Ok(())
}
