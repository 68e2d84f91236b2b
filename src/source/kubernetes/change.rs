//! Changes a watch delivers, applied to the cluster state: single-object upserts and deletes,
//! and the complete relist of one watch (which replaces exactly the objects that watch covers,
//! so objects deleted while the watch was away cannot survive).
//!
//! Pure: no I/O, so sequences of changes can be tested directly.

use std::collections::BTreeMap;

use crate::cluster::model::{
    ClusterState, EndpointSlice, Namespace, ObjectKey, Pod, Service, ServiceImport,
};
use crate::plugin::kubernetes::index::Affected;

/// One slim object of any watched kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    Namespace(Namespace),
    Service(Service),
    EndpointSlice(EndpointSlice),
    Pod(Pod),
    ServiceImport(ServiceImport),
}

/// The kinds Cairn watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Service,
    EndpointSlice,
    Pod,
    /// Only when some block is `multicluster`.
    ServiceImport,
}

impl Kind {
    /// The API's plural resource name (`services`...), as used in RBAC rules and URLs.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Service => "services",
            Kind::EndpointSlice => "endpointslices",
            Kind::Pod => "pods",
            Kind::ServiceImport => "serviceimports",
        }
    }

    /// The API group (`""` for the core group), as used in RBAC rules: the group of the
    /// `k8s-openapi` type the watch lists.
    pub fn api_group(self) -> &'static str {
        use k8s_openapi::Resource;
        match self {
            Kind::Namespace => k8s_openapi::api::core::v1::Namespace::GROUP,
            Kind::Service => k8s_openapi::api::core::v1::Service::GROUP,
            Kind::EndpointSlice => k8s_openapi::api::discovery::v1::EndpointSlice::GROUP,
            Kind::Pod => k8s_openapi::api::core::v1::Pod::GROUP,
            Kind::ServiceImport => crate::source::convert::ServiceImportObject::GROUP,
        }
    }
}

/// What one watch covers: a kind, cluster-wide or in one namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub kind: Kind,
    pub namespace: Option<String>,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} in {ns}", self.kind.resource()),
            None => f.write_str(self.kind.resource()),
        }
    }
}

/// A change delivered by one watch.
#[derive(Clone, Debug)]
pub enum Change {
    /// The watch listed everything it covers: these objects, and nothing else, exist.
    Relisted(Scope, Vec<Object>),
    /// An object was added or modified.
    Applied(Object),
    /// An object was deleted (namespace "" for cluster-scoped kinds).
    Deleted(Kind, ObjectKey),
}

fn key(namespace: &str, name: &str) -> ObjectKey {
    (namespace.to_string(), name.to_string())
}

/// Replaces the entries of `map` inside `scope` (all, or one namespace) by `fresh`.
fn replace<T>(
    map: &mut BTreeMap<ObjectKey, T>,
    namespace: Option<&str>,
    fresh: Vec<(ObjectKey, T)>,
) {
    match namespace {
        None => map.clear(),
        Some(ns) => map.retain(|(object_ns, _), _| object_ns != ns),
    }
    map.extend(fresh);
}

/// Adds to `affected` what `change` will touch; call it before applying the change to `state`
/// (a slice's old service and addresses are read from there).
pub fn note(state: &ClusterState, change: &Change, affected: &mut Affected) {
    match change {
        Change::Relisted(..)
        | Change::Applied(Object::Namespace(_))
        | Change::Deleted(Kind::Namespace, _)
        | Change::Applied(Object::ServiceImport(_))
        | Change::Deleted(Kind::ServiceImport, _) => affected.full = true,
        Change::Applied(Object::Service(s)) => {
            affected.services.insert(key(&s.namespace, &s.name));
        }
        Change::Deleted(Kind::Service, k) => {
            affected.services.insert(k.clone());
        }
        Change::Applied(Object::EndpointSlice(new)) => {
            let k = key(&new.namespace, &new.name);
            note_slice(state.endpoint_slices.get(&k), affected);
            note_slice(Some(new), affected);
        }
        Change::Deleted(Kind::EndpointSlice, k) => {
            note_slice(state.endpoint_slices.get(k), affected);
        }
        Change::Applied(Object::Pod(new)) => {
            let k = key(&new.namespace, &new.name);
            note_pod(state.pods.get(&k), affected);
            note_pod(Some(new), affected);
        }
        Change::Deleted(Kind::Pod, k) => note_pod(state.pods.get(k), affected),
    }
}

