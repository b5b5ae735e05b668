//! The reporting table (SPEC §9) as NDJSON, CSV or Parquet, written from a
//! stream of row chunks to any `Write`: the HTTP body and `revtrace export`
//! share it. Memory stays constant: NDJSON and CSV write row by row, Parquet
//! one row group at a time.
//!
//! Parquet types are chosen to load as is: `occurred_at` a UTC timestamp,
//! `day` a DATE, USD values DECIMAL(18,2), original amounts DECIMAL(38,9)
//! and multipliers DECIMAL(38,18) (BigQuery NUMERIC / BIGNUMERIC, ClickHouse
//! and DuckDB Decimal).

use std::{io::Write, sync::Arc};

use parquet::{
    basic::Compression,
    data_type::{BoolType, ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type, Int64Type},
    file::{properties::WriterProperties, writer::SerializedFileWriter},
    schema::parser::parse_message_type,
};
use revtrace_store::{ExportRow, ExportRows, ExposureRow, StoreError};
use rust_decimal::Decimal;

/// Rows per Parquet row group (a few MiB in memory).
const ROW_GROUP: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
    Parquet,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            "csv" => Some(Self::Csv),
            "parquet" => Some(Self::Parquet),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("{0}")]
    Value(String),
}

/// A table that can be exported: its Parquet message name and columns.
pub trait Table: serde::Serialize + Sized + 'static {
    const NAME: &'static str;
    const COLUMNS: &'static [Column<Self>];
}

impl Table for ExportRow {
    const NAME: &'static str = "revenue_impact";
    const COLUMNS: &'static [Column<Self>] = COLUMNS;
}

/// Writes every row of the stream to `out` (blocking: run it off the async
/// workers). Returns the number of rows written.
pub fn write(format: Format, mut rows: ExportRows, out: impl Write + Send) -> Result<u64, ExportError> {
    let mut next = move || rows.blocking_recv().transpose();
    write_table(format, &mut next, out)
}

/// Writes rows handed over in chunks by `next` until it answers `None`.
pub fn write_table<R: Table>(
    format: Format,
    next: &mut Next<'_, R>,
    out: impl Write + Send,
) -> Result<u64, ExportError> {
    match format {
        Format::Ndjson => ndjson(next, out),
        Format::Csv => csv_rows(next, out),
        Format::Parquet => parquet_rows(next, out),
    }
}

pub type Next<'a, R> = dyn FnMut() -> Result<Option<Vec<R>>, StoreError> + 'a;

fn ndjson<R: Table>(next: &mut Next<'_, R>, out: impl Write) -> Result<u64, ExportError> {
    let mut out = std::io::BufWriter::new(out);
    let mut written = 0;
    while let Some(chunk) = next()? {
        for row in &chunk {
            serde_json::to_writer(&mut out, row).map_err(|e| ExportError::Value(e.to_string()))?;
            out.write_all(b"\n")?;
        }
        written += chunk.len() as u64;
    }
    out.flush()?;
    Ok(written)
}

fn csv_rows<R: Table>(next: &mut Next<'_, R>, out: impl Write) -> Result<u64, ExportError> {
    let mut writer = csv::Writer::from_writer(out);
    let mut written = 0;
    // The header comes from the first row; an empty export still gets one.
    let mut header_written = false;
    while let Some(chunk) = next()? {
        for row in &chunk {
            writer.serialize(row)?;
            header_written = true;
        }
        written += chunk.len() as u64;
    }
    if !header_written {
        writer.write_record(R::COLUMNS.iter().map(|c| c.name))?;
    }
    writer.flush()?;
    Ok(written)
}

/// How one column of a table is stored in Parquet.
pub enum Kind<R> {
    Text(fn(&R) -> Option<&str>),
    Int64(fn(&R) -> Option<i64>),
    Bool(fn(&R) -> bool),
    /// RFC 3339 text → TIMESTAMP(MILLIS, UTC).
    Instant(fn(&R) -> &str),
    /// YYYY-MM-DD → DATE.
    Day(fn(&R) -> &str),
    /// Decimal text → DECIMAL(precision, scale).
    Decimal {
        get: fn(&R) -> Option<&str>,
        precision: u32,
        scale: u32,
    },
}

pub struct Column<R> {
    name: &'static str,
    required: bool,
    kind: Kind<R>,
}

pub const fn col<R>(name: &'static str, required: bool, kind: Kind<R>) -> Column<R> {
    Column { name, required, kind }
}

