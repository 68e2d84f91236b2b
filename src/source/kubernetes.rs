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
pub mod failover;
pub mod heap;
pub mod watch;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch as latch};

use crate::cluster::model::ClusterState;
use crate::metrics::AtomicHistogram;
use crate::plugin::kubernetes::index::Affected;
use crate::plugin::kubernetes::publish::Publisher;
use crate::plugin::kubernetes::{KubernetesConfig, PodMode};
use change::{Kind, Scope};
use watch::WatchSpec;

/// Arrival-to-served time of every change a watch delivers: the histogram exported as
/// `coredns_kubernetes_dns_programming_duration_seconds` (shared; cloning shares it).
#[derive(Clone, Debug)]
pub struct Programming(pub AtomicHistogram);

impl Default for Programming {
    fn default() -> Self {
        Programming(AtomicHistogram::programming())
    }
}

/// What a running source reports to the rest of Cairn.
#[derive(Clone, Debug, Default)]
pub struct SourceStatus {
    /// Arrival-to-served time of every change (shared; the source keeps recording into it).
    pub programming: Programming,
    /// Every watch has delivered a complete list at least once.
    pub synced: bool,
    /// Changes applied since start.
    pub changes: u64,
    /// Time from the arrival of the last batch's oldest change to its index being served.
    pub last_programming: Option<Duration>,
    /// When every watch last completed a list (at start, and after each move to another
    /// API endpoint).
    pub last_sync: Option<Instant>,
    /// Objects held: namespaces, services, endpoint slices, pods.
    pub counts: [usize; 4],
}

/// Where the source keeps its last-known state (the snapshot): offered the state after
/// changes, at most about once a second, from the task that owns the state.
pub trait Keeper: Send + 'static {
    fn keep(&mut self, state: &ClusterState);
    /// Something besides the state changed that the keeper stores (e.g. learned API
    /// endpoints): worth keeping even without a state change.
    fn wants_keeping(&mut self) -> bool {
        false
    }
}

/// A running source: its status, and a way to have the state kept now (at shutdown).
pub struct Source {
    pub status: latch::Receiver<SourceStatus>,
    keep_now: mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
}

impl Source {
    /// Offers the current state to the keeper now (if it is complete and changed since the
    /// last offer) and returns once it has been offered.
    pub async fn keep_now(&self) {
        let (done, offered) = tokio::sync::oneshot::channel();
        if self.keep_now.send(done).await.is_ok() {
            let _ = offered.await;
        }
    }
}

