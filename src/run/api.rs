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

use std::time::Instant;

use anyhow::Context;

use crate::cluster::model::ClusterState;
use crate::config::model::{Config, KubernetesConfig};
use crate::server::RunningServer;
use crate::source::kubernetes::{self, failover::Failover, SourceStatus};
use crate::status::{DataStatus, Status};

/// Starts the watches, waits as the first `kubernetes` block says, and starts answering.
pub async fn serve(config: Config) -> anyhow::Result<RunningServer> {
    let blocks: Vec<KubernetesConfig> = config
        .servers
        .iter()
        .filter_map(|s| s.kubernetes.clone())
        .collect();
    let Some(first) = blocks.first().cloned() else {
        return Ok(crate::server::prepare(config, &ClusterState::default(), false).listen()?);
    };
    let started = Instant::now();
    let restored: Option<ClusterState> = None;
    let learned: Vec<String> = Vec::new();
    let is_restored = restored.is_some();
    let empty = ClusterState::default();
    let mut prepared =
        crate::server::prepare(config, restored.as_ref().unwrap_or(&empty), is_restored);
    if is_restored && first.require_fresh {
        prepared.hold_readiness();
    }
    let base = kubernetes::client::config(&first)
        .await
        .with_context(|| format!("kubernetes block at {}", first.location))?;
    let failover = Failover::new(base, &first, &learned)
        .with_context(|| format!("kubernetes block at {}", first.location))?;
    tokio::spawn(failover.clone().run());
    let specs = kubernetes::watch_specs(&blocks.iter().collect::<Vec<_>>());
    let mut status = kubernetes::start(
        &failover,
        specs,
        prepared.publisher().clone(),
        restored,
        None,
    );
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
    let board = prepared.status_board().clone();
    let server = prepared.listen()?;
    let programming = status.borrow().programming.clone();
    server
        .metrics()
        .set_programming_source(crate::metrics::SERVICE_KIND_CLUSTER_IP, programming);
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
    board.install(move || {
        let source = status.borrow().clone();
        Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_seconds: started.elapsed().as_secs_f64(),
            live: false,
            ready: readiness.is_ready(),
            api: Some(failover.status()),
            data: data_status(&source, is_restored, &failover, started),
            snapshot: None,
        }
    });
    Ok(server)
}

fn data_status(
    source: &SourceStatus,
    restored: bool,
    failover: &Failover,
    started: Instant,
) -> DataStatus {
    let kind = if source.synced {
        "api"
    } else if restored {
        "snapshot"
    } else {
        "none"
    };
    let staleness = if source.synced || restored {
        failover.staleness(started)
    } else {
        started.elapsed()
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
