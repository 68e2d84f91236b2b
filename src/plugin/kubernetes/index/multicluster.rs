//! The multicluster part of the index: the ServiceImports of exposed namespaces, each with the
//! ready endpoints of its MCS-labelled EndpointSlices and the cluster each slice came from.
//!
//! Only built when the block has `multicluster` zones. Rebuilt whole on any change to an
//! import or an MCS slice (there are few; `change::note` marks those changes full).

use std::collections::HashMap;
use std::sync::Arc;

use super::{endpoint_label, EndpointGroup, EntryKind, ServiceEntry};
use crate::cluster::model::{AddressType, ClusterState, EndpointSlice, ImportKind};
use crate::plugin::kubernetes::KubernetesConfig;

/// A ServiceImport as DNS answers it: an entry like a Service's (kind ClusterIp for a
/// ClusterSetIP import), and `clusters[i]`, the lower-case source cluster of `entry.groups[i]`.
#[derive(Clone, Debug)]
pub struct ImportEntry {
    pub entry: ServiceEntry,
    pub clusters: Box<[Arc<str>]>,
}

/// Exposed namespaces (lower-case) -> imports by lower-case name.
pub type Imports = HashMap<Box<str>, HashMap<Arc<str>, Arc<ImportEntry>>>;

/// The imports of `state` in the namespaces `exposed` accepts (lower-case names).
pub fn build(
    state: &ClusterState,
    config: &KubernetesConfig,
    exposed: &dyn Fn(&str) -> bool,
) -> Imports {
    let mut out = Imports::new();
    if config.multicluster.is_empty() {
        return out;
    }
    let mut slices: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
    for slice in state.endpoint_slices.values() {
        if let Some(mc) = &slice.multicluster {
            slices
                .entry((slice.namespace.as_str(), mc.service.as_str()))
                .or_default()
                .push(slice);
        }
    }
    for import in state.service_imports.values() {
        let namespace = import.namespace.to_ascii_lowercase();
        if !exposed(&namespace) {
            continue;
        }
        let own = slices
            .get(&(import.namespace.as_str(), import.name.as_str()))
            .map_or(&[][..], Vec::as_slice);
        let mut groups = Vec::new();
        let mut clusters = Vec::new();
        for slice in own.iter().filter(|s| s.address_type != AddressType::Fqdn) {
            let endpoints = slice
                .endpoints
                .iter()
                .filter(|ep| ep.ready)
                .flat_map(|ep| {
                    let label = endpoint_label(ep, config.endpoint_pod_names);
                    ep.addresses().map(move |ip| (label.clone(), ip))
                })
                .collect();
            groups.push(EndpointGroup::new(slice.ports.clone(), endpoints));
            let cluster = slice.multicluster.as_ref().map_or("", |m| m.cluster.as_str());
            clusters.push(Arc::from(cluster.to_ascii_lowercase()));
        }
        let kind = match &import.kind {
            ImportKind::ClusterSetIp(ips) => EntryKind::ClusterIp(ips.clone()),
            ImportKind::Headless => EntryKind::Headless,
        };
        let entry = ServiceEntry {
            name: Arc::from(import.name.to_ascii_lowercase()),
            namespace: Arc::from(namespace.as_str()),
            kind,
            ports: import.ports.clone(),
            groups,
            external: Box::new([]),
        };
        let empty = entry.endpoints().next().is_none();
        if config.ignore_empty_service && matches!(entry.kind, EntryKind::ClusterIp(_)) && empty {
            continue;
        }
        let name = entry.name.clone();
        out.entry(namespace.into_boxed_str()).or_default().insert(
            name,
            Arc::new(ImportEntry {
                entry,
                clusters: clusters.into(),
            }),
        );
    }
    out
}
