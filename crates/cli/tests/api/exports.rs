//! The reporting table export: NDJSON, CSV and Parquet over HTTP and from
//! `revtrace export`, all holding the same rows.

use std::str::FromStr;

use parquet::{
    file::reader::{FileReader, SerializedFileReader},
    record::Field,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{helpers::*, reports::fixture};

const RANGE: &str = "from=2026-03-07&to=2026-03-09";
const COLUMNS: [&str; 23] = [
    "company_id",
    "event_id",
    "occurred_at",
    "day",
    "cart_type",
    "source_category",
    "message_source",
    "ticket_id",
    "ai_profile_id",
    "user_fingerprint",
    "event_type",
    "product_id",
    "variant_id",
    "quantity_signed",
    "order_id",
    "cart_value",
    "currency",
    "currency_multiplier",
    "usd_cart_value",
    "attributed",
    "reason",
    "is_test",
    "refunded_usd",
];
const DECIMALS: [&str; 4] = ["cart_value", "currency_multiplier", "usd_cart_value", "refunded_usd"];

fn ndjson(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// One comparable text per cell: decimals normalized, instants as epoch
/// milliseconds and days as days since 1970 (Parquet's own encodings).
fn normalized_json(row: &Value) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|name| match &row[*name] {
            Value::Null => "null".to_owned(),
            Value::String(s) if DECIMALS.contains(name) => Decimal::from_str(s).unwrap().normalize().to_string(),
            Value::String(s) if *name == "occurred_at" => {
                s.parse::<jiff::Timestamp>().unwrap().as_millisecond().to_string()
            }
            Value::String(s) if *name == "day" => {
                let day: jiff::civil::Date = s.parse().unwrap();
                (day - jiff::civil::date(1970, 1, 1)).get_days().to_string()
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn normalized_parquet(row: &parquet::record::Row) -> Vec<String> {
    let fields: Vec<(&String, &Field)> = row.get_column_iter().collect();
    assert_eq!(fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), COLUMNS);
    fields
        .into_iter()
        .map(|(_, field)| match field {
            Field::Null => "null".to_owned(),
            Field::Str(s) => s.clone(),
            Field::Long(v) => v.to_string(),
            Field::Bool(v) => v.to_string(),
            Field::TimestampMillis(v) => v.to_string(),
            Field::Date(v) => v.to_string(),
            Field::Decimal(_) => Decimal::from_str(&field.to_string()).unwrap().normalize().to_string(),
            other => panic!("unexpected Parquet field {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn ndjson_holds_one_row_per_event_of_the_range_in_time_order() {
    let Some(app) = fixture().await else { return };
    let (status, content_type, body) = app.export_bytes(RANGE).await;
    assert_eq!((status, content_type.as_str()), (200, "application/x-ndjson"));
    let rows = ndjson(&body);
    assert_eq!(rows.len(), 10, "the previous period's two events are outside the range");
    let first_line = String::from_utf8_lossy(&body).lines().next().unwrap().to_owned();
    let positions: Vec<usize> = COLUMNS.iter().map(|c| first_line.find(&format!("\"{c}\":")).unwrap()).collect();
    assert!(positions.is_sorted(), "SPEC §9 columns, in order: {first_line}");
    assert!(rows.iter().all(|r| r.as_object().unwrap().len() == COLUMNS.len()));
    let times: Vec<i64> = rows
        .iter()
        .map(|r| r["occurred_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap().as_millisecond())
        .collect();
    assert!(times.is_sorted());
    let euro = rows.iter().find(|r| r["order_id"] == "B-1").unwrap();
    assert_eq!(
        euro,
        &json!({"company_id": app.company_id, "event_id": euro["event_id"], "occurred_at": "2026-03-08T07:30:00Z",
                "day": "2026-03-08", "cart_type": "CHECKOUT", "source_category": "SDK", "message_source": "FAQ",
                "ticket_id": "T-FAQ", "ai_profile_id": "faq-bot", "user_fingerprint": "FP-B", "event_type": null,
                "product_id": null, "variant_id": null, "quantity_signed": null, "order_id": "B-1",
                "cart_value": "100.00", "currency": "EUR", "currency_multiplier": "1.1", "usd_cart_value": "110.00",
                "attributed": true, "reason": "ATTRIBUTED", "is_test": false, "refunded_usd": "11.00"})
    );
    let decrease = rows.iter().find(|r| r["event_type"] == "QUANTITY_DECREASED").unwrap();
    assert_eq!(
        (&decrease["quantity_signed"], &decrease["cart_value"], &decrease["usd_cart_value"]),
        (&json!(-1), &json!("-24.00"), &json!("-24.00"))
    );
    let pound = rows.iter().find(|r| r["currency"] == "GBP").unwrap();
    assert_eq!((&pound["currency_multiplier"], &pound["usd_cart_value"]), (&Value::Null, &Value::Null));
    let test_order = rows.iter().find(|r| r["order_id"] == "A-T").unwrap();
    assert_eq!(test_order["is_test"], true, "test orders are exported, flagged");
}

#[tokio::test]
async fn csv_and_parquet_hold_the_same_rows_as_ndjson() {
    let Some(app) = fixture().await else { return };
    let (_, _, body) = app.export_bytes(RANGE).await;
    let expected: Vec<Vec<String>> = ndjson(&body).iter().map(normalized_json).collect();

    let (status, content_type, csv_bytes) = app.export_bytes(&format!("{RANGE}&format=csv")).await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
    let from_csv: Vec<Vec<String>> = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let row: serde_json::Map<String, Value> = COLUMNS
                .iter()
                .zip(record.iter())
                .map(|(name, cell)| {
                    let value = match (*name, cell) {
                        (_, "") => Value::Null,
                        ("quantity_signed", n) => json!(n.parse::<i64>().unwrap()),
                        ("attributed" | "is_test", b) => json!(b == "true"),
                        (_, text) => json!(text),
                    };
                    ((*name).to_owned(), value)
                })
                .collect();
            normalized_json(&Value::Object(row))
        })
        .collect();
    assert_eq!(from_csv, expected);

    let (status, content_type, parquet_bytes) = app.export_bytes(&format!("{RANGE}&format=parquet")).await;
    assert_eq!((status, content_type.as_str()), (200, "application/vnd.apache.parquet"));
    let reader = SerializedFileReader::new(bytes::Bytes::from(parquet_bytes)).expect("a Parquet file");
    let from_parquet: Vec<Vec<String>> =
        reader.get_row_iter(None).unwrap().map(|row| normalized_parquet(&row.unwrap())).collect();
    assert_eq!(from_parquet, expected);
}

#[tokio::test]
async fn the_cli_writes_the_same_table_to_a_file() {
    let Some(app) = fixture().await else { return };
    let dir = tempfile::tempdir().unwrap();
    for format in ["ndjson", "csv", "parquet"] {
        let path = dir.path().join(format!("table.{format}"));
        let out = app.cli(&[
            "export",
            "--company",
            &app.company_id,
            "--from",
            "2026-03-07",
            "--to",
            "2026-03-09",
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("10 rows written"), "{out:?}");
        let written = std::fs::read(&path).unwrap();
        if format != "parquet" {
            let (_, _, over_http) = app.export_bytes(&format!("{RANGE}&format={format}")).await;
            assert_eq!(written, over_http, "{format}");
        } else {
            let reader = SerializedFileReader::new(bytes::Bytes::from(written)).unwrap();
            assert_eq!(reader.metadata().file_metadata().num_rows(), 10);
        }
    }
    let bad = app.cli(&["export", "--company", "co_nope", "--from", "2026-03-07", "--to", "2026-03-09", "--out", "x"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.trim().starts_with("revtrace: no company co_nope in "), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[tokio::test]
async fn an_empty_range_is_an_empty_table_with_a_header() {
    let Some(app) = spawn_app().await else { return };
    let (status, _, body) = app.export_bytes("from=2026-01-01&to=2026-01-02&format=csv").await;
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8(body).unwrap().trim(), COLUMNS.join(","));
    let (_, _, body) = app.export_bytes("from=2026-01-01&to=2026-01-02").await;
    assert!(body.is_empty());
    let (_, _, body) = app.export_bytes("from=2026-01-01&to=2026-01-02&format=parquet").await;
    let reader = SerializedFileReader::new(bytes::Bytes::from(body)).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
}
