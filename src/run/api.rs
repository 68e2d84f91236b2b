//! Serving from the Kubernetes API, built to outlive it:
//!
//! 1. the last-known state is restored from the `snapshot` file, if any, and served at once;
//! 2. the API is reached through the failover's active endpoint (the configured server first,
//!    then further `endpoint`s and the API server addresses learned earlier);
//! 3. the watches publish every change, and the state is written back to the snapshot;
//! 4. `/ready` turns true once there is something correct to serve (restored or listed —
//!    `require_fresh` waits for the list); `/health` never looks at the API;
//! 5. `/status` and the `cairn_*` metrics show every endpoint, the data's age and the
//!    snapshot's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use super::keeper::SnapshotKeeper;
use crate::snapshot::{self, LoadOutcome, SnapshotWriter, WriterStats};

use crate::cluster::model::ClusterState;
use crate::config::model::Config;
use crate::plugin::kubernetes::KubernetesConfig;
use crate::source::kubernetes::{self, failover::Failover, SourceStatus};
use crate::status::{DataStatus, SnapshotStatus, Status, StatusBoard};

/// Starts the watches, waits as the first `kubernetes` block says, and starts answering.
pub async fn serve(config: Config) -> anyhow::Result<super::Running> {
    let board = StatusBoard::default();
    let pods_node = super::nodelocal::pods_node(&config, &|k| std::env::var(k).ok())?;
    let blocks: Vec<KubernetesConfig> = config
        .servers
        .iter()
        .filter_map(|s| s.get::<KubernetesConfig>().cloned())
        .collect();
    let Some(first) = blocks.first().cloned() else {
        let server = super::listen(crate::server::prepare(
            config,
            &ClusterState::default(),
            false,
            board.clone(),
        ))?;
        return Ok(super::Running {
            server,
            status: board,
            source: None,
            snapshot: None,
        });
    };
    let started = Instant::now();
    let mut disk = first.snapshot.as_deref().map(restore);
    // The restored state moves into the source (no second copy of a large cluster).
    let (restored, learned, written_at) = match disk.as_mut().and_then(|d| d.restored.as_mut()) {
        Some(r) => (
            Some(std::mem::take(&mut r.state)),
            r.learned.clone(),
            Some(r.written_at),
        ),
        None => (None, Vec::new(), None),
    };
    let is_restored = restored.is_some();
    let empty = ClusterState::default();
    let mut prepared = crate::server::prepare(
        config,
        restored.as_ref().unwrap_or(&empty),
        is_restored,
        board.clone(),
    );
    if is_restored && first.require_fresh {
        prepared.hold_readiness();
    }
    let publisher = prepared.publisher().clone();
    let writer = disk.as_ref().map(|d| {
        SnapshotWriter::start_with(
            d.path.clone(),
            d.restored.as_ref().map(|r| (r.modified, r.size_bytes)),
        )
    });
    let set_aside = disk.as_ref().and_then(|d| d.set_aside.clone());
    // `/status` answers from the moment the listeners open: first with what is known before
    // the API is reached, then (below) with the endpoints and the source.
    {
        let readiness = prepared.readiness().clone();
        let (writer, set_aside) = (writer.clone(), set_aside.clone());
        let counts = restored.as_ref().map_or([0; 4], |s| {
            [
                s.namespaces.len(),
                s.services.len(),
                s.endpoint_slices.len(),
                s.pods.len(),
            ]
        });
        let known = SourceStatus {
            counts,
            ..SourceStatus::default()
        };
        board.install(move || Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_seconds: started.elapsed().as_secs_f64(),
            live: false,
            ready: readiness.is_ready(),
            api: None,
            data: data_status(&known, written_at, None, started),
            snapshot: writer
                .as_ref()
                .map(|w| snapshot_status(&w.stats(), is_restored, set_aside.clone())),
            node_local: None,
        });
    }
    // With a restored snapshot there is something correct to serve already: answer before
    // anything touches the API (building its clients alone can take a while).
    let stage = if is_restored {
        Stage::Listening(super::listen(prepared)?)
    } else {
        Stage::Prepared(prepared)
    };
    let base = kubernetes::client::config(&first)
        .await
        .with_context(|| format!("kubernetes block at {}", first.location))?;
    let failover = Failover::new(base, &first, &learned)
        .with_context(|| format!("kubernetes block at {}", first.location))?;
    tokio::spawn(failover.clone().run());
    let keeper = writer.clone().map(|writer| {
        Box::new(SnapshotKeeper {
            writer,
            failover: failover.clone(),
            kept_learned: learned.clone(),
        }) as Box<dyn kubernetes::Keeper>
    });
    let mut specs = kubernetes::watch_specs(&blocks.iter().collect::<Vec<_>>());
    if let Some(node) = &pods_node {
        kubernetes::pods_on_node(&mut specs, node);
    }
    let source = kubernetes::start(&failover, specs, publisher, restored, keeper);
    let mut status = source.status.clone();
    if !is_restored {
        let synced = tokio::time::timeout(first.startup_timeout, status.wait_for(|s| s.synced))
            .await
            .is_ok_and(|r| r.is_ok());
        if !synced {
            tracing::warn!(
                startup_timeout = ?first.startup_timeout,
                "the API has not been listed yet; serving anyway, and names not known yet answer SERVFAIL"
            );
        }
    }
    let server = match stage {
        Stage::Listening(server) => server,
        Stage::Prepared(prepared) => super::listen(prepared)?,
    };
    let programming = status.borrow().programming.clone();
    server
        .metrics()
        .set_programming_source(crate::metrics::SERVICE_KIND_CLUSTER_IP, programming.0);
    let readiness = server.readiness().clone();
    {
        let mut status = status.clone();
        let readiness = readiness.clone();
        tokio::spawn(async move {
            if status.wait_for(|s| s.synced).await.is_ok() {
                readiness.set_ready();
            }
        });
    }
    let kept = writer.clone();
    board.install(move || {
        let source = status.borrow().clone();
        Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_seconds: started.elapsed().as_secs_f64(),
            live: false,
            ready: readiness.is_ready(),
            api: Some(failover.status()),
            data: data_status(&source, written_at, Some(&failover), started),
            snapshot: writer
                .as_ref()
                .map(|w| snapshot_status(&w.stats(), is_restored, set_aside.clone())),
            node_local: None,
        }
    });
    Ok(super::Running {
        status: board,
        server,
        source: Some(source),
        snapshot: kept,
    })
}

