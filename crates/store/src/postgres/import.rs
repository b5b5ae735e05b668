//! Moving an embedded SQLite history into an empty PostgreSQL database, for
//! a store that outgrows one machine: every table row for row, in one
//! PostgreSQL transaction (all or nothing), with `COPY … (FORMAT binary)`.
//! Decisions, receipts, rollups and visitor counts are copied as they are, so
//! reports answer the same before and after; the counters land in shard 0.

use futures_util::pin_mut;
use rusqlite::{Connection, OpenFlags, types::ValueRef};
use tokio_postgres::{
    binary_copy::BinaryCopyInWriter,
    types::{ToSql, Type},
};

use super::PgStore;
use crate::StoreError;

/// Tables in an order that satisfies their foreign keys. SQLite's
/// `multi_visitor_packs` has no PostgreSQL twin (visitors fold in SQL there).
pub(crate) const TABLES: &[&str] = &[
    "companies",
    "api_keys",
    "currency_rates",
    "tickets",
    "messages",
    "events",
    "line_items",
    "cart_positions",
    "idempotency_keys",
    "cart_tokens",
    "rollups",
    "refunds",
    "products",
    "visitor_days",
    "multi_visitors",
    "multi_visitor_days",
    "visitor_counts",
    "shopify_stores",
    "shopify_secrets",
    "shopify_deliveries",
    "cancellations",
    "privacy_requests",
    "allowed_origins",
    "experiments",
    "experiment_arms",
    "exposures",
];

/// Identity columns whose sequences must continue after the copied ids.
const IDENTITIES: &[(&str, &str)] = &[
    ("tickets", "ticket_pk"),
    ("events", "event_pk"),
    ("multi_visitors", "visitor_id"),
    ("privacy_requests", "request_pk"),
];

/// Rows copied per table, in [`TABLES`] order.
pub type Copied = Vec<(&'static str, u64)>;

/// A value read from SQLite, typed for the PostgreSQL column it goes to.
#[derive(Debug)]
enum Value {
    /// A NULL for a column of this type (COPY checks every value's type).
    Null(Type),
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Self::Null(ty) if *ty == Type::BOOL => &None::<bool>,
            Self::Null(ty) if *ty == Type::INT2 => &None::<i16>,
            Self::Null(ty) if *ty == Type::INT4 => &None::<i32>,
            Self::Null(ty) if *ty == Type::BYTEA => &None::<&[u8]>,
            Self::Null(ty) if *ty == Type::TEXT => &None::<&str>,
            Self::Null(_) => &None::<i64>,
            Self::Bool(v) => v,
            Self::Int2(v) => v,
            Self::Int4(v) => v,
            Self::Int8(v) => v,
            Self::Text(v) => v,
            Self::Bytes(v) => v,
        }
    }
}

fn convert(table: &str, column: &str, ty: &Type, raw: ValueRef<'_>) -> Result<Value, StoreError> {
    let wrong = || StoreError::corrupt(format!("{table}.{column}: {raw:?} does not fit {ty}"));
    Ok(match (raw, ty) {
        (ValueRef::Null, t) => Value::Null(t.clone()),
        (ValueRef::Integer(n), t) if *t == Type::BOOL => Value::Bool(n != 0),
        (ValueRef::Integer(n), t) if *t == Type::INT2 => Value::Int2(i16::try_from(n).map_err(|_| wrong())?),
        (ValueRef::Integer(n), t) if *t == Type::INT4 => Value::Int4(i32::try_from(n).map_err(|_| wrong())?),
        (ValueRef::Integer(n), t) if *t == Type::INT8 => Value::Int8(n),
        (ValueRef::Text(s), t) if *t == Type::TEXT => Value::Text(String::from_utf8_lossy(s).into_owned()),
        (ValueRef::Integer(n), t) if *t == Type::TEXT => Value::Text(n.to_string()),
        (ValueRef::Blob(b), t) if *t == Type::BYTEA => Value::Bytes(b.to_vec()),
        _ => return Err(wrong()),
    })
}

/// Copies the SQLite database at `path` (migrated to the current version
/// first) into `store`, which must hold no company yet.
pub async fn from_sqlite(path: &std::path::Path, store: &PgStore) -> Result<Copied, StoreError> {
    // Opening through the SQLite store brings an older file up to date.
    drop(crate::sqlite::SqliteStore::open(path)?);
    let source = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut client = store.inner.pool.get().await?;
    let tx = client.transaction().await?;
    let existing: i64 = tx.query_one("SELECT count(*) FROM companies", &[]).await?.get(0);
    if existing > 0 {
        return Err(crate::Rejection::invalid(
            None,
            format!("the PostgreSQL database already holds {existing} companies; copy into an empty one"),
        )
        .into());
    }
    // One snapshot of the source for every table.
    source.execute_batch("BEGIN")?;
    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns: Vec<(String, Type)> = {
            let statement = tx.prepare(&format!("SELECT * FROM {table} LIMIT 0")).await?;
            statement.columns().iter().map(|c| (c.name().to_owned(), c.type_().clone())).collect()
        };
        let in_source: Vec<String> = source
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        // A PostgreSQL-only column (the counters' shard) takes 0.
        let select: Vec<String> =
            columns.iter().map(|(name, _)| if in_source.contains(name) { name.clone() } else { "0".into() }).collect();
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let types: Vec<Type> = columns.iter().map(|(_, ty)| ty.clone()).collect();
        let sink = tx.copy_in(&format!("COPY {table} ({}) FROM STDIN (FORMAT binary)", names.join(", "))).await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        pin_mut!(writer);
        let mut statement = source.prepare(&format!("SELECT {} FROM {table}", select.join(", ")))?;
        let mut rows = statement.query([])?;
        let mut count = 0u64;
        while let Some(r) = rows.next()? {
            let values = columns
                .iter()
                .enumerate()
                .map(|(i, (name, ty))| convert(table, name, ty, r.get_ref(i)?))
                .collect::<Result<Vec<Value>, StoreError>>()?;
            let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(Value::as_sql).collect();
            writer.as_mut().write(&refs).await?;
            count += 1;
        }
        writer.finish().await?;
        copied.push((*table, count));
    }
    source.execute_batch("COMMIT")?;
    for (table, column) in IDENTITIES {
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce(max({column}), 0) + 1, false)
                 FROM {table}"
            ),
            &[],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(copied)
}
