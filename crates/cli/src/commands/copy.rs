//! `revtrace copy`

use anyhow::{Context, bail};
use revtrace_store::postgres::{PgStore, import};

#[derive(clap::Args)]
#[command(long_about = "Copy an embedded SQLite history into an empty PostgreSQL database, to move a store onto \
                  several servers. Every table is copied row for row in one PostgreSQL transaction (all or \
                  nothing), so reports, receipts and exports answer the same afterwards. Stop the servers \
                  writing to the SQLite file first; the PostgreSQL schema is created if absent.")]
pub struct Args {
    /// The SQLite database to read: sqlite://PATH.
    #[arg(long, value_name = "URL")]
    from: String,
    /// The PostgreSQL database to fill: postgres://USER@HOST:PORT/DB (it must hold no company yet).
    #[arg(long, value_name = "URL")]
    to: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let Some(path) = args.from.strip_prefix("sqlite://").filter(|p| !p.is_empty()) else {
        bail!("--from must be sqlite://PATH, got {:?}", args.from);
    };
    if !std::path::Path::new(path).exists() {
        bail!("no SQLite database at {path}");
    }
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        bail!("--to must be postgres://USER@HOST:PORT/DB, got {:?}", crate::database::redacted(&args.to));
    }
    let target = PgStore::connect(&args.to, 2)
        .await
        .with_context(|| format!("cannot open the PostgreSQL database {}", crate::database::redacted(&args.to)))?;
    let copied = import::from_sqlite(std::path::Path::new(path), &target)
        .await
        .with_context(|| format!("cannot copy {path}"))?;
    let total: u64 = copied.iter().map(|(_, n)| n).sum();
    for (table, rows) in &copied {
        println!("{table:<20} {rows:>12}");
    }
    println!("copied {total} rows from {path} into {}", crate::database::redacted(&args.to));
    Ok(())
}
