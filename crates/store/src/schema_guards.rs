//! Guard rails over the two schemas, so a new table or column cannot slip
//! past what must know about it: `revtrace copy` copies every table, the
//! privacy erase renames every fingerprint column, and the SQLite and
//! PostgreSQL schemas hold the same tables and columns (the differences each
//! backend's storage needs are listed here, with why).

use std::collections::{BTreeMap, BTreeSet};

type Schema = BTreeMap<String, BTreeSet<String>>;

/// Tables only SQLite has: its packed mirror days (PostgreSQL folds
/// multi-day visitors with `bit_or` over `multi_visitor_days`).
const SQLITE_ONLY_TABLES: &[&str] = &["multi_visitor_packs"];
/// Tables only PostgreSQL has: its migration bookkeeping (SQLite keeps the
/// version in `PRAGMA user_version`).
const POSTGRES_ONLY_TABLES: &[&str] = &["revtrace_schema"];
/// Columns only PostgreSQL has: counters sharded by connection, so
/// concurrent transactions do not queue on one row (SQLite has one writer).
const POSTGRES_ONLY_COLUMNS: &[(&str, &str)] = &[("visitor_counts", "shard")];
/// Columns named like a fingerprint that hold none: the name of the
/// line-item property Shopify orders carry it in.
const NOT_FINGERPRINTS: &[(&str, &str)] = &[("shopify_stores", "fingerprint_property")];

fn sqlite_schema(path: &std::path::Path) -> Schema {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let columns = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (table, columns)
        })
        .collect()
}

fn migrated_sqlite() -> (tempfile::TempDir, Schema) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guards.db");
    drop(crate::sqlite::SqliteStore::open(&path).unwrap());
    let schema = sqlite_schema(&path);
    (dir, schema)
}

#[test]
fn copy_knows_every_table() {
    let (_dir, schema) = migrated_sqlite();
    let tables: BTreeSet<&str> =
        schema.keys().map(String::as_str).filter(|t| !SQLITE_ONLY_TABLES.contains(t)).collect();
    let copied: BTreeSet<&str> = crate::postgres::import::TABLES.iter().copied().collect();
    assert_eq!(
        tables, copied,
        "a table revtrace copy does not move (postgres/import.rs TABLES), or one it names that is gone"
    );
}

#[test]
fn the_privacy_erase_renames_every_fingerprint_column() {
    let (_dir, schema) = migrated_sqlite();
    let company = crate::model::CompanyId::new("co");
    let none: &[Vec<crate::sql::SqliteRow>] = &[];
    let erase = crate::sql::privacy::erase(&company, "fp", "token", none).unwrap();
    let texts: Vec<&str> = erase.queries.iter().map(|(sql, _)| *sql).collect();
    // The events' own columns are rewritten event by event.
    let per_event = "UPDATE events SET cart_token = NULL, candidates";
    let events_erase = crate::sql::privacy::EVENT_ERASE;
    assert!(events_erase.starts_with(per_event));
    for (table, columns) in &schema {
        for column in columns.iter().filter(|c| c.contains("fingerprint")) {
            if NOT_FINGERPRINTS.contains(&(table.as_str(), column.as_str())) {
                continue;
            }
            let covered = if table == "events" {
                events_erase.contains(&format!("{column} = CASE"))
            } else {
                texts.iter().any(|sql| sql.contains(&format!(" {table} ")) && sql.contains(&format!("{column} = $2")))
            };
            assert!(covered, "the privacy erase (sql/privacy.rs) leaves {table}.{column} alone");
        }
    }
}

#[tokio::test]
async fn both_schemas_hold_the_same_tables_and_columns() {
    let Some(url) = crate::postgres::scratch::test_database("both_schemas_hold_the_same_tables_and_columns").await
    else {
        return;
    };
    crate::postgres::PgStore::connect(&url, 1).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let mut postgres = Schema::new();
    for r in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema()",
            &[],
        )
        .await
        .unwrap()
    {
        postgres.entry(r.get(0)).or_default().insert(r.get(1));
    }
    let (_dir, mut sqlite) = migrated_sqlite();
    for table in SQLITE_ONLY_TABLES {
        assert!(sqlite.remove(*table).is_some(), "{table} is listed as SQLite's own but is gone");
    }
    for table in POSTGRES_ONLY_TABLES {
        assert!(postgres.remove(*table).is_some(), "{table} is listed as PostgreSQL's own but is gone");
    }
    for (table, column) in POSTGRES_ONLY_COLUMNS {
        assert!(postgres.get_mut(*table).is_some_and(|c| c.remove(*column)), "{table}.{column} is gone");
    }
    assert_eq!(sqlite, postgres, "the SQLite and PostgreSQL schemas differ (migrations of one backend only?)");
}
