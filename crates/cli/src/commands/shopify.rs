//! `revtrace shopify connect`

use anyhow::{Context, bail};
use revtrace_store::{RevenueBasis, ShopifyConnect};

use crate::database::DatabaseArg;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Connect a Shopify shop to a company, so its signed webhooks are accepted.
    ///
    /// Run it again with a new --secret to rotate: the new secret and the one
    /// before it are both accepted until the next rotation (Shopify may sign
    /// with the old one for up to an hour). Settings left out keep their
    /// current value. See docs/shopify.md for the app settings and topics.
    Connect(ConnectArgs),
}

#[derive(clap::Args)]
pub struct ConnectArgs {
    /// The company the shop's orders belong to.
    #[arg(long, value_name = "ID")]
    company: String,
    /// The shop's myshopify domain, e.g. glow-skincare.myshopify.com.
    #[arg(long, value_name = "DOMAIN")]
    shop: String,
    /// The app's client secret (Shopify signs webhooks with it).
    #[arg(long, value_name = "S", env = "REVTRACE_SHOPIFY_SECRET", hide_env_values = true)]
    secret: String,
    /// The AI profile the shop's assistant runs (default: default).
    #[arg(long, value_name = "P")]
    ai_profile: Option<String>,
    /// The line-item property (or cart attribute) that carries the visitor fingerprint.
    #[arg(long, value_name = "NAME")]
    fingerprint_property: Option<String>,
    /// Which order total is revenue: total_price (default) or subtotal_price.
    #[arg(long, value_name = "BASIS")]
    revenue_basis: Option<String>,
    #[command(flatten)]
    database: DatabaseArg,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Connect(args) => connect(args).await,
    }
}

async fn connect(args: ConnectArgs) -> anyhow::Result<()> {
    let shop = args.shop.trim().to_ascii_lowercase();
    let valid_label = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    match shop.strip_suffix(".myshopify.com") {
        Some(name) if valid_label(name) => {}
        _ => bail!("--shop {:?}: use the shop's myshopify domain, e.g. glow-skincare.myshopify.com", args.shop),
    }
    if args.secret.trim().len() < 8 {
        bail!("--secret is too short to be a Shopify app secret");
    }
    let revenue_basis = args
        .revenue_basis
        .as_deref()
        .map(|b| {
            RevenueBasis::parse(b).with_context(|| format!("--revenue-basis {b:?}: use total_price or subtotal_price"))
        })
        .transpose()?;
    if let Some(p) = &args.ai_profile
        && (p.is_empty() || p.len() > 64 || !p.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)))
    {
        bail!("--ai-profile {p:?}: a slug of letters, digits, '_', '.', '-'");
    }
    if let Some(p) = &args.fingerprint_property
        && (p.trim().is_empty() || p.len() > 255)
    {
        bail!("--fingerprint-property must be 1 to 255 characters");
    }
    let (store, company) = args.database.open_company(&args.company).await?;
    let connected = store
        .connect_shopify(ShopifyConnect {
            company,
            shop_domain: shop,
            secret: args.secret.trim().to_owned(),
            ai_profile_id: args.ai_profile,
            fingerprint_property: args.fingerprint_property,
            revenue_basis,
        })
        .await?;
    println!(
        "{} → company {} (AI profile {}, fingerprint property {}, revenue basis {}, {} live secret{})",
        connected.shop_domain,
        connected.company_id,
        connected.ai_profile_id,
        connected.fingerprint_property,
        connected.revenue_basis.as_str(),
        connected.secrets.len(),
        if connected.secrets.len() == 1 { "" } else { "s" }
    );
    Ok(())
}
