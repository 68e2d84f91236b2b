//! The Kubernetes API source: watches Namespaces, Services, EndpointSlices (and Pods when an
//! option needs them) with kube-rs, keeps the slim cluster state, and publishes a new index
//! after every batch of changes.
//!
//! Until every watch has listed once, the published state is marked unsynced: a name Cairn
//! cannot find then answers SERVFAIL, not NXDOMAIN, because absence is not yet proven.
//! Server-side selectors are used where the API allows (`labels` on Services,
//! `namespace_labels` on Namespaces, one watch per namespace for `namespaces`, terminated pods
//! filtered by phase); every block still filters on its own as well.

pub mod change;
pub mod client;
pub mod heap;
pub mod latency;
pub mod watch;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch as latch};

use crate::cluster::index::Affected;
use crate::cluster::model::ClusterState;
use crate::cluster::publish::Publisher;
use crate::config::model::{KubernetesConfig, PodMode};
use change::{Kind, Scope};
use watch::WatchSpec;

/// What a running source reports to the rest of Cairn.
#[derive(Clone, Debug, Default)]
pub struct SourceStatus {
    /// Arrival-to-served time of every change (shared; the source keeps recording into it).
    pub programming: Arc<latency::ProgrammingLatency>,
    /// Every watch has delivered a complete list at least once.
    pub synced: bool,
    /// Changes applied since start.
    pub changes: u64,
    /// Time from the arrival of the last batch's oldest change to its index being served.
    pub last_programming: Option<Duration>,
}

/// The watches a set of `kubernetes` blocks needs. `blocks[0]` decides the connection; the
/// server-side selectors are used only when there is one block (several blocks may filter
/// differently, so they then share unfiltered watches).
pub fn watch_specs(blocks: &[&KubernetesConfig]) -> Vec<WatchSpec> {
    let single = match blocks {
        [one] => Some(*one),
        _ => None,
    };
    let namespaces: Vec<Option<String>> = match single {
        Some(k) if !k.namespaces.is_empty() => k.namespaces.iter().cloned().map(Some).collect(),
        _ => vec![None],
    };
    let selector = |s: Option<&crate::config::model::LabelSelector>| s.map(|s| s.to_string());
    let mut specs = vec![WatchSpec {
        scope: Scope {
            kind: Kind::Namespace,
            namespace: None,
        },
        label_selector: single.and_then(|k| selector(k.namespace_labels.as_ref())),
        field_selector: None,
    }];
    let mut namespaced = |kind: Kind, labels: Option<String>, fields: Option<&str>| {
        for ns in &namespaces {
            specs.push(WatchSpec {
                scope: Scope {
                    kind,
                    namespace: ns.clone(),
                },
                label_selector: labels.clone(),
                field_selector: fields.map(str::to_string),
            });
        }
    };
    namespaced(
        Kind::Service,
        single.and_then(|k| selector(k.labels.as_ref())),
        None,
    );
    if blocks.iter().any(|k| !k.noendpoints) {
        namespaced(Kind::EndpointSlice, None, None);
    }
    if blocks.iter().any(|k| k.pods == PodMode::Verified) {
        namespaced(
            Kind::Pod,
            None,
            Some("status.phase!=Succeeded,status.phase!=Failed"),
        );
    }
    specs
}

/// Starts watching with `client` and publishing into `publisher`; returns a receiver of the
/// source's status (its `synced` flag turns true once every watch has listed).
pub fn start(
    client: kube::Client,
    specs: Vec<WatchSpec>,
    publisher: Publisher,
) -> latch::Receiver<SourceStatus> {
    let (status_tx, status_rx) = latch::channel(SourceStatus::default());
    let programming = status_rx.borrow().programming.clone();
    let (tx, rx) = mpsc::channel(4096);
    let wanted: BTreeSet<Scope> = specs.iter().map(|s| s.scope.clone()).collect();
    for spec in specs {
        tokio::spawn(watch::run(client.clone(), spec, tx.clone()));
    }
    drop(tx);
    tokio::spawn(own_state(
        rx,
        wanted,
        publisher,
        Arc::new(status_tx),
        programming,
    ));
    status_rx
}

/// Owns the cluster state: applies each batch of changes and publishes once per batch, so a
/// burst of events costs one index build.
async fn own_state(
    mut rx: mpsc::Receiver<watch::Arrival>,
    wanted: BTreeSet<Scope>,
    publisher: Publisher,
    status: Arc<latch::Sender<SourceStatus>>,
    programming: Arc<latency::ProgrammingLatency>,
) {
    let mut state = ClusterState::default();
    let mut listed: BTreeSet<Scope> = BTreeSet::new();
    let mut changes = 0u64;
    let mut synced = false;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut affected = Affected::default();
        let arrivals: Vec<Instant> = batch.iter().map(|a| a.at).collect();
        for arrival in batch {
            if matches!(arrival.change, change::Change::Relisted(..)) {
                listed.insert(arrival.scope.clone());
            }
            change::note(&state, &arrival.change, &mut affected);
            change::apply(&mut state, arrival.change);
            changes += 1;
        }
        if !synced && wanted.is_subset(&listed) {
            synced = true;
            tracing::info!(
                namespaces = state.namespaces.len(),
                services = state.services.len(),
                endpoint_slices = state.endpoint_slices.len(),
                pods = state.pods.len(),
                "initial sync complete"
            );
        }
        let relisted = affected.full;
        publisher.update(&state, &affected, crate::server::serial_now(), synced);
        if relisted {
            // A list's full objects and the index it replaced are gone: give the pages back.
            heap::release_free_memory();
        }
        let mut slowest = Duration::ZERO;
        for at in arrivals {
            let latency = at.elapsed();
            programming.record(latency);
            slowest = slowest.max(latency);
        }
        tracing::debug!(?slowest, "published");
        status.send_replace(SourceStatus {
            programming: programming.clone(),
            synced,
            changes,
            last_programming: Some(slowest),
        });
    }
}

#[cfg(test)]
mod tests;
