//! `revtrace products import`

use std::io::BufRead;

use anyhow::Context;
use indicatif::ProgressBar;
use revtrace_server::routes::catalog::{MAX_PRODUCTS, ProductBody, product};

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load catalog entries from an NDJSON file, one product per line.
    ///
    /// Each line: {"product_id": "...", "title": "...", "image_url": "https://...",
    /// "url": "https://..."}. Known products are replaced. The per-conversation
    /// view shows these titles, images and links.
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The NDJSON file.
    file: std::path::PathBuf,
    /// The company the catalog belongs to.
    #[arg(long, value_name = "ID")]
    company: String,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Import(args) => import(args).await,
    }
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let (store, company) = args.database.open_company(&args.company).await?;
    // The whole file is checked before anything is written: a bad line
    // leaves the catalog as it was.
    let mut products = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", args.file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{} line {}", args.file.display(), n + 1);
        let body: ProductBody = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{}, {}", at(), super::input::json_line_error(&e)))?;
        products.push(product(n, body).map_err(|e| anyhow::anyhow!("{}: {}", at(), e.message))?);
    }
    let bar = ProgressBar::new(products.len() as u64);
    let mut written = 0;
    for batch in products.chunks(MAX_PRODUCTS) {
        written += store.upsert_products(&company, batch.to_vec()).await?;
        bar.set_position(written);
    }
    bar.finish_and_clear();
    println!("{written} products imported into {}", args.company);
    Ok(())
}