fn note_slice(slice: Option<&EndpointSlice>, affected: &mut Affected) {
    let Some(slice) = slice else { return };
    if slice.multicluster.is_some() {
        // Multicluster answers are rebuilt whole (there are few imports).
        affected.full = true;
    }
    if let Some(service) = &slice.service {
        affected.services.insert(key(&slice.namespace, service));
    }
    for ep in &slice.endpoints {
        affected.addresses.extend(ep.addresses());
    }
}

fn note_pod(pod: Option<&Pod>, affected: &mut Affected) {
    if let Some(ip) = pod.and_then(|p| p.ips.first()) {
        let p = pod.map(|p| p.namespace.clone()).unwrap_or_default();
        affected.pods.insert((p, *ip));
    }
}

/// Applies `change` to `state`.
pub fn apply(state: &mut ClusterState, change: Change) {
    match change {
        Change::Applied(object) => upsert(state, object),
        Change::Deleted(kind, key) => remove(state, kind, &key),
        Change::Relisted(scope, objects) => {
            let ns = scope.namespace.as_deref();
            match scope.kind {
                Kind::Namespace => {
                    state.namespaces = objects
                        .into_iter()
                        .filter_map(|o| match o {
                            Object::Namespace(n) => Some((n.name.clone(), n)),
                            _ => None,
                        })
                        .collect();
                }
                Kind::Service => {
                    let fresh = objects
                        .into_iter()
                        .filter_map(|o| match o {
                            Object::Service(s) => Some((key(&s.namespace, &s.name), s)),
                            _ => None,
                        })
                        .collect();
                    replace(&mut state.services, ns, fresh);
                }
                Kind::EndpointSlice => {
                    let fresh = objects
                        .into_iter()
                        .filter_map(|o| match o {
                            Object::EndpointSlice(s) => Some((key(&s.namespace, &s.name), s)),
                            _ => None,
                        })
                        .collect();
                    replace(&mut state.endpoint_slices, ns, fresh);
                }
                Kind::Pod => {
                    let fresh = objects
                        .into_iter()
                        .filter_map(|o| match o {
                            Object::Pod(p) => Some((key(&p.namespace, &p.name), p)),
                            _ => None,
                        })
                        .collect();
                    replace(&mut state.pods, ns, fresh);
                }
                Kind::ServiceImport => {
                    let fresh = objects
                        .into_iter()
                        .filter_map(|o| match o {
                            Object::ServiceImport(i) => Some((key(&i.namespace, &i.name), i)),
                            _ => None,
                        })
                        .collect();
                    replace(&mut state.service_imports, ns, fresh);
                }
            }
        }
    }
}

fn upsert(state: &mut ClusterState, object: Object) {
    match object {
        Object::Namespace(n) => {
            state.namespaces.insert(n.name.clone(), n);
        }
        Object::Service(s) => {
            state.services.insert(key(&s.namespace, &s.name), s);
        }
        Object::EndpointSlice(s) => {
            state.endpoint_slices.insert(key(&s.namespace, &s.name), s);
        }
        Object::Pod(p) => {
            state.pods.insert(key(&p.namespace, &p.name), p);
        }
        Object::ServiceImport(i) => {
            state.service_imports.insert(key(&i.namespace, &i.name), i);
        }
    }
}

fn remove(state: &mut ClusterState, kind: Kind, key: &ObjectKey) {
    match kind {
        Kind::Namespace => {
            state.namespaces.remove(&key.1);
        }
        Kind::Service => {
            state.services.remove(key);
        }
        Kind::EndpointSlice => {
            state.endpoint_slices.remove(key);
        }
        Kind::Pod => {
            state.pods.remove(key);
        }
        Kind::ServiceImport => {
            state.service_imports.remove(key);
        }
    }
}

#[cfg(test)]
mod tests;
