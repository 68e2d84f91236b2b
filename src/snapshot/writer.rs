//! The background task that owns writes to the snapshot file.
//!
//! Callers hand it encoded bytes with [`SnapshotWriter::offer`], which never blocks; the task
//! writes the newest bytes at most once per [`MIN_INTERVAL`], so a burst of cluster changes costs
//! one write, not one per change. Writes run in `spawn_blocking` through
//! [`write_atomic`](super::store::write_atomic), one at a time.
//!
//! A failed write never stops serving: it is counted, kept for `/status`, logged once when writing
//! starts failing and once when it works again, and the same bytes (or newer ones) are retried
//! with a growing delay up to [`MAX_RETRY_DELAY`]. The task never encodes anything and never reads
//! the file.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task;
use tokio::time::{self, Instant};

use super::store;

/// The shortest time between the starts of two writes (a flush does not wait for it).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest wait before retrying after failed writes (the wait doubles from
/// [`MIN_INTERVAL`]).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// What the writer has done, for `/status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterStats {
    pub path: PathBuf,
    /// When the file now on disk was written (by this writer, or the restored file's mtime).
    pub last_written: Option<SystemTime>,
    /// Size of the file now on disk.
    pub size_bytes: Option<u64>,
    /// Successful writes by this writer.
    pub writes: u64,
    /// Failed writes by this writer, retries included.
    pub write_errors: u64,
    /// The last write's error; `None` once a write succeeds.
    pub last_error: Option<String>,
}

/// A handle to the writer task. Clones share the task; when the last handle is dropped the task
/// writes what is pending and stops.
#[derive(Clone)]
pub struct SnapshotWriter {
    shared: Arc<Shared>,
    flushes: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

struct Shared {
    path: PathBuf,
    /// The newest offered bytes not yet handed to a write.
    pending: Mutex<Option<Vec<u8>>>,
    offered: Notify,
    stats: Mutex<WriterStats>,
}

impl SnapshotWriter {
    /// Starts the writer task for `path`, with no file on disk yet. Call it inside a Tokio
    /// runtime.
    pub fn start(path: PathBuf) -> SnapshotWriter {
        SnapshotWriter::start_with(path, None)
    }

    /// Starts the writer task for `path`; `restored` is the modification time and size of the
    /// file already there (from [`LoadOutcome::Restored`](super::store::LoadOutcome)), so that
    /// the stats describe it until the first write.
    pub fn start_with(path: PathBuf, restored: Option<(SystemTime, u64)>) -> SnapshotWriter {
        let shared = Arc::new(Shared {
            path: path.clone(),
            pending: Mutex::new(None),
            offered: Notify::new(),
            stats: Mutex::new(WriterStats {
                path,
                last_written: restored.map(|(modified, _)| modified),
                size_bytes: restored.map(|(_, size)| size),
                writes: 0,
                write_errors: 0,
                last_error: None,
            }),
        });
        let (flushes, requests) = mpsc::unbounded_channel();
        tokio::spawn(run(shared.clone(), requests));
        SnapshotWriter { shared, flushes }
    }

    /// Queues `bytes` (a whole encoded snapshot) to be written; they replace any bytes offered
    /// before and not yet written. Never blocks.
    pub fn offer(&self, bytes: Vec<u8>) {
        *lock(&self.shared.pending) = Some(bytes);
        self.shared.offered.notify_one();
    }

    /// Writes the pending bytes now, without waiting for the interval, and returns when that is
    /// done (after the write in progress, if any). For shutdown; the outcome is in [`stats`].
    ///
    /// [`stats`]: SnapshotWriter::stats
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.flushes.send(done).is_ok() {
            // An error means the task is gone (the runtime is shutting down): nothing to wait for.
            let _ = wait.await;
        }
    }

    pub fn stats(&self) -> WriterStats {
        lock(&self.shared.stats).clone()
    }
}

/// Locks a mutex that nothing can leave inconsistent (every critical section is a plain
/// assignment), so a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn run(shared: Arc<Shared>, mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>) {
    let mut not_before = Instant::now();
    let mut failures: u32 = 0;
    loop {
        let flush = tokio::select! {
            biased;
            request = flushes.recv() => match request {
                Some(done) => Some(done),
                None => break,
            },
            () = shared.offered.notified() => tokio::select! {
                // Wait out the interval (or the retry delay); a flush cuts it short.
                biased;
                request = flushes.recv() => match request {
                    Some(done) => Some(done),
                    None => break,
                },
                () = time::sleep_until(not_before) => None,
            },
        };
        let pending = lock(&shared.pending).take();
        if let Some(bytes) = pending {
            let written = write(&shared, bytes, &mut failures).await;
            not_before = Instant::now()
                + if written {
                    MIN_INTERVAL
                } else {
                    retry_delay(failures)
                };
        }
        if let Some(done) = flush {
            let _ = done.send(());
        }
    }
    // Every handle is gone: write what is pending, once.
    let pending = lock(&shared.pending).take();
    if let Some(bytes) = pending {
        write(&shared, bytes, &mut failures).await;
    }
}

/// One write; returns whether it succeeded. On failure the bytes go back to pending unless newer
/// ones were offered meanwhile, and the task is woken to retry them.
async fn write(shared: &Shared, bytes: Vec<u8>, failures: &mut u32) -> bool {
    let path = shared.path.clone();
    let size = bytes.len() as u64;
    let outcome = task::spawn_blocking(move || {
        let result = store::write_atomic(&path, &bytes);
        (bytes, result)
    })
    .await;
    let (bytes, result) = match outcome {
        Ok((bytes, result)) => (Some(bytes), result.map_err(|e| e.to_string())),
        Err(e) => (
            None,
            Err(format!(
                "writing snapshot {}: the write task failed: {e}",
                shared.path.display()
            )),
        ),
    };

    let mut stats = lock(&shared.stats);
    match result {
        Ok(()) => {
            if *failures > 0 {
                tracing::info!(
                    path = %shared.path.display(),
                    failed_attempts = *failures,
                    "snapshot written again after failed attempts"
                );
            }
            *failures = 0;
            stats.writes += 1;
            stats.last_written = Some(SystemTime::now());
            stats.size_bytes = Some(size);
            stats.last_error = None;
            true
        }
        Err(error) => {
            if *failures == 0 {
                tracing::warn!(
                    "{error}; serving goes on; retrying at least every {} s (logged again only \
                     when a write succeeds)",
                    MAX_RETRY_DELAY.as_secs()
                );
            }
            *failures = failures.saturating_add(1);
            stats.write_errors += 1;
            stats.last_error = Some(error);
            drop(stats);
            if let Some(bytes) = bytes {
                lock(&shared.pending).get_or_insert(bytes);
                shared.offered.notify_one();
            }
            false
        }
    }
}

/// 1 s, 2 s, 4 s, … after the 1st, 2nd, 3rd failure in a row, up to [`MAX_RETRY_DELAY`].
fn retry_delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (MIN_INTERVAL * 2u32.pow(doublings)).min(MAX_RETRY_DELAY)
}
