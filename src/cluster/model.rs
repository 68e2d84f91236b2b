//! The slim cluster model: just the fields of Namespaces, Services, EndpointSlices and Pods that
//! DNS answers need.
//!
//! Sources (a dump file now, the API watch later) convert the full API objects into these records
//! and drop everything else: at 10k Services / 100k endpoints every extra field costs memory
//! (CoreDNS's `object/` package learned the same). Nothing here knows about DNS wire format.
//!
//! These types are also the payload of the on-disk snapshot (`crate::snapshot`), encoded field by
//! field in declaration order: adding, removing or reordering a field or an enum variant changes
//! that format, so bump `snapshot::format::FORMAT_VERSION` with it (a test pins the encoding).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

mod endpoint;
mod labels;
mod protocol;

pub use endpoint::Endpoint;
pub use labels::Labels;
pub use protocol::Protocol;

/// A Namespace: its name and labels (for `namespace_labels`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
}

/// How a Service is reached, as DNS sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceKind {
    /// A virtual IP per family (`spec.clusterIPs`, IPv4 and/or IPv6). NodePort and LoadBalancer
    /// Services are this kind too.
    ClusterIp(Vec<IpAddr>),
    /// `clusterIP: None`: DNS answers with the ready endpoints' addresses.
    Headless,
    /// `type: ExternalName`: a CNAME to this name (as written in the object, no trailing dot
    /// required).
    ExternalName(String),
}

/// A port of a Service or an EndpointSlice. `name` is empty for an unnamed port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub name: Box<str>,
    pub protocol: Protocol,
    pub port: u16,
}

/// The ports of one object, shared between the state and the answer index (at 10k Services a
/// copy of each list cost ~2.5 MiB). Encoded like a `Vec`.
pub type Ports = std::sync::Arc<[Port]>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub kind: ServiceKind,
    pub ports: Ports,
    /// `spec.publishNotReadyAddresses`: unready endpoints count as ready.
    pub publish_not_ready: bool,
    pub labels: Labels,
    /// Where the Service is reached from outside the cluster (`k8s_external`): `spec.externalIPs`,
    /// then `status.loadBalancer.ingress` in order.
    pub external: Vec<ExternalAddress>,
}

/// One address a Service is reached at from outside the cluster: an external IP or a load
/// balancer ingress IP, or a load balancer ingress hostname (answered as a CNAME).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalAddress {
    Ip(IpAddr),
    Hostname(String),
}

/// The address family of an EndpointSlice (`addressType`). FQDN slices are kept but serve nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressType {
    IPv4,
    IPv6,
    Fqdn,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSlice {
    pub namespace: String,
    pub name: String,
    /// The `kubernetes.io/service-name` label: the Service this slice belongs to. A slice without
    /// it belongs to no Service.
    pub service: Option<String>,
    pub address_type: AddressType,
    pub endpoints: Vec<Endpoint>,
    pub ports: Ports,
    /// The Multi-Cluster Services labels (`multicluster.kubernetes.io/service-name` and
    /// `multicluster.kubernetes.io/source-cluster`): the ServiceImport this slice serves and
    /// the cluster its endpoints are in. Both labels are needed; a slice with one is not MCS.
    pub multicluster: Option<MultiClusterSlice>,
}

/// The ServiceImport an EndpointSlice belongs to, and the cluster it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiClusterSlice {
    pub service: String,
    pub cluster: String,
}

/// How a ServiceImport is reached (`spec.type`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportKind {
    /// `ClusterSetIP`: the cluster-set virtual IPs (`spec.ips`).
    ClusterSetIp(Vec<IpAddr>),
    /// `Headless`: DNS answers with the ready endpoints of the import's MCS EndpointSlices.
    Headless,
}

/// A ServiceImport (`multicluster.x-k8s.io/v1alpha1`): a Service exported by the clusters of a
/// cluster set, answered in `multicluster` zones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceImport {
    pub namespace: String,
    pub name: String,
    pub kind: ImportKind,
    pub ports: Ports,
}

/// `status.phase` of a Pod, reduced to what `pods verified` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    /// `status.podIPs` (the first is `status.podIP`, the primary).
    pub ips: Vec<IpAddr>,
    pub phase: PodPhase,
    /// `metadata.deletionTimestamp` is set: the pod is terminating.
    pub deleting: bool,
}

/// An endpoint's addresses as sources collect them, the first one inline.
pub type Addresses = smallvec::SmallVec<[IpAddr; 1]>;

/// A namespace-scoped object key: (namespace, name).
pub type ObjectKey = (String, String);

/// The whole cluster as sources see it. Sources mutate it; the index is built from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    pub namespaces: BTreeMap<String, Namespace>,
    pub services: BTreeMap<ObjectKey, Service>,
    pub endpoint_slices: BTreeMap<ObjectKey, EndpointSlice>,
    pub pods: BTreeMap<ObjectKey, Pod>,
    /// Kept only when some block is `multicluster` (since snapshot format 5).
    pub service_imports: BTreeMap<ObjectKey, ServiceImport>,
}
