//! The snapshot file: reading it at start-up, setting a bad one aside, and replacing it
//! atomically.
//!
//! Blocking `std::fs` calls only: async callers run these in `spawn_blocking` (the writer does).
//! It owns no schedule and no state; [`super::writer`] decides when to write.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::format::{self, Snapshot};

/// What [`load`] found at the snapshot path.
#[derive(Debug)]
pub enum LoadOutcome {
    /// No file: the normal first start.
    Missing,
    /// A good snapshot.
    Restored {
        snapshot: Snapshot,
        size_bytes: u64,
        /// The file's modification time (when it was last written).
        modified: SystemTime,
    },
    /// Something was at the path but could not be used; it was logged and moved out of the way so
    /// the next write starts clean.
    SetAside {
        /// Why it was not used and, when renaming failed, that too.
        reason: String,
        /// Where it was moved; `None` when the rename failed (the thing is still at the path).
        moved_to: Option<PathBuf>,
    },
}

/// Reads the snapshot at `path`. A file that is corrupt, truncated, of another format version or
/// not a readable file is never used: it is logged (`warn`) and renamed to
/// `<path>.bad-<unix-seconds>`.
pub fn load(path: &Path) -> LoadOutcome {
    match read(path) {
        Ok(None) => LoadOutcome::Missing,
        Ok(Some(Contents { bytes, modified })) => match format::decode(&bytes) {
            Ok(snapshot) => {
                let modified = modified.unwrap_or_else(|| {
                    UNIX_EPOCH + Duration::from_millis(snapshot.written_at_unix_ms)
                });
                LoadOutcome::Restored {
                    snapshot,
                    size_bytes: bytes.len() as u64,
                    modified,
                }
            }
            Err(e) => set_aside(path, e.to_string()),
        },
        Err(reason) => set_aside(path, reason),
    }
}

/// What [`read`] found at the path.
struct Contents {
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
}

/// The file's bytes and modification time; `None` when nothing is at `path`.
fn read(path: &Path) -> Result<Option<Contents>, String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open: {e}")),
    };
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(format!("{what} is in the way of the snapshot file"));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(Some(Contents {
        bytes,
        modified: meta.modified().ok(),
    }))
}

fn set_aside(path: &Path, reason: String) -> LoadOutcome {
    let target = aside_path(path);
    match fs::rename(path, &target) {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                moved_to = %target.display(),
                "snapshot not used: {reason}; moved it aside"
            );
            LoadOutcome::SetAside {
                reason,
                moved_to: Some(target),
            }
        }
        Err(e) => {
            let reason = format!(
                "{reason}; moving it aside to {} failed: {e}",
                target.display()
            );
            tracing::warn!(path = %path.display(), "snapshot not used: {reason}");
            LoadOutcome::SetAside {
                reason,
                moved_to: None,
            }
        }
    }
}

/// `<path>.bad-<unix-seconds>`, with `-1`, `-2`, … added if that name is taken.
fn aside_path(path: &Path) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = with_suffix(path, &format!(".bad-{secs}"));
    let mut candidate = base.clone();
    let mut n = 0;
    while candidate.symlink_metadata().is_ok() && n < 1000 {
        n += 1;
        candidate = with_suffix(&base, &format!("-{n}"));
    }
    candidate
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Replaces the file at `path` with `bytes` so that a crash leaves either the old file or the new
/// one, never a mix: write a temporary file in the same directory, fsync it, rename it over
/// `path`, fsync the directory. On error the temporary file is removed and the error names
/// `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let named = |what: &str, e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("writing snapshot {}: {what}: {e}", path.display()),
        )
    };
    let Some(name) = path.file_name() else {
        return Err(named(
            "the path has no file name",
            io::ErrorKind::InvalidInput.into(),
        ));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    // The PID alone is not unique: it is 1 in every container, and two replicas on one node may
    // share a hostPath snapshot directory.
    tmp_name.push(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let tmp = dir.join(tmp_name);

    let written = write_file(&tmp, bytes)
        .map_err(|(step, e)| {
            named(
                &format!("cannot {step} the temporary file {}", tmp.display()),
                e,
            )
        })
        .and_then(|()| {
            fs::rename(&tmp, path).map_err(|e| named("cannot rename the temporary file over it", e))
        });
    if let Err(e) = written {
        // Nothing more to do if this fails too: the file was never created, or the directory is
        // gone.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is only durable once the directory entry is on disk.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| named("cannot sync the directory", e))
}

/// Writes and syncs the temporary file; the error says which step failed.
fn write_file(tmp: &Path, bytes: &[u8]) -> Result<(), (&'static str, io::Error)> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(|e| ("create", e))?;
    file.write_all(bytes).map_err(|e| ("write", e))?;
    file.sync_all().map_err(|e| ("sync", e))
}
