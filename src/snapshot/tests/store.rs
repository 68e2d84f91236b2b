//! The snapshot on disk: loading (a corrupt or foreign file is set aside, never trusted),
//! atomic writes, and the writer task.

use super::*;

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn set_aside_files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("snapshot.bin.bad-"))
        .collect();
    found.sort();
    found
}

#[test]
fn load_of_a_missing_file_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(&dir.path().join("snapshot.bin")),
        LoadOutcome::Missing
    ));
}

#[test]
fn load_restores_a_written_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    let snapshot = varied_snapshot();
    let bytes = encode(&snapshot.as_ref());
    write_atomic(&path, &bytes).unwrap();

    match load(&path) {
        LoadOutcome::Restored {
            snapshot: restored,
            size_bytes,
            modified,
        } => {
            assert_eq!(restored, snapshot);
            assert_eq!(size_bytes, bytes.len() as u64);
            assert_eq!(modified, fs::metadata(&path).unwrap().modified().unwrap());
        }
        other => panic!("expected Restored, got {other:?}"),
    }
    assert_eq!(names_in(dir.path()), ["snapshot.bin"]);
}

#[test]
fn load_sets_a_corrupt_file_aside_and_keeps_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    let mut bytes = encode(&varied_snapshot().as_ref());
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, &bytes).unwrap();

    let LoadOutcome::SetAside { reason, moved_to } = load(&path) else {
        panic!("a corrupt file was not set aside");
    };
    assert!(
        reason.starts_with("corrupt snapshot: the payload's checksum"),
        "{reason}"
    );
    assert!(!path.exists());
    let aside = set_aside_files(dir.path());
    assert_eq!(moved_to.as_ref(), aside.first());
    assert_eq!(aside.len(), 1);
    assert_eq!(fs::read(&aside[0]).unwrap(), bytes);
    // After that, a start finds no snapshot rather than the same bad file again.
    assert!(matches!(load(&path), LoadOutcome::Missing));
}

#[test]
fn load_sets_aside_files_of_other_versions_and_truncated_files_under_distinct_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    let good = encode(&varied_snapshot().as_ref());
    let mut newer = good.clone();
    newer[8..10].copy_from_slice(&9u16.to_le_bytes());

    fs::write(&path, &newer).unwrap();
    let first = load(&path);
    fs::write(&path, &good[..100]).unwrap();
    let second = load(&path);

    let reasons: Vec<String> = [first, second]
        .into_iter()
        .map(|outcome| match outcome {
            LoadOutcome::SetAside { reason, .. } => reason,
            other => panic!("expected SetAside, got {other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            format!(
                "incompatible snapshot format version 9: this Cairn reads version {FORMAT_VERSION}"
            ),
            format!(
                "truncated snapshot: expected {} bytes, found 100",
                good.len()
            ),
        ]
    );
    let kept: Vec<Vec<u8>> = set_aside_files(dir.path())
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert_eq!(kept.len(), 2, "both bad files are kept");
    assert!(kept.contains(&newer) && kept.contains(&good[..100].to_vec()));
}

#[test]
fn load_moves_a_directory_at_the_path_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    fs::create_dir(&path).unwrap();

    let LoadOutcome::SetAside { reason, moved_to } = load(&path) else {
        panic!("a directory was not set aside");
    };
    assert_eq!(reason, "a directory is in the way of the snapshot file");
    assert!(moved_to.unwrap().is_dir());
    assert!(!path.exists());
}

#[test]
fn load_says_when_the_bad_file_cannot_be_moved() {
    let dir = tempfile::tempdir().unwrap();
    // A name so long that `.bad-<secs>` pushes it past the file-name limit (255 bytes), so the
    // rename fails.
    let path = dir.path().join("s".repeat(250));
    fs::write(&path, b"junk").unwrap();

    match load(&path) {
        LoadOutcome::SetAside {
            reason,
            moved_to: None,
        } => {
            assert!(reason.starts_with("not a Cairn snapshot"), "{reason}");
            assert!(reason.contains("; moving it aside to "), "{reason}");
            assert!(
                reason.ends_with("failed: File name too long (os error 36)"),
                "{reason}"
            );
        }
        other => panic!("expected SetAside without a move, got {other:?}"),
    }
    assert_eq!(
        fs::read(&path).unwrap(),
        b"junk",
        "the file stays where it was"
    );
}

#[test]
fn write_atomic_replaces_the_file_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    write_atomic(&path, b"first").unwrap();
    write_atomic(&path, b"second").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"second");
    assert_eq!(names_in(dir.path()), ["snapshot.bin"]);
}

