//! `revtrace company …`

use anyhow::{Context, bail};
use revtrace_store::NewCompany;

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a company and print its id, public company key and secret key.
    Add(AddArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The company's display name.
    #[arg(long)]
    name: String,
    /// IANA time zone that defines the company's reporting days, e.g. America/New_York.
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Attribution window: hours from a ticket's last touch within which an event is credited.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    window_hours: u32,
    /// Print {"company_id","company_key","secret_key"} as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add(args) => add(args).await,
    }
}

async fn add(args: AddArgs) -> anyhow::Result<()> {
    let name = args.name.trim();
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    jiff::tz::TimeZone::get(&args.timezone)
        .with_context(|| format!("--timezone {:?} is not an IANA time zone name", args.timezone))?;
    let store = args.database.open()?;
    let credentials = store
        .create_company(NewCompany {
            name: name.to_owned(),
            timezone: args.timezone.clone(),
            window_ms: i64::from(args.window_hours) * 3_600_000,
        })
        .await?;
    if args.json {
        println!("{}", serde_json::to_string(&credentials)?);
    } else {
        println!("company_id:  {}", credentials.company_id);
        println!("company_key: {}  (public: browser ingest only)", credentials.company_key);
        println!("secret_key:  {}  (keep it secret: server ingest and all reads; shown once)", credentials.secret_key);
    }
    Ok(())
}
