//! `revtrace rates …`

use std::str::FromStr;

use anyhow::Context;
use revtrace_core::{Currency, Multiplier};
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

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Set(args) => set(args).await,
    }
}

async fn set(args: SetArgs) -> anyhow::Result<()> {
    let currency = Currency::parse(&args.currency).with_context(|| format!("currency {:?}", args.currency))?;
    let value = Decimal::from_str(&args.multiplier)
        .ok()
        .with_context(|| format!("multiplier {:?} is not a decimal number", args.multiplier))?;
    let multiplier = Multiplier::new(value).with_context(|| format!("multiplier {:?}", args.multiplier))?;
    let effective_from: jiff::civil::Date =
        args.from.parse().with_context(|| format!("--from {:?} is not a date (YYYY-MM-DD)", args.from))?;
    let store = args.database.open()?;
    store.set_rate(RateInput { currency, multiplier, effective_from, source: "manual".into() }).await?;
    println!("{currency} = {} USD from {effective_from}", multiplier.value());
    Ok(())
}
