//! `--database URL`: which store to open.

use std::sync::Arc;

use anyhow::{Context, bail};
use revtrace_store::{CompanyId, Store, sqlite::SqliteStore};

pub const DEFAULT_URL: &str = "sqlite://revtrace.db";

/// Shared by every command that touches the store.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArg {
    /// Where the data lives: sqlite://PATH (created on first use).
    #[arg(long = "database", env = "REVTRACE_DATABASE_URL", default_value = DEFAULT_URL, value_name = "URL")]
    pub url: String,
}

impl DatabaseArg {
    pub fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        open(&self.url)
    }

    /// Opens the store and checks that the company exists.
    pub async fn open_company(&self, company: &str) -> anyhow::Result<(Arc<dyn Store>, CompanyId)> {
        let store = self.open()?;
        let id = CompanyId(company.to_owned());
        store.company_profile(&id).await?.with_context(|| format!("no company {company}"))?;
        Ok((store, id))
    }
}

pub fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        if path.is_empty() {
            bail!("the database URL {url:?} names no file; use sqlite://PATH");
        }
        let store = SqliteStore::open(path).with_context(|| format!("cannot open the SQLite database {path}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        bail!("PostgreSQL is not supported by this build yet; use sqlite://PATH");
    }
    bail!("unknown database URL {url:?}; use sqlite://PATH")
}
