//! The reporting table export on PostgreSQL: a repeatable-read snapshot
//! streamed in chunks (the other reports are `sql::reports`' flows).

use futures_util::{StreamExt, pin_mut};
use revtrace_core::report::DayRange;
use tokio::sync::mpsc;

use super::settings;
use crate::{
    StoreError,
    model::{CompanyId, ExportRow},
    sql::reports,
};

/// Streams the reporting table rows of a day range, in time order, in
/// chunks of `chunk` rows, from one snapshot (a repeatable-read transaction);
/// a closed channel (the client went away) stops the scan.
pub(super) async fn export(
    client: &mut deadpool_postgres::Object,
    company: &CompanyId,
    range: &DayRange,
    chunk: usize,
    sink: &mpsc::Sender<Result<Vec<ExportRow>, StoreError>>,
) -> Result<(), StoreError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let settings = settings::company_settings(&tx, company).await?;
    let args = reports::export_args(company, &settings.timezone, range);
    let rows = tx.query_raw(reports::EXPORT, args.iter()).await?;
    pin_mut!(rows);
    let mut batch = Vec::with_capacity(chunk);
    while let Some(r) = rows.next().await {
        let r = r?;
        batch.push(reports::export_row(&r)?);
        if batch.len() >= chunk
            && sink.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(chunk)))).await.is_err()
        {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        let _ = sink.send(Ok(batch)).await;
    }
    Ok(())
}
