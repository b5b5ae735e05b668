//! `--database URL`: which store to open.

use std::sync::Arc;

use anyhow::{Context, bail};
use revtrace_store::{CompanyId, Store, postgres::PgStore, sqlite::SqliteStore};

pub const DEFAULT_URL: &str = "sqlite://revtrace.db";

/// Shared by every command that touches the store.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArg {
    /// Where the data lives: sqlite://PATH (one machine; created on first
    /// use) or postgres://USER@HOST:PORT/DB (shared by several servers;
    /// libpq-style URL, `?options=-csearch_path%3DSCHEMA` picks a schema).
    /// The schema is created or upgraded on open.
    #[arg(long = "database", env = "REVTRACE_DATABASE_URL", default_value = DEFAULT_URL, value_name = "URL")]
    pub url: String,

    /// PostgreSQL only: connections this process keeps open at most.
    #[arg(long, env = "REVTRACE_PG_POOL_SIZE", default_value_t = revtrace_store::postgres::DEFAULT_POOL_SIZE)]
    pub pg_pool_size: usize,
}

impl DatabaseArg {
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        open(&self.url, self.pg_pool_size).await
    }

    /// Opens the store and checks that the company exists.
    pub async fn open_company(&self, company: &str) -> anyhow::Result<(Arc<dyn Store>, CompanyId)> {
        let store = self.open().await?;
        let id = CompanyId::new(company.to_owned());
        store.company_profile(&id).await?.with_context(|| {
            format!(
                "no company {company} in {} (revtrace company list --database … shows the companies of a database)",
                shown(&self.url)
            )
        })?;
        Ok((store, id))
    }
}

pub async fn open(url: &str, pg_pool_size: usize) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        if path.is_empty() {
            bail!("the database URL {url:?} names no file; use sqlite://PATH");
        }
        let store = SqliteStore::open(path).with_context(|| format!("cannot open the SQLite database {path}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::connect(url, pg_pool_size)
            .await
            .with_context(|| format!("cannot open the PostgreSQL database {}", redacted(url)))?;
        return Ok(Arc::new(store));
    }
    bail!("unknown database URL {url:?}; use sqlite://PATH or postgres://USER@HOST/DB")
}

/// Which database a message is about: a SQLite file by its absolute path
/// (a relative one depends on where the command ran), a server without its
/// password.
pub fn shown(url: &str) -> String {
    match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Some(path) => match std::path::absolute(path) {
            Ok(absolute) => format!("sqlite://{}", absolute.display()),
            Err(_) => url.to_owned(),
        },
        None => redacted(url),
    }
}

/// The URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redacted("postgres://app:s3cret@db:5432/revtrace"), "postgres://app:***@db:5432/revtrace");
        assert_eq!(redacted("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redacted("sqlite://revtrace.db"), "sqlite://revtrace.db");
    }
}
