//! Scratch schemas on a PostgreSQL server, for test suites and benches: each
//! caller gets an empty schema of its own and a URL that selects it.

use tokio_postgres::NoTls;

/// The server test suites use unless `REVTRACE_TEST_POSTGRES_URL` says otherwise.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Schemas left behind by runs that died are dropped after this long.
const STALE_SECS: u64 = 6 * 3600;

/// A fresh schema for one test, as a database URL; `None` when no PostgreSQL
/// answers (the caller skips, saying so), unless `REVTRACE_REQUIRE_POSTGRES=1`,
/// which turns that into a panic so CI cannot pass without PostgreSQL.
pub async fn test_database(test: &str) -> Option<String> {
    let base = std::env::var("REVTRACE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_URL.to_owned());
    match create_schema(&base).await {
        Ok(url) => Some(url),
        Err(error) => {
            let error = match std::error::Error::source(&error) {
                Some(cause) => format!("{error}: {cause}"),
                None => error.to_string(),
            };
            skip_or_fail(test, &base, &error)
        }
    }
}

fn skip_or_fail(test: &str, base: &str, error: &str) -> Option<String> {
    if std::env::var("REVTRACE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("REVTRACE_REQUIRE_POSTGRES=1 but PostgreSQL at {base} cannot be used: {error}");
    }
    // Straight to stderr: the test harness captures `eprintln!`, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED on PostgreSQL: {test} ({base}: {error}; REVTRACE_REQUIRE_POSTGRES=1 makes this fail)"
    );
    None
}

/// Creates an empty schema on the server at `base` and returns `base` with
/// the `search_path` option that selects it.
pub async fn create_schema(base: &str) -> Result<String, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(base, NoTls).await?;
    tokio::spawn(connection);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let stale = client
        .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'revtrace\\_scratch\\_%'", &[])
        .await?
        .into_iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|name| {
            let created = name.split('_').nth(2).and_then(|secs| secs.parse::<u64>().ok()).unwrap_or(now);
            now.saturating_sub(created) > STALE_SECS
        });
    for name in stale.collect::<Vec<_>>() {
        // Another run may be dropping it too.
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")).await;
    }
    let schema = format!("revtrace_scratch_{now}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    client.batch_execute(&format!("CREATE SCHEMA \"{schema}\"")).await?;
    let separator = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{separator}options=-csearch_path%3D{schema}"))
}