/// The reporting table, in SPEC §9 order.
const COLUMNS: &[Column<ExportRow>] = &[
    col("company_id", true, Kind::Text(|r| Some(&r.company_id))),
    col("event_id", true, Kind::Text(|r| Some(&r.event_id))),
    col("occurred_at", true, Kind::Instant(|r| &r.occurred_at)),
    col("day", true, Kind::Day(|r| &r.day)),
    col("cart_type", true, Kind::Text(|r| Some(&r.cart_type))),
    col("source_category", true, Kind::Text(|r| Some(&r.source_category))),
    col("message_source", false, Kind::Text(|r| r.message_source.as_deref())),
    col("ticket_id", false, Kind::Text(|r| r.ticket_id.as_deref())),
    col("ai_profile_id", false, Kind::Text(|r| r.ai_profile_id.as_deref())),
    col("user_fingerprint", false, Kind::Text(|r| r.user_fingerprint.as_deref())),
    col("event_type", false, Kind::Text(|r| r.event_type.as_deref())),
    col("product_id", false, Kind::Text(|r| r.product_id.as_deref())),
    col("variant_id", false, Kind::Text(|r| r.variant_id.as_deref())),
    col("quantity_signed", false, Kind::Int64(|r| r.quantity_signed)),
    col("order_id", false, Kind::Text(|r| r.order_id.as_deref())),
    col("cart_value", true, Kind::Decimal { get: |r| Some(&r.cart_value), precision: 38, scale: 9 }),
    col("currency", true, Kind::Text(|r| Some(&r.currency))),
    col(
        "currency_multiplier",
        false,
        Kind::Decimal { get: |r| r.currency_multiplier.as_deref(), precision: 38, scale: 18 },
    ),
    col("usd_cart_value", false, Kind::Decimal { get: |r| r.usd_cart_value.as_deref(), precision: 18, scale: 2 }),
    col("attributed", true, Kind::Bool(|r| r.attributed)),
    col("reason", true, Kind::Text(|r| Some(&r.reason))),
    col("is_test", true, Kind::Bool(|r| r.is_test)),
    col("refunded_usd", true, Kind::Decimal { get: |r| Some(&r.refunded_usd), precision: 18, scale: 2 }),
];

impl Table for ExposureRow {
    const NAME: &'static str = "exposures";
    const COLUMNS: &'static [Column<Self>] = &[
        col("company_id", true, Kind::Text(|r| Some(&r.company_id))),
        col("experiment", true, Kind::Text(|r| Some(&r.experiment))),
        col("fingerprint", true, Kind::Text(|r| Some(&r.fingerprint))),
        col("arm", true, Kind::Text(|r| Some(&r.arm))),
        col("exposed_at", true, Kind::Instant(|r| &r.exposed_at)),
        col("orders", true, Kind::Int64(|r| Some(r.orders))),
        col("revenue_usd", true, Kind::Decimal { get: |r| Some(&r.revenue_usd), precision: 18, scale: 2 }),
        col("cart_gmv_usd", true, Kind::Decimal { get: |r| Some(&r.cart_gmv_usd), precision: 18, scale: 2 }),
        col(
            "attributed_revenue_usd",
            true,
            Kind::Decimal { get: |r| Some(&r.attributed_revenue_usd), precision: 18, scale: 2 },
        ),
        col("unconverted_events", true, Kind::Int64(|r| Some(r.unconverted_events))),
        col("with_ticket", true, Kind::Bool(|r| r.with_ticket)),
    ];
}

fn schema<R: Table>() -> String {
    let fields: String = R::COLUMNS
        .iter()
        .map(|c| {
            let repetition = if c.required { "REQUIRED" } else { "OPTIONAL" };
            let ty = match &c.kind {
                Kind::Text(_) => "BYTE_ARRAY".to_owned() + " " + c.name + " (UTF8)",
                Kind::Int64(_) => format!("INT64 {}", c.name),
                Kind::Bool(_) => format!("BOOLEAN {}", c.name),
                Kind::Instant(_) => format!("INT64 {} (TIMESTAMP(MILLIS,true))", c.name),
                Kind::Day(_) => format!("INT32 {} (DATE)", c.name),
                Kind::Decimal { precision, scale, .. } if *precision <= 18 => {
                    format!("INT64 {} (DECIMAL({precision},{scale}))", c.name)
                }
                Kind::Decimal { precision, scale, .. } => {
                    format!("FIXED_LEN_BYTE_ARRAY(16) {} (DECIMAL({precision},{scale}))", c.name)
                }
            };
            format!("  {repetition} {ty};\n")
        })
        .collect();
    format!("message {} {{\n{fields}}}", R::NAME)
}

fn bad(column: &str, value: &str) -> ExportError {
    ExportError::Value(format!("column {column}: cannot encode {value:?}"))
}

/// The unscaled integer of a decimal at a fixed scale (rounded half-even
/// beyond it: only multipliers may carry more than 18 decimals).
fn unscaled(column: &str, raw: &str, scale: u32) -> Result<i128, ExportError> {
    let mut value: Decimal = raw.parse().map_err(|_| bad(column, raw))?;
    value = value.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointNearestEven);
    let mantissa = value.mantissa();
    let shift = scale.checked_sub(value.scale()).ok_or_else(|| bad(column, raw))?;
    mantissa.checked_mul(10i128.checked_pow(shift).ok_or_else(|| bad(column, raw))?).ok_or_else(|| bad(column, raw))
}

