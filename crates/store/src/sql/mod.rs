//! Statements written once for both backends: SQL text with `$1`-style
//! placeholders (SQLite reads them as `?1`), parameters as [`Arg`]s that
//! both drivers bind, and row cells read through [`Cells`] whichever driver
//! returned the row. What differs by dialect stays in the backend.

pub(crate) mod admin;
pub(crate) mod conversation;
pub(crate) mod db;
pub(crate) mod experiments;
pub(crate) mod ingest;
pub(crate) mod lookups;
pub(crate) mod privacy;
pub(crate) mod reads;
pub(crate) mod reattribute;
pub(crate) mod reports;
pub(crate) mod shopify;
pub(crate) mod writes;

use std::{collections::HashMap, sync::RwLock};

use rust_decimal::Decimal;

use crate::StoreError;

/// A statement parameter, owned, bound by either driver.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i64, i32, i16, u32, u16, u8);

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}

/// Ids bind as their text.
macro_rules! id_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Text(v.into_string())
            }
        }

        impl From<&$t> for Arg {
            fn from(v: &$t) -> Self {
                Arg::Text(v.as_str().to_owned())
            }
        }
    )*};
}

id_args!(
    revtrace_core::CompanyId,
    revtrace_core::EventId,
    revtrace_core::TicketId,
    revtrace_core::OrderId,
    revtrace_core::ProductId
);

impl From<revtrace_core::MessageSource> for Arg {
    fn from(v: revtrace_core::MessageSource) -> Self {
        Arg::Text(v.as_str().to_owned())
    }
}

impl From<crate::model::DecidedBy> for Arg {
    fn from(v: crate::model::DecidedBy) -> Self {
        Arg::Text(v.as_str().to_owned())
    }
}

impl From<revtrace_core::UsdCents> for Arg {
    fn from(v: revtrace_core::UsdCents) -> Self {
        Arg::Int(v.cents())
    }
}

impl From<Decimal> for Arg {
    fn from(v: Decimal) -> Self {
        Arg::Text(v.to_string())
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}

impl From<[u8; 32]> for Arg {
    fn from(v: [u8; 32]) -> Self {
        Arg::Bytes(v.to_vec())
    }
}

impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// `args![a, b, …]`: a statement's parameters.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        vec![$(crate::sql::Arg::from($value)),*]
    };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Arg::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Arg::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Arg::Bool(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Arg::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Arg::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

impl tokio_postgres::types::ToSql for Arg {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        match self {
            Arg::Null => Ok(IsNull::Yes),
            // The column's type decides the width PostgreSQL expects.
            Arg::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Arg::Int(v) if *ty == Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
            Arg::Int(v) => v.to_sql(ty, out),
            Arg::Bool(v) => v.to_sql(ty, out),
            Arg::Text(v) => v.to_sql(ty, out),
            Arg::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// The SQLite spelling of a statement: `$1` becomes `?1` (SQLite would read
/// `$1` as a named parameter, numbered by first appearance). Each text is
/// translated once and kept for the life of the process.
pub(crate) fn sqlite_text(sql: &'static str) -> &'static str {
    static TRANSLATED: RwLock<Option<HashMap<usize, &'static str>>> = RwLock::new(None);
    if !sql.contains('$') {
        return sql;
    }
    let key = sql.as_ptr() as usize;
    if let Some(found) = TRANSLATED.read().ok().and_then(|cache| cache.as_ref()?.get(&key).copied()) {
        return found;
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    let mut cache = TRANSLATED.write().unwrap_or_else(|e| e.into_inner());
    // Leaked once per statement text: a fixed set, for the life of the process.
    cache.get_or_insert_with(HashMap::new).entry(key).or_insert_with(|| Box::leak(out.into_boxed_str()))
}

/// The cells of a row, whichever driver read it.
pub(crate) trait Cells {
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn flag(&self, i: usize) -> Result<bool, StoreError>;
    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError>;
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError>;
    /// A sum that may pass i64: an integer, or its exact decimal text.
    fn wide(&self, i: usize) -> Result<i128, StoreError>;
    /// A double (a sum of squares for a variance); NULL reads as 0.
    fn float(&self, i: usize) -> Result<f64, StoreError>;

    fn decimal(&self, i: usize) -> Result<Decimal, StoreError> {
        let raw = self.text(i)?;
        raw.parse().map_err(|_| StoreError::corrupt(format!("decimal {raw}")))
    }
}

/// A SQLite row read out of its statement.
pub(crate) type SqliteRow = Vec<rusqlite::types::Value>;

fn corrupt(what: &str, i: usize) -> StoreError {
    StoreError::corrupt(format!("column {i} is not {what}"))
}

impl Cells for SqliteRow {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| corrupt("an integer", i))
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        use rusqlite::types::Value;
        match self.get(i) {
            Some(Value::Integer(v)) => Ok(Some(*v)),
            Some(Value::Null) => Ok(None),
            _ => Err(corrupt("an integer", i)),
        }
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| corrupt("text", i))
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        use rusqlite::types::Value;
        match self.get(i) {
            Some(Value::Text(v)) => Ok(Some(v.clone())),
            Some(Value::Null) => Ok(None),
            _ => Err(corrupt("text", i)),
        }
    }

    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.int(i)? != 0)
    }

    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError> {
        Ok(self.opt_int(i)?.map(|v| v != 0))
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.get(i) {
            Some(rusqlite::types::Value::Blob(v)) => Ok(v.clone()),
            _ => Err(corrupt("bytes", i)),
        }
    }

    fn wide(&self, i: usize) -> Result<i128, StoreError> {
        match self.get(i) {
            Some(rusqlite::types::Value::Integer(v)) => Ok(i128::from(*v)),
            Some(rusqlite::types::Value::Text(v)) => v.parse().map_err(|_| corrupt("a sum", i)),
            _ => Err(corrupt("a sum", i)),
        }
    }

    fn float(&self, i: usize) -> Result<f64, StoreError> {
        match self.get(i) {
            Some(rusqlite::types::Value::Real(v)) => Ok(*v),
            Some(rusqlite::types::Value::Integer(v)) => Ok(*v as f64),
            Some(rusqlite::types::Value::Null) => Ok(0.0),
            _ => Err(corrupt("a number", i)),
        }
    }
}

