//! Running Cairn: how the parts are wired for each way of getting cluster state. `main.rs`
//! parses the command line and calls in here; the parts themselves (server, sources,
//! snapshot, failover) know nothing of each other.

pub mod api;
pub mod dump;
pub mod keeper;
pub mod nodelocal;

use std::time::Duration;

use crate::server::RunningServer;
use crate::snapshot::SnapshotWriter;
use crate::source::kubernetes::Source;

/// Longest a shutdown waits for the last snapshot write (a hung disk must not hold the exit).
pub const SNAPSHOT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A serving Cairn and what must be saved when it stops.
pub struct Running {
    pub server: RunningServer,
    /// The API source, when serving from the API.
    pub source: Option<Source>,
    pub snapshot: Option<SnapshotWriter>,
}

impl Running {
    /// Keeps the current state in the snapshot and waits for it to be written (bounded).
    pub async fn save(&self) {
        let Some(writer) = &self.snapshot else {
            return;
        };
        if let Some(source) = &self.source {
            source.keep_now().await;
        }
        match tokio::time::timeout(SNAPSHOT_FLUSH_TIMEOUT, writer.flush()).await {
            Ok(()) => {
                let stats = writer.stats();
                match stats.last_error {
                    None => tracing::info!(snapshot = %stats.path.display(), "snapshot saved"),
                    Some(err) => {
                        tracing::warn!(snapshot = %stats.path.display(), %err, "snapshot not saved")
                    }
                }
            }
            Err(_) => tracing::warn!(
                timeout = ?SNAPSHOT_FLUSH_TIMEOUT,
                "the snapshot write did not finish in time; exiting anyway"
            ),
        }
    }
}
