//! `revtrace demo`

use std::net::SocketAddr;

use anyhow::{Context, bail};
use revtrace_server::AppState;

use crate::{commands::serve, database, demo_store};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "REVTRACE_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// The demo database, rebuilt on every run (a SQLite file).
    #[arg(long, default_value = "revtrace-demo.db", value_name = "PATH")]
    file: std::path::PathBuf,
    /// Days of history to generate, ending yesterday.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(7..=365))]
    days: i64,
    /// Visitors to generate (plus the README's moisturizer journey).
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(10..=200_000))]
    visitors: u64,
    /// Fill the database and exit instead of serving it.
    #[arg(long)]
    no_serve: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    serve::init_logging();
    if args.file.extension().is_none_or(|e| e != "db") {
        bail!("--file {}: the demo database must end in .db (it is deleted and rebuilt)", args.file.display());
    }
    // The port first: a busy one must not cost the old demo database.
    let listener = if args.no_serve {
        None
    } else {
        Some(tokio::net::TcpListener::bind(args.listen).await.with_context(|| {
            format!("cannot listen on {} (is another revtrace running? pick another with --listen)", args.listen)
        })?)
    };
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", args.file.display());
        if std::path::Path::new(&path).exists() {
            std::fs::remove_file(&path).with_context(|| format!("cannot replace {path}"))?;
        }
    }
    let store = database::open(&format!("sqlite://{}", args.file.display()), 1).await?;
    eprintln!("building the demo store ({} days, {} visitors)…", args.days, args.visitors);
    let now = jiff::Timestamp::now().as_millisecond();
    let filled = demo_store::fill(store.clone(), now, args.days, args.visitors).await?;
    let creds = &filled.credentials;
    println!("demo store: {} visitors, {} events in {}", filled.visitors, filled.events, args.file.display());
    println!("company_id:  {}", creds.company_id);
    println!("company_key: {}", creds.company_key);
    println!("secret_key:  {}", creds.secret_key);
    let Some(listener) = listener else { return Ok(()) };
    println!();
    println!("dashboard:   http://{}/  (sign in with the secret key above)", listener.local_addr()?);
    println!(
        "try:         curl -H 'Authorization: Bearer {}' 'http://{}/v1/tickets/TK-2291/revenue'",
        creds.secret_key,
        listener.local_addr()?
    );
    revtrace_server::serve(listener, AppState::new(store), serve::shutdown_signal()).await.context("the server stopped")
}
