//! Durability off the writer's critical path.
//!
//! The writer commits with `synchronous = NORMAL`: the batch's frames are
//! written to the WAL but not flushed. It then hands the batch's answers here
//! and starts on the next batch, while this thread flushes the WAL file once
//! for everything committed so far and only then answers the callers. CPU work
//! and disk flushes overlap, several batches can share one fsync, and an answer
//! still never leaves before its data is on disk. (Checkpoints flush the WAL
//! before copying it and the database file after, so a WAL restart never
//! drops flushed data either.)

use std::{
    fs::{File, OpenOptions},
    io,
    path::{Path, PathBuf},
    sync::mpsc,
};

use tokio::sync::oneshot;

use super::writer::Reply;
use crate::StoreError;

/// What one committed batch owes its callers.
pub(super) type Answers = Vec<(oneshot::Sender<Result<Reply, StoreError>>, Result<Reply, StoreError>)>;

pub(super) fn spawn(database: &Path) -> io::Result<mpsc::Sender<Answers>> {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let (sender, committed) = mpsc::channel::<Answers>();
    std::thread::Builder::new().name("revtrace-sqlite-sync".into()).spawn(move || {
        let mut file: Option<File> = None;
        while let Ok(first) = committed.recv() {
            let mut ready = vec![first];
            ready.extend(committed.try_iter());
            let flushed = flush(&mut file, &wal);
            metrics::histogram!("revtrace_fsync_batches").record(ready.len() as f64);
            if let Err(error) = &flushed {
                tracing::error!(%error, "cannot flush the WAL; the calls of these batches are refused");
            }
            for (reply, result) in ready.into_iter().flatten() {
                let answer = match &flushed {
                    Ok(()) => result,
                    Err(error) => Err(StoreError::commit_failed(format!("cannot flush the WAL: {error}"))),
                };
                let _ = reply.send(answer);
            }
        }
    })?;
    Ok(sender)
}

/// fsync of any descriptor of the file flushes all of its written pages.
fn flush(file: &mut Option<File>, wal: &Path) -> io::Result<()> {
    if file.is_none() {
        *file = Some(OpenOptions::new().read(true).write(true).open(wal)?);
    }
    match file {
        Some(f) => f.sync_data(),
        None => Ok(()),
    }
}
