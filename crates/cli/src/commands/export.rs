//! `revtrace export`

use anyhow::{Context, bail};
use revtrace_core::report::DayRange;
use revtrace_server::export::{self, Format};

use crate::database::DatabaseArg;

#[derive(clap::Args)]
pub struct Args {
    /// The company whose reporting table to export.
    #[arg(long, value_name = "ID")]
    company: String,
    /// First reporting day, YYYY-MM-DD (in the company's time zone).
    #[arg(long, value_name = "DATE")]
    from: String,
    /// Last reporting day, inclusive.
    #[arg(long, value_name = "DATE")]
    to: String,
    /// ndjson, csv or parquet (Parquet loads as is into BigQuery, ClickHouse and DuckDB).
    #[arg(long, value_name = "FORMAT", default_value = "ndjson")]
    format: String,
    /// Where to write; `-` for standard output.
    #[arg(long, value_name = "PATH")]
    out: std::path::PathBuf,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let Some(format) = Format::parse(&args.format) else {
        bail!("--format {:?}: use ndjson, csv or parquet", args.format);
    };
    let day = super::input::day;
    let range = DayRange::new(day("--from", &args.from)?, day("--to", &args.to)?).context("--from is after --to")?;
    let (store, company) = args.database.open_company(&args.company).await?;
    let rows = store.export(&company, range);
    let out = args.out.clone();
    let written = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        if out.as_os_str() == "-" {
            return Ok(export::write(format, rows, std::io::stdout())?);
        }
        // Written beside the target and renamed, so a failed export leaves no half file.
        let partial = out.with_extension("partial");
        let file = std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
        let written = export::write(format, rows, std::io::BufWriter::new(file))?;
        std::fs::rename(&partial, &out).with_context(|| format!("cannot write {}", out.display()))?;
        Ok(written)
    })
    .await??;
    if args.out.as_os_str() != "-" {
        eprintln!("{written} rows written to {}", args.out.display());
    }
    Ok(())
}
