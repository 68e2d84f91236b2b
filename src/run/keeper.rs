//! Keeping the served state in the snapshot: the bridge between the Kubernetes source (which
//! owns the state) and the snapshot writer (which owns the file). Encodes on the source's task
//! (at most once a second, see `source::kubernetes::KEEP_INTERVAL`) and hands the bytes over;
//! the file I/O happens on the writer's task.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::cluster::model::ClusterState;
use crate::snapshot::{encode, SnapshotRef, SnapshotWriter};
use crate::source::kubernetes::failover::Failover;
use crate::source::kubernetes::Keeper;

/// Writes the state and the learned API server addresses to the snapshot.
pub struct SnapshotKeeper {
    pub writer: SnapshotWriter,
    pub failover: Failover,
    /// The learned addresses in the last snapshot offered.
    pub kept_learned: Vec<String>,
}

impl Keeper for SnapshotKeeper {
    fn keep(&mut self, state: &ClusterState) {
        let learned = self.failover.learned();
        let written_at_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let bytes = encode(&SnapshotRef {
            written_at_unix_ms,
            api_endpoints: &learned,
            state,
        });
        self.writer.offer(bytes);
        self.kept_learned = learned;
    }

    fn wants_keeping(&mut self) -> bool {
        self.failover.learned() != self.kept_learned
    }
}