/// How often, at most, the state is offered to the [`Keeper`].
pub const KEEP_INTERVAL: Duration = Duration::from_secs(1);

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
    let selector = |s: Option<&crate::plugin::kubernetes::LabelSelector>| s.map(|s| s.to_string());
    let mut specs = vec![WatchSpec {
        scope: Scope {
            kind: Kind::Namespace,
            namespace: None,
        },
        label_selector: single.and_then(|k| selector(k.namespace_labels.as_ref())),
        field_selector: None,
        keep_pod_names: false,
        keep_zones: false,
        keep_multicluster: false,
        keep_labels: true,
    }];
    let keep_pod_names = blocks.iter().any(|k| k.endpoint_pod_names);
    let keep_zones = blocks.iter().any(|k| k.zonal);
    let keep_multicluster = blocks.iter().any(|k| !k.multicluster.is_empty());
    let keep_labels = blocks.iter().any(|k| k.labels.is_some());
    let mut namespaced = |kind: Kind, labels: Option<String>, fields: Option<&str>| {
        for ns in &namespaces {
            specs.push(WatchSpec {
                scope: Scope {
                    kind,
                    namespace: ns.clone(),
                },
                label_selector: labels.clone(),
                field_selector: fields.map(str::to_string),
                keep_pod_names,
                keep_zones,
                keep_multicluster,
                keep_labels,
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
    if keep_multicluster {
        namespaced(Kind::ServiceImport, None, None);
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

/// Restricts the Pod watches to the pods scheduled on `node` (`spec.nodeName`): a node-local
/// Cairn's clients are that node's pods only, so it lists and watches no others.
pub fn pods_on_node(specs: &mut [WatchSpec], node: &str) {
    for spec in specs.iter_mut().filter(|s| s.scope.kind == Kind::Pod) {
        let on_node = format!("spec.nodeName={node}");
        spec.field_selector = Some(match spec.field_selector.take() {
            Some(fields) => format!("{on_node},{fields}"),
            None => on_node,
        });
    }
}

/// Starts watching through the active endpoint of `failover` (moving every watch when it
/// changes) and publishing into `publisher`, beginning from `restored` (the last-known state
/// from a snapshot, served as complete until the API lists), or from nothing. The returned
/// source's status turns `synced` once every watch has listed.
pub fn start(
    failover: &failover::Failover,
    specs: Vec<WatchSpec>,
    publisher: Publisher,
    restored: Option<ClusterState>,
    keeper: Option<Box<dyn Keeper>>,
) -> Source {
    let (status_tx, status_rx) = latch::channel(SourceStatus::default());
    let (keep_tx, keep_rx) = mpsc::channel(4);
    let programming = status_rx.borrow().programming.clone();
    let (tx, rx) = mpsc::channel(4096);
    let wanted: BTreeSet<Scope> = specs.iter().map(|s| s.scope.clone()).collect();
    tokio::spawn(supervise(failover.subscribe(), specs, tx));
    tokio::spawn(own_state(
        rx,
        keep_rx,
        wanted,
        Owned {
            restored: restored.is_some(),
            state: restored.unwrap_or_default(),
            publisher,
            status: Arc::new(status_tx),
            programming,
            keeper,
        },
    ));
    Source {
        status: status_rx,
        keep_now: keep_tx,
    }
}

/// Runs one watch per spec through the active endpoint; when the endpoint changes, stops them
/// all and starts them again through the new one (they relist there).
async fn supervise(
    mut active: latch::Receiver<failover::Active>,
    specs: Vec<WatchSpec>,
    tx: mpsc::Sender<watch::Arrival>,
) {
    loop {
        let current = active.borrow_and_update().clone();
        let mut watches = tokio::task::JoinSet::new();
        for spec in &specs {
            watches.spawn(watch::run(
                current.client.clone(),
                spec.clone(),
                current.epoch,
                tx.clone(),
            ));
        }
        if active.changed().await.is_err() {
            // The failover is gone (shutdown): let the watches run out on their own.
            while watches.join_next().await.is_some() {}
            return;
        }
        // Dropping the set aborts every watch: a watch on a dead path may never return.
        watches.abort_all();
        tracing::info!(
            epoch = current.epoch + 1,
            "restarting every watch on the new API endpoint"
        );
    }
}

struct Owned {
    state: ClusterState,
    /// The state began as a restored snapshot.
    restored: bool,
    publisher: Publisher,
    status: Arc<latch::Sender<SourceStatus>>,
    programming: Programming,
    keeper: Option<Box<dyn Keeper>>,
}

/// Owns the cluster state: applies each batch of changes and publishes once per batch, so a
/// burst of events costs one index build; offers the state to the keeper at most once per
/// [`KEEP_INTERVAL`].
async fn own_state(
    mut rx: mpsc::Receiver<watch::Arrival>,
    mut keep_requests: mpsc::Receiver<tokio::sync::oneshot::Sender<()>>,
    wanted: BTreeSet<Scope>,
    mut owned: Owned,
) {
    let mut listed: BTreeSet<Scope> = BTreeSet::new();
    let mut epoch = 0u64;
    let mut epoch_listed: BTreeSet<Scope> = BTreeSet::new();
    let mut epoch_started = Instant::now();
    let mut changes = 0u64;
    let mut synced = false;
    let mut last_sync = None;
    let mut dirty = false;
    let mut last_kept: Option<Instant> = None;
    let mut trim = heap::TrimSchedule::default();
    let mut ticker = tokio::time::interval(KEEP_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            arrival = rx.recv() => match arrival {
                Some(a) => a,
                None => break,
            },
            _ = ticker.tick() => {
                if synced || owned.restored {
                    keep(&mut owned, &mut dirty, &mut last_kept);
                }
                trim.on_tick(Instant::now());
                continue;
            }
            Some(done) = keep_requests.recv() => {
                if synced || owned.restored {
                    keep(&mut owned, &mut dirty, &mut last_kept);
                }
                let _ = done.send(());
                continue;
            }
        };
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut affected = Affected::default();
        let arrivals: Vec<Instant> = batch.iter().map(|a| a.at).collect();
        for arrival in batch {
            if arrival.epoch > epoch {
                epoch = arrival.epoch;
                epoch_listed.clear();
                epoch_started = arrival.at;
            }
            if matches!(arrival.change, change::Change::Relisted(..)) {
                listed.insert(arrival.scope.clone());
                if arrival.epoch == epoch
                    && epoch_listed.insert(arrival.scope.clone())
                    && wanted.is_subset(&epoch_listed)
                {
                    last_sync = Some(Instant::now());
                    if epoch > 0 {
                        tracing::info!(
                            epoch,
                            took = ?epoch_started.elapsed(),
                            "every watch relisted through the new API endpoint"
                        );
                    }
                }
            }
            change::note(&owned.state, &arrival.change, &mut affected);
            change::apply(&mut owned.state, arrival.change);
            changes += 1;
        }
        let state = &owned.state;
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
        // A restored snapshot is served as known (absence proven) from the start.
        owned.publisher.update(
            state,
            &affected,
            crate::plugin::kubernetes::publish::serial_now(),
            synced || owned.restored,
        );
        if relisted {
            // A list's full objects and the index it replaced are gone: give the pages back.
            trim.now();
        } else {
            // Each derived index frees parts of the one before it; give those pages back once
            // the changes pause (or every so often under constant churn).
            trim.changed(Instant::now());
        }
        let mut slowest = Duration::ZERO;
        for at in arrivals {
            let latency = at.elapsed();
            owned.programming.0.observe(crate::metrics::nanos(latency));
            slowest = slowest.max(latency);
        }
        tracing::debug!(?slowest, "published");
        owned.status.send_replace(SourceStatus {
            programming: owned.programming.clone(),
            synced,
            changes,
            last_programming: Some(slowest),
            last_sync,
            counts: [
                state.namespaces.len(),
                state.services.len(),
                state.endpoint_slices.len(),
                state.pods.len(),
            ],
        });
        dirty = true;
        // A partial first list is never kept: restored later, it would be taken as complete.
        let complete = synced || owned.restored;
        if complete && last_kept.is_none_or(|t| t.elapsed() >= KEEP_INTERVAL) {
            keep(&mut owned, &mut dirty, &mut last_kept);
        }
    }
    // The watches are gone (shutdown): keep what is known.
    if synced || owned.restored {
        keep(&mut owned, &mut dirty, &mut last_kept);
    }
}

/// Offers the state to the keeper when it changed (or the keeper wants it anyway).
fn keep(owned: &mut Owned, dirty: &mut bool, last_kept: &mut Option<Instant>) {
    let Some(keeper) = owned.keeper.as_mut() else {
        return;
    };
    if !*dirty && !keeper.wants_keeping() {
        return;
    }
    keeper.keep(&owned.state);
    *dirty = false;
    *last_kept = Some(Instant::now());
}

#[cfg(test)]
mod tests;
