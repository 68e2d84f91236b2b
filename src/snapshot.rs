//! The last-known cluster state on disk, so that a restarted Cairn answers at once, even while
//! the Kubernetes API is unreachable.
//!
//! It owns the snapshot's byte format ([`format`]), the file ([`store`]) and the task that keeps
//! the file up to date ([`writer`]). It does not decide what to serve: the caller restores the
//! state it gets from [`load`], encodes the state it serves and offers it to a [`SnapshotWriter`].
//!
//! **Format.** An 8-byte magic (`CAIRNSNP`), a `u16` format version, a CRC-32 of the payload and
//! the payload's length, then the payload: a [`Snapshot`] (when it was written, the API server
//! addresses Cairn had learned, and the slim `ClusterState`) in postcard, a compact serde
//! encoding with varint integers (10k Services and 100k endpoints take about 4.7 MB; see the size
//! test). The version must be bumped with any change to the encoded types; a file of another
//! version is treated like a corrupt one.
//!
//! **Atomic replacement.** A crash or power loss in the middle of a write must not leave a torn
//! file that would be served after the restart, so every write goes to a temporary file in the
//! same directory, is fsynced, and is renamed over the old file (rename within a directory is
//! atomic), and then the directory is fsynced so the rename itself survives. A reader sees the
//! old snapshot or the new one, never a mix.
//!
//! **Coalescing.** The state can change many times a second during a rollout; writing megabytes
//! on each change would wear the disk and compete with serving for I/O. The writer keeps only the
//! newest offered bytes and writes at most once per second, so the file lags the served state
//! by at most about a second (and [`SnapshotWriter::flush`] writes at shutdown).
//!
//! **A bad file.** A file that is truncated, fails its checksum, does not decode, has another
//! format version, or is not a readable file is never served. [`load`] logs it with the reason,
//! renames it to `<path>.bad-<unix-seconds>` (kept for inspection; the next write then starts
//! clean) and reports [`LoadOutcome::SetAside`], so Cairn starts as if there were no snapshot.
//! A failed write is logged once, shown in [`WriterStats`] and retried; serving goes on.

pub mod format;
pub mod store;
pub mod writer;

#[cfg(test)]
mod tests;

pub use format::{decode, encode, FormatError, Snapshot, SnapshotRef, FORMAT_VERSION};
pub use store::{load, write_atomic, LoadOutcome};
pub use writer::{SnapshotWriter, WriterStats};