/// A row still in its statement: mapped while SQLite steps, nothing kept.
impl Cells for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.get(i)?)
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }

    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.get(i)?)
    }

    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError> {
        Ok(self.get(i)?)
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.get(i)?)
    }

    fn wide(&self, i: usize) -> Result<i128, StoreError> {
        match self.get_ref(i)? {
            rusqlite::types::ValueRef::Integer(v) => Ok(i128::from(v)),
            rusqlite::types::ValueRef::Text(v) => {
                std::str::from_utf8(v).ok().and_then(|t| t.parse().ok()).ok_or_else(|| corrupt("a sum", i))
            }
            _ => Err(corrupt("a sum", i)),
        }
    }

    fn float(&self, i: usize) -> Result<f64, StoreError> {
        match self.get_ref(i)? {
            rusqlite::types::ValueRef::Real(v) => Ok(v),
            rusqlite::types::ValueRef::Integer(v) => Ok(v as f64),
            rusqlite::types::ValueRef::Null => Ok(0.0),
            _ => Err(corrupt("a number", i)),
        }
    }
}

impl Cells for tokio_postgres::Row {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| corrupt("an integer", i))
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        use tokio_postgres::types::Type;
        let ty = self.columns().get(i).map(|c| c.type_().clone()).ok_or_else(|| corrupt("a column", i))?;
        Ok(if ty == Type::INT4 {
            self.try_get::<_, Option<i32>>(i)?.map(i64::from)
        } else if ty == Type::INT2 {
            self.try_get::<_, Option<i16>>(i)?.map(i64::from)
        } else {
            self.try_get::<_, Option<i64>>(i)?
        })
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn wide(&self, i: usize) -> Result<i128, StoreError> {
        use tokio_postgres::types::Type;
        let ty = self.columns().get(i).map(|c| c.type_().clone()).ok_or_else(|| corrupt("a column", i))?;
        if ty == Type::TEXT {
            let text: String = self.try_get(i)?;
            text.parse().map_err(|_| corrupt("a sum", i))
        } else {
            Ok(i128::from(self.int(i)?))
        }
    }

    fn float(&self, i: usize) -> Result<f64, StoreError> {
        Ok(self.try_get::<_, Option<f64>>(i)?.unwrap_or(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_reads_numbered_placeholders_as_its_own() {
        assert_eq!(sqlite_text("SELECT $1, $12 WHERE a = '$'"), "SELECT ?1, ?12 WHERE a = '$'");
        assert_eq!(sqlite_text("SELECT 1"), "SELECT 1");
    }
}
