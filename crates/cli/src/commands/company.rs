//! `revtrace company …`

use anyhow::{Context, bail};
use revtrace_store::NewCompany;

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a company and print its id, public company key and secret key.
    Add(AddArgs),
    /// List the companies of the database: id, name, time zone, window and
    /// public key (secret keys are stored as digests and cannot be shown).
    List(ListArgs),
    /// List, allow or disallow the web origins (https://shop.example.com) that
    /// may send the company's events from a browser with the public key.
    Origins(OriginsArgs),
    /// List, add or revoke secret keys, and set rate limits. Two secret keys
    /// can be live at once, so a rotation is: add, move clients, revoke.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// The public key, its rate limit, and each secret key's prefix, age and limit.
    List(KeysArgs),
    /// Create another secret key (printed once); the others stay live.
    Add {
        #[command(flatten)]
        keys: KeysArgs,
        /// Calls per minute this key may make (default: no limit).
        #[arg(long, value_name = "N")]
        rate_per_minute: Option<u32>,
    },
    /// Revoke the secret key starting with PREFIX (as `list` shows it); running
    /// servers refuse it within 2 seconds. The last key cannot be revoked.
    Revoke {
        #[command(flatten)]
        keys: KeysArgs,
        /// The key's first characters, e.g. sk_3fa81c2.
        prefix: String,
    },
    /// Limit one secret key's calls per minute (`--none` removes the limit).
    KeyRate {
        #[command(flatten)]
        keys: KeysArgs,
        /// The key's first characters, e.g. sk_3fa81c2.
        prefix: String,
        /// Calls per minute.
        #[arg(long, value_name = "N", conflicts_with = "none", required_unless_present = "none")]
        rate_per_minute: Option<u32>,
        /// No limit for this key.
        #[arg(long)]
        none: bool,
    },
    /// The public key's calls per minute per client address (a shopper's
    /// browser, or many behind one address); 0: no limit; `--default`: the server's.
    PublicRate {
        #[command(flatten)]
        keys: KeysArgs,
        /// Calls per minute per client address.
        #[arg(long, value_name = "N", conflicts_with = "default", required_unless_present = "default")]
        rate_per_minute: Option<u32>,
        /// Use the server's default (`revtrace serve --public-rate-per-minute`).
        #[arg(long)]
        default: bool,
    },
}

#[derive(clap::Args)]
pub struct KeysArgs {
    /// The company's id (co_…), as `company add` printed it.
    #[arg(long, value_name = "ID")]
    company: String,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct OriginsArgs {
    /// The company's id (co_…), as `company add` printed it.
    #[arg(long, value_name = "ID")]
    company: String,
    /// An origin to allow: scheme://host[:port], e.g. https://glow-skincare.myshopify.com.
    #[arg(long, value_name = "ORIGIN")]
    add: Vec<String>,
    /// An origin to disallow.
    #[arg(long, value_name = "ORIGIN")]
    remove: Vec<String>,
    #[command(flatten)]
    database: DatabaseArg,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print the companies as a JSON array.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: DatabaseArg,
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
        Command::List(args) => list(args).await,
        Command::Origins(args) => origins(args).await,
        Command::Keys(command) => keys(command).await,
    }
}

async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    use revtrace_store::KeyChange;
    let (args, change) = match command {
        KeysCommand::List(args) => (args, KeyChange::List),
        KeysCommand::Add { keys, rate_per_minute } => (keys, KeyChange::Add { rate_per_minute }),
        KeysCommand::Revoke { keys, prefix } => (keys, KeyChange::Revoke { prefix }),
        KeysCommand::KeyRate { keys, prefix, rate_per_minute, .. } => {
            (keys, KeyChange::SetKeyRate { prefix, rate_per_minute })
        }
        KeysCommand::PublicRate { keys, rate_per_minute, .. } => (keys, KeyChange::PublicRate(rate_per_minute)),
    };
    let (store, company) = args.database.open_company(&args.company).await?;
    let keys = store.keys(&company, change).await?;
    if args.json {
        println!("{}", serde_json::to_string(&keys)?);
        return Ok(());
    }
    let limit = |rate: Option<u32>, none: &str| match rate {
        None => none.to_owned(),
        Some(0) => "no limit".to_owned(),
        Some(n) => format!("{n}/min"),
    };
    println!("public key  {}  {}", keys.company_key, limit(keys.public_rate_per_minute, "server default limit"));
    for key in &keys.secret_keys {
        println!("secret key  {}…  created {}  {}", key.prefix, key.created_at, limit(key.rate_per_minute, "no limit"));
    }
    if let Some(added) = keys.added {
        println!("new secret key: {added}  (shown once; keep it secret)");
    }
    Ok(())
}

/// `https://shop.example.com[:port]`: what a browser sends as `Origin`.
fn origin(raw: &str) -> anyhow::Result<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(trimmed.to_ascii_lowercase()),
        _ => bail!("{raw:?} is not an origin: use scheme://host[:port], e.g. https://shop.example.com"),
    }
}

async fn origins(args: OriginsArgs) -> anyhow::Result<()> {
    let add = args.add.iter().map(|o| origin(o)).collect::<anyhow::Result<Vec<_>>>()?;
    let remove = args.remove.iter().map(|o| origin(o)).collect::<anyhow::Result<Vec<_>>>()?;
    let (store, company) = args.database.open_company(&args.company).await?;
    let list = store.set_origins(&company, add, remove).await?;
    if list.is_empty() {
        println!("no origin may send {}'s events from a browser", args.company);
    }
    for o in list {
        println!("{o}");
    }
    Ok(())
}

async fn add(args: AddArgs) -> anyhow::Result<()> {
    let name = args.name.trim();
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    jiff::tz::TimeZone::get(&args.timezone)
        .with_context(|| format!("--timezone {:?} is not an IANA time zone name", args.timezone))?;
    let store = args.database.open().await?;
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

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let store = args.database.open().await?;
    let companies = store.companies().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&companies)?);
        return Ok(());
    }
    if companies.is_empty() {
        println!(
            "no companies in {} yet; create one with revtrace company add --name NAME",
            crate::database::shown(&args.database.url)
        );
    }
    for c in companies {
        println!(
            "{}  {:<28} {:<20} {:>4} h  {}  since {}",
            c.company_id, c.name, c.timezone, c.window_hours, c.company_key, c.created_at
        );
    }
    Ok(())
}
