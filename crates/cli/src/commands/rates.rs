//! `revtrace rates …`

use std::str::FromStr;

use anyhow::Context;
use revtrace_core::{Currency, Multiplier, ecb};
use revtrace_store::RateInput;
use rust_decimal::Decimal;

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set how many US dollars one unit of CUR is worth, from a date on.
    ///
    /// Example: `revtrace rates set EUR 1.08 --from 2026-09-01`. Events are
    /// converted with the rate in force on their reporting day; USD is always 1.
    Set(SetArgs),
    /// Load the European Central Bank's euro reference rates (XML).
    ///
    /// Takes eurofxref-daily.xml or eurofxref-hist.xml as published at
    /// https://www.ecb.europa.eu/stats/eurofxref/. The ECB quotes units per
    /// euro; revtrace turns them into USD multipliers (EUR = the USD quote,
    /// X = USD quote / X quote), each effective from its reference day.
    /// Loading the same file twice changes nothing.
    ImportEcb(ImportEcbArgs),
}

#[derive(clap::Args)]
pub struct SetArgs {
    /// ISO 4217 currency code, e.g. EUR.
    currency: String,
    /// USD per one unit of the currency, a positive decimal such as 1.08 or 0.0067.
    #[arg(allow_negative_numbers = true)]
    multiplier: String,
    /// First reporting day (YYYY-MM-DD) the rate applies to; by default every day until a later rate.
    #[arg(long, default_value = "1970-01-01", value_name = "DATE")]
    from: String,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct ImportEcbArgs {
    /// The ECB reference-rates XML file.
    file: std::path::PathBuf,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Set(args) => set(args).await,
        Command::ImportEcb(args) => import_ecb(args).await,
    }
}

async fn set(args: SetArgs) -> anyhow::Result<()> {
    let currency = Currency::parse(&args.currency).with_context(|| format!("currency {:?}", args.currency))?;
    let value = Decimal::from_str(&args.multiplier)
        .ok()
        .with_context(|| format!("multiplier {:?} is not a decimal number", args.multiplier))?;
    let multiplier = Multiplier::new(value).with_context(|| format!("multiplier {:?}", args.multiplier))?;
    let effective_from = super::input::day("--from", &args.from)?;
    let store = args.database.open().await?;
    store.set_rates(vec![RateInput { currency, multiplier, effective_from, source: "manual".into() }]).await?;
    println!("{currency} = {} USD from {effective_from}", multiplier.value());
    Ok(())
}

async fn import_ecb(args: ImportEcbArgs) -> anyhow::Result<()> {
    let xml = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let days =
        ecb::parse(&xml).with_context(|| format!("{} is not an ECB reference-rates file", args.file.display()))?;
    let rates: Vec<RateInput> = days
        .iter()
        .flat_map(|day| {
            day.multipliers.iter().map(|(currency, multiplier)| RateInput {
                currency: *currency,
                multiplier: *multiplier,
                effective_from: day.date,
                source: "ecb".into(),
            })
        })
        .collect();
    let store = args.database.open().await?;
    let written = store.set_rates(rates).await?;
    let (first, last) = (days.first().map(|d| d.date), days.last().map(|d| d.date));
    if let (Some(first), Some(last)) = (first, last) {
        println!("{written} rates from the ECB for {} days, {first} to {last}", days.len());
    }
    Ok(())
}
