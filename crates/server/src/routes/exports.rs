//! The reporting table export, streamed as it is read.

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio::sync::mpsc;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    export::{self, Format},
    routes::reports::ReportRequest,
};

/// The body is handed to the client in pieces of about this size.
const PIECE: usize = 64 * 1024;

/// A `Write` that sends what it is given to the response body.
struct BodyWriter {
    buffer: Vec<u8>,
    body: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl BodyWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let piece = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(PIECE)));
        // The client went away: stop reading the table.
        self.body.blocking_send(Ok(piece)).map_err(|_| std::io::Error::other("the client closed the connection"))
    }
}

impl std::io::Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() { Ok(()) } else { self.send() }
    }
}

/// The export's query: the report's day range, and a format.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is by hand for JSON errors
pub struct ExportParams {
    /// First reporting day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last reporting day, inclusive (default: today in the company's time zone).
    to: Option<String>,
    /// `ndjson` (default), `csv` or `parquet`.
    format: Option<String>,
}

/// The reporting table (SPEC §9): one row per commerce event of the range,
/// attributed or not, test orders included (flagged), in time order.
/// Loadable as is into BigQuery, ClickHouse or DuckDB.
#[utoipa::path(get, path = "/v1/export/revenue-impact", tag = "reports", params(ExportParams),
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "the table, streamed", content(
            (String = "application/x-ndjson"), (String = "text/csv"), (Vec<u8> = "application/vnd.apache.parquet"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revenue_impact_export(
    State(state): State<AppState>,
    request: ReportRequest,
) -> Result<Response, ApiError> {
    let request = request.taking(&["format"])?;
    let format = match request.params.get("format").map(String::as_str) {
        None => Format::Ndjson,
        Some(raw) => {
            Format::parse(raw).ok_or_else(|| ApiError::invalid_field("format", "format is ndjson, csv or parquet"))?
        }
    };
    let range = request.query.range;
    let rows = state.store.export(&request.company, range);
    let (body, pieces) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut out = BodyWriter { buffer: Vec::with_capacity(PIECE), body: body.clone() };
        if let Err(error) = export::write(format, rows, &mut out).and_then(|_| Ok(std::io::Write::flush(&mut out)?)) {
            // Headers are gone already: a broken body tells the client.
            tracing::warn!(%error, "export stopped");
            let _ = body.blocking_send(Err(std::io::Error::other(error.to_string())));
        }
    });
    let stream =
        futures_util::stream::unfold(
            pieces,
            |mut pieces| async move { pieces.recv().await.map(|piece| (piece, pieces)) },
        );
    let filename = format!("revenue-impact-{}-{}.{}", range.from, range.to, format.extension());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsed by hand for JSON errors
pub struct ExposureParams {
    /// The experiment's key.
    experiment: String,
    /// `ndjson` (default), `csv` or `parquet`.
    format: Option<String>,
}

/// One experiment's exposures: each visitor's arm, when it was first
/// exposed, and the outcome revtrace keeps for it (net revenue uncapped), so
/// a data team can join them with the reporting table and redo the analysis.
#[utoipa::path(get, path = "/v1/export/exposures", tag = "experiments", params(ExposureParams),
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "the exposures", content(
            (String = "application/x-ndjson"), (String = "text/csv"), (Vec<u8> = "application/vnd.apache.parquet"))),
        (status = 400, description = "malformed query string", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn exposures_export(
    State(state): State<AppState>,
    crate::extract::SecretKey(principal): crate::extract::SecretKey,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let params = crate::extract::query(&uri)?;
    crate::extract::refuse_unknown(&params, &["experiment", "format"])?;
    let key = params.get("experiment").ok_or_else(|| ApiError::invalid_field("experiment", "name the experiment"))?;
    let format = match params.get("format").map(String::as_str) {
        None => Format::Ndjson,
        Some(raw) => {
            Format::parse(raw).ok_or_else(|| ApiError::invalid_field("format", "format is ndjson, csv or parquet"))?
        }
    };
    let missing = || ApiError::not_found(format!("no experiment {key:?} in this company"));
    if !revtrace_core::experiment::is_slug(key) {
        return Err(missing());
    }
    let rows = state.store.exposures(&principal.company_id, key).await?.ok_or_else(missing)?;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut chunks = Some(rows);
        let mut next = move || Ok(chunks.take());
        export::write_table(format, &mut next, &mut out).map(|_| out)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|error| {
        tracing::error!(%error, "exposures export failed");
        ApiError::internal()
    })?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"exposures-{key}.{}\"", format.extension()))
            .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
