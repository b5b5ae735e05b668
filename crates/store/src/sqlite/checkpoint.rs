//! Background WAL checkpoints. SQLite's automatic checkpoint runs inside the
//! committing connection, which would stall the single writer and every call
//! queued behind it; here a companion thread copies the WAL back into the
//! database with PASSIVE checkpoints, which never block the writer.

use std::{path::Path, sync::mpsc, time::Duration};

use rusqlite::Connection;

use crate::StoreError;

/// Often, so that the frames the writer must still copy when it completes a
/// checkpoint (its stall, and the ingest p99) stay few: 100 ms gave a p99 of
/// 24 ms in bench/ingest, 10 ms gives 18 ms.
const EVERY: Duration = Duration::from_millis(10);

/// Starts the thread; it stops when the returned sender is dropped.
pub(super) fn spawn(path: &Path) -> Result<mpsc::Sender<()>, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(1))?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("revtrace-sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(%error, "WAL checkpoint failed; it will be retried");
                }
            }
        })
        .map_err(StoreError::thread)?;
    Ok(stop)
}
