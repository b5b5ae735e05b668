//! `revtrace privacy export|erase`

use anyhow::{Context, bail};
use revtrace_store::PrivacySubject;

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print everything revtrace holds about a visitor fingerprint, as JSON.
    ///
    /// Give --fingerprint, or --request with the number of a recorded Shopify
    /// customers/data_request (the webhook's answer names it) to gather the
    /// data of the orders it lists.
    Export(ExportArgs),
    /// Erase a visitor fingerprint: it is replaced everywhere by a random
    /// token, and the conversation text, cart tokens and shown products under
    /// it are deleted. Amounts, decisions and counts stay, so reports do not
    /// change.
    Erase(EraseArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The company whose data is gathered (`revtrace company list` shows the ids).
    #[arg(long, value_name = "ID")]
    company: String,
    /// The visitor fingerprint.
    #[arg(long, value_name = "FP", conflicts_with = "request", required_unless_present = "request")]
    fingerprint: Option<String>,
    /// A recorded Shopify data request's number.
    #[arg(long, value_name = "N")]
    request: Option<i64>,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct EraseArgs {
    /// The company to erase the visitor from (`revtrace company list` shows the ids).
    #[arg(long, value_name = "ID")]
    company: String,
    /// The visitor fingerprint to erase.
    #[arg(long, value_name = "FP")]
    fingerprint: String,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Export(args) => export(args).await,
        Command::Erase(args) => erase(args).await,
    }
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let (store, company) = args.database.open_company(&args.company).await?;
    let subject = match (args.fingerprint, args.request) {
        (Some(f), _) => PrivacySubject::Fingerprint(f),
        (None, Some(n)) => PrivacySubject::Request(n),
        (None, None) => bail!("give --fingerprint or --request"),
    };
    let data = store.privacy_export(&company, subject).await?.context("no such data request in this company")?;
    println!("{}", serde_json::to_string_pretty(&data)?);
    Ok(())
}

async fn erase(args: EraseArgs) -> anyhow::Result<()> {
    let (store, company) = args.database.open_company(&args.company).await?;
    let token = store.privacy_erase(&company, &args.fingerprint).await?;
    println!("{} erased; its history now stands under {token}", args.fingerprint);
    Ok(())
}
