//! One kube-rs watcher per watched scope, each turned into [`Change`]s on a channel.
//!
//! kube-runtime's `watcher` lists, then watches with bookmarks, relists on 410 Gone and
//! reconnects with backoff on its own; this module only buffers a relist until it is complete
//! (`InitDone`), so a relist replaces what it covers in one step, and converts full API objects
//! into slim ones at once (nothing else of them is kept).

use futures::StreamExt;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::change::{Change, Kind, Object, Scope};
use crate::source::convert;

/// A change and the moment it arrived (for the programming-latency measurement).
pub struct Arrival {
    pub scope: Scope,
    /// Which API endpoint generation delivered it (grows with every failover).
    pub epoch: u64,
    pub change: Change,
    pub at: std::time::Instant,
}

/// How long the API server keeps one watch request open (it then ends it cleanly).
pub const WATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(50);

/// What one watch asks the API for.
#[derive(Clone, Debug)]
pub struct WatchSpec {
    pub scope: Scope,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Keep endpoints' pod names (`targetRef`): only `endpoint_pod_names` uses them, and at
    /// 100k endpoints they cost ~5 MiB. A change of the option needs a restart anyway.
    pub keep_pod_names: bool,
    /// Keep endpoints' topology zones: only `zonal` uses them.
    pub keep_zones: bool,
    /// Keep EndpointSlices' Multi-Cluster Services labels: only `multicluster` uses them (and
    /// a change to a slice that has them rebuilds the whole index).
    pub keep_multicluster: bool,
    /// Keep Services' labels: only a `labels` selector reads them (the API applies it when
    /// there is one block, Cairn when blocks differ), and at 10k Services even two labels each
    /// cost ~3 MiB. A snapshot written without them serves a newly added `labels` filter
    /// nothing until the API lists again.
    pub keep_labels: bool,
}

/// Runs the watch described by `spec` until the receiver goes away.
pub async fn run(client: Client, spec: WatchSpec, epoch: u64, tx: mpsc::Sender<Arrival>) {
    match spec.scope.kind {
        Kind::Namespace => {
            let api: Api<core::Namespace> = Api::all(client);
            pump(api, spec, epoch, tx, |o| {
                convert::namespace(o).map(Object::Namespace)
            })
            .await
        }
        Kind::Service => {
            let api = scoped::<core::Service>(client, &spec.scope);
            let keep_labels = spec.keep_labels;
            pump(api, spec, epoch, tx, move |o| {
                convert::service(o).map(|mut service| {
                    if !keep_labels {
                        service.labels = Default::default();
                    }
                    Object::Service(service)
                })
            })
            .await
        }
        Kind::EndpointSlice => {
            let api = scoped::<discovery::EndpointSlice>(client, &spec.scope);
            let (keep_pod_names, keep_zones) = (spec.keep_pod_names, spec.keep_zones);
            let keep_multicluster = spec.keep_multicluster;
            pump(api, spec, epoch, tx, move |o| {
                convert::endpoint_slice(o).map(|mut slice| {
                    if !keep_multicluster {
                        slice.multicluster = None;
                    }
                    for ep in &mut slice.endpoints {
                        if !keep_pod_names {
                            ep.forget_target_pod();
                        }
                        if !keep_zones {
                            ep.forget_zone();
                        }
                    }
                    Object::EndpointSlice(slice)
                })
            })
            .await
        }
        Kind::Pod => {
            let api = scoped::<core::Pod>(client, &spec.scope);
            pump(api, spec, epoch, tx, |o| convert::pod(o).map(Object::Pod)).await
        }
        Kind::ServiceImport => {
            let api = scoped::<convert::ServiceImportObject>(client, &spec.scope);
            pump(api, spec, epoch, tx, |o| {
                convert::service_import(o).map(Object::ServiceImport)
            })
            .await
        }
    }
}

fn scoped<K>(client: Client, scope: &Scope) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as Resource>::DynamicType: Default,
{
    match &scope.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

async fn pump<K, F>(api: Api<K>, spec: WatchSpec, epoch: u64, tx: mpsc::Sender<Arrival>, slim: F)
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
    F: Fn(&K) -> Result<Object, convert::ConvertError>,
{
    // The server ends each watch after WATCH_TIMEOUT and the watcher resumes from the last
    // resource version; with the client's read timeout above it, a connection that goes
    // silent (a black-holed path) is noticed even between failover checks.
    let mut config = watcher::Config::default().timeout(WATCH_TIMEOUT.as_secs() as u32);
    if let Some(labels) = &spec.label_selector {
        config = config.labels(labels);
    }
    if let Some(fields) = &spec.field_selector {
        config = config.fields(fields);
    }
    let scope = spec.scope;
    let convert = |o: &K| match slim(o) {
        Ok(object) => Some(object),
        Err(err) => {
            tracing::warn!(%err, "ignoring an object Cairn cannot use");
            None
        }
    };
    let mut relist: Option<Vec<Object>> = None;
    let mut failing = false;
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    while let Some(event) = stream.next().await {
        let change = match event {
            Err(err) => {
                if !failing {
                    tracing::warn!(%scope, %err, "watch failed; retrying with backoff");
                    failing = true;
                }
                continue;
            }
            Ok(Event::Init) => {
                relist = Some(Vec::new());
                continue;
            }
            Ok(Event::InitApply(o)) => {
                if let (Some(buffer), Some(object)) = (relist.as_mut(), convert(&o)) {
                    buffer.push(object);
                }
                continue;
            }
            Ok(Event::InitDone) => {
                let objects = relist.take().unwrap_or_default();
                tracing::info!(%scope, objects = objects.len(), "listed");
                Change::Relisted(scope.clone(), objects)
            }
            Ok(Event::Apply(o)) => match convert(&o) {
                Some(object) => Change::Applied(object),
                None => continue,
            },
            Ok(Event::Delete(o)) => {
                let meta = o.meta();
                let key = (
                    meta.namespace.clone().unwrap_or_default(),
                    meta.name.clone().unwrap_or_default(),
                );
                Change::Deleted(scope.kind, key)
            }
        };
        if failing {
            tracing::info!(%scope, "watch recovered");
            failing = false;
        }
        let arrival = Arrival {
            scope: scope.clone(),
            epoch,
            change,
            at: std::time::Instant::now(),
        };
        if tx.send(arrival).await.is_err() {
            return;
        }
    }
}
