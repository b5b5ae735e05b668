//! Schema migrations, tracked in `revtrace_schema`. Servers starting at once
//! serialize on an advisory lock, so each step runs exactly once.

use deadpool_postgres::Object;

use crate::StoreError;

/// Each entry moves the schema up one version. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_schema.sql"),
    include_str!("migrations/0002_hardening.sql"),
    include_str!("migrations/0003_answers_without_status.sql"),
    include_str!("migrations/0004_experiments.sql"),
    concat!(
        include_str!("migrations/0005_ticket_facts.sql"),
        "UPDATE tickets SET ",
        include_str!("../sql/ticket_firsts.sql"),
        ";"
    ),
];

pub(super) async fn run(client: &mut Object) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    // One lock per schema: tests (and tenants) may keep one schema each.
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('revtrace-migrate:' || current_schema(), 0))", &[])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS revtrace_schema (version BIGINT NOT NULL)").await?;
    let current: i64 = tx.query_one("SELECT coalesce(max(version), 0) FROM revtrace_schema", &[]).await?.get(0);
    if current > MIGRATIONS.len() as i64 {
        return Err(StoreError::config(format!(
            "the database is at schema version {current}, newer than this build knows ({}); upgrade revtrace",
            MIGRATIONS.len()
        )));
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO revtrace_schema (version) VALUES ($1)", &[&(version as i64 + 1)]).await?;
    }
    tx.commit().await?;
    Ok(())
}