fn definition_levels<T>(values: &[Option<T>]) -> Vec<i16> {
    values.iter().map(|v| i16::from(v.is_some())).collect()
}

fn write_column<R>(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    c: &Column<R>,
    rows: &[R],
) -> Result<(), ExportError> {
    // Required columns take no definition levels; optional ones one per row.
    macro_rules! put {
        ($ty:ty, $values:expr) => {{
            let values: Vec<Option<_>> = $values;
            let levels = (!c.required).then(|| definition_levels(&values));
            let present: Vec<_> = values.into_iter().flatten().collect();
            column.typed::<$ty>().write_batch(&present, levels.as_deref(), None)?;
        }};
    }
    match &c.kind {
        Kind::Text(get) => put!(ByteArrayType, rows.iter().map(|r| get(r).map(ByteArray::from)).collect()),
        Kind::Int64(get) => put!(Int64Type, rows.iter().map(get).collect()),
        Kind::Bool(get) => put!(BoolType, rows.iter().map(|r| Some(get(r))).collect()),
        Kind::Instant(get) => put!(
            Int64Type,
            rows.iter()
                .map(|r| {
                    let text = get(r);
                    text.parse::<jiff::Timestamp>().map(|t| Some(t.as_millisecond())).map_err(|_| bad(c.name, text))
                })
                .collect::<Result<_, _>>()?
        ),
        Kind::Day(get) => put!(
            Int32Type,
            rows.iter()
                .map(|r| {
                    let text = get(r);
                    let day: jiff::civil::Date = text.parse().map_err(|_| bad(c.name, text))?;
                    let epoch = jiff::civil::date(1970, 1, 1);
                    Ok(Some((day - epoch).get_days()))
                })
                .collect::<Result<_, ExportError>>()?
        ),
        Kind::Decimal { get, precision, scale } if *precision <= 18 => put!(
            Int64Type,
            rows.iter()
                .map(|r| {
                    get(r)
                        .map(|text| {
                            let v = unscaled(c.name, text, *scale)?;
                            i64::try_from(v).map_err(|_| bad(c.name, text))
                        })
                        .transpose()
                })
                .collect::<Result<_, _>>()?
        ),
        Kind::Decimal { get, scale, .. } => put!(
            FixedLenByteArrayType,
            rows.iter()
                .map(|r| {
                    get(r)
                        .map(|text| {
                            let v = unscaled(c.name, text, *scale)?;
                            Ok(FixedLenByteArray::from(v.to_be_bytes().to_vec()))
                        })
                        .transpose()
                })
                .collect::<Result<_, ExportError>>()?
        ),
    }
    Ok(())
}

fn parquet_rows<R: Table>(next: &mut Next<'_, R>, out: impl Write + Send) -> Result<u64, ExportError> {
    let schema = Arc::new(parse_message_type(&schema::<R>())?);
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let mut writer = SerializedFileWriter::new(out, schema, props)?;
    let mut group: Vec<R> = Vec::with_capacity(ROW_GROUP);
    let mut written = 0u64;
    let mut flush = |writer: &mut SerializedFileWriter<_>, group: &mut Vec<R>| -> Result<(), ExportError> {
        if group.is_empty() {
            return Ok(());
        }
        let mut row_group = writer.next_row_group()?;
        let mut columns = R::COLUMNS.iter();
        while let Some(mut column) = row_group.next_column()? {
            let c = columns.next().ok_or_else(|| ExportError::Value("schema and columns differ".into()))?;
            write_column(&mut column, c, group)?;
            column.close()?;
        }
        row_group.close()?;
        written += group.len() as u64;
        group.clear();
        Ok(())
    };
    while let Some(chunk) = next()? {
        group.extend(chunk);
        if group.len() >= ROW_GROUP {
            flush(&mut writer, &mut group)?;
        }
    }
    flush(&mut writer, &mut group)?;
    writer.close()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_unscaled_integers() {
        assert_eq!(unscaled("x", "48.00", 2).unwrap(), 4800);
        assert_eq!(unscaled("x", "-7.7", 9).unwrap(), -7_700_000_000);
        assert_eq!(unscaled("x", "0.0067", 18).unwrap(), 6_700_000_000_000_000);
        assert_eq!(unscaled("x", "1150", 9).unwrap(), 1_150_000_000_000);
        assert!(unscaled("x", "abc", 2).is_err());
    }

    #[test]
    fn the_schema_parses_and_follows_the_spec_order() {
        let schema = parse_message_type(&schema::<ExportRow>()).unwrap();
        let names: Vec<_> = schema.get_fields().iter().map(|f| f.name().to_owned()).collect();
        assert_eq!(names.first().map(String::as_str), Some("company_id"));
        assert_eq!(names.last().map(String::as_str), Some("refunded_usd"));
        assert_eq!(names.len(), 23);
        let exposures = parse_message_type(&super::schema::<ExposureRow>()).unwrap();
        assert_eq!(exposures.get_fields().len(), ExposureRow::COLUMNS.len());
    }
}