/// Listening already (restored), or waiting for the first list.
enum Stage {
    Prepared(crate::server::Prepared),
    Listening(crate::server::RunningServer),
}

/// What was found at the snapshot path at start-up.
struct Disk {
    path: PathBuf,
    restored: Option<Restored>,
    /// Why a file found there was not used, and where it went.
    set_aside: Option<String>,
}

struct Restored {
    state: ClusterState,
    learned: Vec<String>,
    /// When the snapshot was taken (its own timestamp).
    written_at: SystemTime,
    modified: SystemTime,
    size_bytes: u64,
}

/// Reads the snapshot at `path`; a bad one has been set aside by [`snapshot::load`].
fn restore(path: &Path) -> Disk {
    let mut disk = Disk {
        path: path.to_path_buf(),
        restored: None,
        set_aside: None,
    };
    match snapshot::load(path) {
        LoadOutcome::Missing => {
            tracing::info!(snapshot = %path.display(), "no snapshot yet: starting from the API")
        }
        LoadOutcome::SetAside { reason, moved_to } => {
            disk.set_aside = Some(match moved_to {
                Some(to) => format!("{reason} (moved to {})", to.display()),
                None => reason,
            });
        }
        LoadOutcome::Restored {
            snapshot,
            size_bytes,
            modified,
        } => {
            let written_at = UNIX_EPOCH + Duration::from_millis(snapshot.written_at_unix_ms);
            let state = snapshot.state;
            tracing::info!(
                snapshot = %path.display(),
                age = ?SystemTime::now().duration_since(written_at).unwrap_or_default(),
                size_bytes,
                namespaces = state.namespaces.len(),
                services = state.services.len(),
                endpoint_slices = state.endpoint_slices.len(),
                pods = state.pods.len(),
                api_endpoints = ?snapshot.api_endpoints,
                "restored the last-known cluster state: serving it until the API lists"
            );
            disk.restored = Some(Restored {
                state,
                learned: snapshot.api_endpoints,
                written_at,
                modified,
                size_bytes,
            });
        }
    }
    disk
}

fn snapshot_status(
    stats: &WriterStats,
    restored: bool,
    set_aside: Option<String>,
) -> SnapshotStatus {
    SnapshotStatus {
        path: stats.path.display().to_string(),
        restored,
        set_aside,
        age_seconds: stats.last_written.map(|t| {
            SystemTime::now()
                .duration_since(t)
                .unwrap_or_default()
                .as_secs_f64()
        }),
        size_bytes: stats.size_bytes,
        write_errors: stats.write_errors,
        last_write_error: stats.last_error.clone(),
    }
}

/// Where the served data came from and how old it is; `failover` is `None` before the API
/// connection exists.
fn data_status(
    source: &SourceStatus,
    restored_written_at: Option<SystemTime>,
    failover: Option<&Failover>,
    started: Instant,
) -> DataStatus {
    let (kind, staleness) = match (source.synced, restored_written_at) {
        (true, _) => (
            "api",
            failover.map_or(Duration::ZERO, |f| f.staleness(started)),
        ),
        // Restored and never listed: as old as the snapshot, at least.
        (false, Some(at)) => (
            "snapshot",
            SystemTime::now().duration_since(at).unwrap_or_default(),
        ),
        (false, None) => ("none", started.elapsed()),
    };
    DataStatus {
        source: kind.into(),
        synced: source.synced,
        last_sync_age_seconds: source.last_sync.map(|t| t.elapsed().as_secs_f64()),
        staleness_seconds: staleness.as_secs_f64(),
        namespaces: source.counts[0],
        services: source.counts[1],
        endpoint_slices: source.counts[2],
        pods: source.counts[3],
    }
}
