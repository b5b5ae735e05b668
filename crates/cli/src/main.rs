//! The `revtrace` binary: a thin clap front over the store and the server.

mod commands;
mod database;
mod demo_store;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Ingest allocates many small short-lived buffers on several threads;
/// mimalloc serves them without glibc's arena contention.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "revtrace",
    version,
    about = "Attributes AI shopping-assistant conversations to the cart and checkout revenue that followed them.",
    long_about = "revtrace ingests assistant conversation tickets and store commerce events, decides for every \
                  event whether a grounded AI answer within the attribution window earned it, and reports the \
                  revenue those conversations influenced.\n\nCommands that open a database take --database, or \
                  REVTRACE_DATABASE_URL when it is absent (default: sqlite://revtrace.db in the current \
                  folder, created on first use); demo and copy name their own files."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (ingest, reports, exports, receipts, metrics, OpenAPI).
    Serve(commands::serve::Args),
    /// Serve a demo store (60 days of a skincare shop) with its dashboard.
    Demo(commands::demo::Args),
    /// Manage companies (tenants) and their keys.
    #[command(subcommand)]
    Company(commands::company::Command),
    /// Manage currency → USD multipliers.
    #[command(subcommand)]
    Rates(commands::rates::Command),
    /// Manage the product catalog (titles, images, links).
    #[command(subcommand)]
    Products(commands::products::Command),
    /// Holdouts and A/B splits: what the assistant caused, with honest statistics.
    #[command(subcommand)]
    Experiment(commands::experiment::Command),
    /// Recompute every attribution decision from stored history (after late data or a window change).
    Reattribute(commands::reattribute::Args),
    /// Write a company's reporting table (one row per commerce event) as NDJSON, CSV or Parquet.
    Export(commands::export::Args),
    /// Connect Shopify shops (signed orders/paid, refunds/create, … webhooks).
    #[command(subcommand)]
    Shopify(commands::shopify::Command),
    /// Export or erase what revtrace holds about a visitor fingerprint.
    #[command(subcommand)]
    Privacy(commands::privacy::Command),
    /// Copy an embedded SQLite history into an empty PostgreSQL database (moving to several servers).
    Copy(commands::copy::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("revtrace: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Company(cmd) => commands::company::run(cmd).await,
            Command::Rates(cmd) => commands::rates::run(cmd).await,
            Command::Products(cmd) => commands::products::run(cmd).await,
            Command::Experiment(cmd) => commands::experiment::run(cmd).await,
            Command::Reattribute(args) => commands::reattribute::run(args).await,
            Command::Export(args) => commands::export::run(args).await,
            Command::Shopify(cmd) => commands::shopify::run(cmd).await,
            Command::Privacy(cmd) => commands::privacy::run(cmd).await,
            Command::Copy(args) => commands::copy::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One clear line: the error and its causes.
            eprintln!("revtrace: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every flag and argument of every command says what it is for.
    #[test]
    fn every_flag_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "revtrace", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }
}