#[test]
fn write_atomic_errors_name_the_path_and_leave_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), b"").unwrap();
    fs::create_dir_all(dir.path().join("taken/snapshot.bin/inside")).unwrap();

    let cases = [
        (
            "missing directory",
            dir.path().join("nodir/snapshot.bin"),
            io::ErrorKind::NotFound,
        ),
        (
            "a file where the directory should be",
            dir.path().join("file/snapshot.bin"),
            io::ErrorKind::NotADirectory,
        ),
        // The temporary file is written here; only the rename fails.
        (
            "a directory where the file should be",
            dir.path().join("taken/snapshot.bin"),
            io::ErrorKind::IsADirectory,
        ),
    ];
    for (what, path, kind) in cases {
        let error = write_atomic(&path, b"bytes").unwrap_err();
        let message = error.to_string();
        assert_eq!(error.kind(), kind, "{what}: {message}");
        assert!(
            message.starts_with(&format!("writing snapshot {}: ", path.display())),
            "{what}: {message}"
        );
    }
    assert_eq!(names_in(dir.path()), ["file", "taken"]);
    assert_eq!(names_in(&dir.path().join("taken")), ["snapshot.bin"]);
}

/// Collects what the writer logs, one string per line.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(String::from)
            .collect()
    }
}

// The writer tests run on Tokio's paused clock: time moves only when every task waits, and a
// write in `spawn_blocking` holds it still, so "at most once a second" is checked exactly.

#[tokio::test(start_paused = true)]
async fn writer_coalesces_offers_and_writes_the_newest_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    let writer = SnapshotWriter::start(path.clone());

    // 50 offers over 4.9 s.
    for i in 0..50 {
        writer.offer(format!("state {i}").into_bytes());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The last offer is written at most a second after the write before it.
    tokio::time::sleep(Duration::from_secs(1)).await;

    assert_eq!(fs::read(&path).unwrap(), b"state 49");
    let stats = writer.stats();
    assert!(
        stats.writes <= 6,
        "{} writes for 50 offers in 5 s",
        stats.writes
    );
    assert_eq!(stats.size_bytes, Some(8));
    assert_eq!((stats.write_errors, stats.last_error), (0, None));
    assert_eq!(names_in(dir.path()), ["snapshot.bin"]);
}

#[tokio::test(start_paused = true)]
async fn writer_flush_writes_pending_bytes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    let writer = SnapshotWriter::start(path.clone());
    writer.offer(b"first".to_vec());
    writer.flush().await;
    assert_eq!(fs::read(&path).unwrap(), b"first");

    // Within the interval an offer waits; a flush does not.
    let started = Instant::now();
    writer.offer(b"second".to_vec());
    writer.flush().await;
    assert_eq!(fs::read(&path).unwrap(), b"second");
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(writer.stats().writes, 2);

    // Nothing pending: returns without writing.
    writer.flush().await;
    assert_eq!(writer.stats().writes, 2);
}

#[tokio::test(start_paused = true)]
async fn writer_writes_pending_bytes_when_the_last_handle_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.bin");
    let writer = SnapshotWriter::start(path.clone());
    let other = writer.clone();
    writer.offer(b"first".to_vec());
    writer.flush().await;
    writer.offer(b"last".to_vec());
    drop(writer);
    drop(other);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(fs::read(&path).unwrap(), b"last");
}

#[tokio::test(start_paused = true)]
async fn writer_reports_the_restored_file_until_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let modified = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let writer =
        SnapshotWriter::start_with(dir.path().join("snapshot.bin"), Some((modified, 1234)));
    let stats = writer.stats();
    assert_eq!(
        (
            stats.path,
            stats.last_written,
            stats.size_bytes,
            stats.writes
        ),
        (
            dir.path().join("snapshot.bin"),
            Some(modified),
            Some(1234),
            0
        )
    );
    writer.offer(b"new".to_vec());
    writer.flush().await;
    let stats = writer.stats();
    assert_eq!((stats.size_bytes, stats.writes), (Some(3), 1));
    assert!(stats.last_written.unwrap() > modified);
}

#[tokio::test(start_paused = true)]
async fn writer_survives_failed_writes_logs_once_and_recovers() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("state");
    fs::write(&blocker, b"").unwrap();
    let path = blocker.join("snapshot.bin");
    let writer = SnapshotWriter::start(path.clone());

    writer.offer(b"one".to_vec());
    // Retries after 1, 2, 4 and 8 s: five failed attempts in 20 s.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let stats = writer.stats();
    assert_eq!((stats.writes, stats.write_errors), (0, 5));
    let error = stats.last_error.unwrap();
    assert!(
        error.starts_with(&format!("writing snapshot {}: ", path.display())),
        "{error}"
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    // (Each attempt's temporary file has a name of its own, so the texts differ in it.)
    let stem = format!("writing snapshot {}: ", path.display());
    assert!(
        lines[0].contains("WARN") && lines[0].contains(&stem),
        "{lines:#?}"
    );

    // The operator fixes the directory; the next retry writes the newest bytes.
    fs::remove_file(&blocker).unwrap();
    fs::create_dir(&blocker).unwrap();
    writer.offer(b"two".to_vec());
    tokio::time::sleep(writer::MAX_RETRY_DELAY).await;

    assert_eq!(fs::read(&path).unwrap(), b"two");
    let stats = writer.stats();
    assert_eq!(
        (stats.writes, stats.write_errors, stats.last_error),
        (1, 5, None)
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[1].contains("INFO") && lines[1].contains("snapshot written again"),
        "{lines:#?}"
    );
}
