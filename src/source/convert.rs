//! Conversions from k8s-openapi objects to the slim records of `cluster::model`.
//!
//! Owns the rules for reading Namespaces, Services, EndpointSlices and Pods: which fields DNS
//! keeps, their defaults, and which values are errors. Shared by every source (the dump file now,
//! the API watch later). It does no I/O and knows nothing about documents or files: an error
//! names the object (`Service shop/web`) and the field (`spec.clusterIPs[1]`), and the caller
//! adds where the object came from.
//!
//! Rules, in short:
//! * Service: `type: ExternalName` -> `ExternalName(spec.externalName)` (required);
//!   `clusterIP: None` -> `Headless`; otherwise `ClusterIp(spec.clusterIPs)`, falling back to
//!   `spec.clusterIP`, empty when neither is set. Ports: name defaults to `""`, protocol to `TCP`,
//!   the number must be 1..=65535. External addresses: `spec.externalIPs` (IPs), then
//!   `status.loadBalancer.ingress` (`ip`, else `hostname`).
//! * EndpointSlice: the Service is the `kubernetes.io/service-name` label; `addressType` must be
//!   `IPv4`, `IPv6` or `FQDN`. Addresses of IPv4/IPv6 slices must be IPs of that family; FQDN
//!   slices keep their endpoints with no addresses. An unset `conditions.ready` is ready. Ports
//!   without a number (allowed by the API) are dropped.
//!   The MCS labels (`multicluster.kubernetes.io/service-name` and `.../source-cluster`) are
//!   kept together when both are set.
//! * ServiceImport: see `multicluster`.
//! * Pod: `status.podIPs`, falling back to `status.podIP`; a missing phase is `Pending`, an
//!   unrecognised one `Unknown`; `deletionTimestamp` set means terminating.

use std::fmt;
use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cluster::model::{
    AddressType, Endpoint, EndpointSlice, ExternalAddress, Labels, Namespace, Pod, PodPhase, Port,
    Protocol, Service, ServiceKind,
};

mod multicluster;
#[cfg(test)]
mod tests;

pub use multicluster::{
    service_import, ServiceImportObject, MC_SERVICE_NAME_LABEL, MC_SOURCE_CLUSTER_LABEL,
};

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Names an API object in messages: `Service shop/web`, `Namespace data`, or as much of it as is
/// known (`Service shop/<no name>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    fn of(kind: &str, meta: &ObjectMeta) -> ObjectRef {
        ObjectRef {
            kind: kind.to_owned(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        };
        if self.name.is_none() && self.namespace.is_none() && kind.ends_with("List") {
            // Lists have no name; `List <no name>` would suggest one is missing.
            return f.write_str(kind);
        }
        let name = self.name.as_deref().unwrap_or("<no name>");
        match &self.namespace {
            Some(ns) => write!(f, "{kind} {ns}/{name}"),
            None => write!(f, "{kind} {name}"),
        }
    }
}

/// A value DNS needs is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("{object}: {field} is missing; expected {expected}")]
    Missing {
        object: Box<ObjectRef>,
        field: String,
        expected: &'static str,
    },
    #[error("{object}: {field}: expected {expected}, found {found:?}")]
    Invalid {
        object: Box<ObjectRef>,
        field: String,
        expected: &'static str,
        found: String,
    },
}

impl ConvertError {
    /// The object the error is about.
    pub fn object(&self) -> &ObjectRef {
        match self {
            ConvertError::Missing { object, .. } | ConvertError::Invalid { object, .. } => object,
        }
    }

    /// The field path, e.g. `spec.clusterIPs[1]`.
    pub fn field(&self) -> &str {
        match self {
            ConvertError::Missing { field, .. } | ConvertError::Invalid { field, .. } => field,
        }
    }
}

fn missing(object: &ObjectRef, field: impl Into<String>, expected: &'static str) -> ConvertError {
    ConvertError::Missing {
        object: Box::new(object.clone()),
        field: field.into(),
        expected,
    }
}

fn invalid(
    object: &ObjectRef,
    field: impl Into<String>,
    expected: &'static str,
    found: impl Into<String>,
) -> ConvertError {
    ConvertError::Invalid {
        object: Box::new(object.clone()),
        field: field.into(),
        expected,
        found: found.into(),
    }
}

/// `metadata.name`, required and non-empty.
fn name_of(object: &ObjectRef, meta: &ObjectMeta) -> Result<String, ConvertError> {
    match meta.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(missing(object, "metadata.name", "the object's name")),
    }
}

/// `metadata.namespace`, required and non-empty for namespaced kinds.
fn namespace_of(object: &ObjectRef, meta: &ObjectMeta) -> Result<String, ConvertError> {
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => Ok(ns.to_owned()),
        _ => Err(missing(
            object,
            "metadata.namespace",
            "the namespace of a namespaced object",
        )),
    }
}

fn labels_of(meta: &ObjectMeta) -> Labels {
    meta.labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn parse_ip(object: &ObjectRef, field: String, text: &str) -> Result<IpAddr, ConvertError> {
    text.parse()
        .map_err(|_| invalid(object, field, "an IP address", text))
}

fn port_number(object: &ObjectRef, field: String, port: i32) -> Result<u16, ConvertError> {
    match u16::try_from(port) {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(invalid(
            object,
            field,
            "a port number in 1..=65535",
            port.to_string(),
        )),
    }
}

/// `spec.ports` of a Service or a ServiceImport, each `(name, protocol, port)`, every number
/// checked (errors name `spec.ports[I].port`).
fn spec_ports<'a>(
    object: &ObjectRef,
    items: impl Iterator<Item = (Option<&'a String>, Option<&'a String>, i32)>,
) -> Result<crate::cluster::model::Ports, ConvertError> {
    items
        .enumerate()
        .map(|(i, (name, protocol, number))| {
            let number = port_number(object, format!("spec.ports[{i}].port"), number)?;
            Ok(port(name, protocol, number))
        })
        .collect()
}

fn port(name: Option<&String>, protocol: Option<&String>, port: u16) -> Port {
    Port {
        name: name.map(|n| n.as_str()).unwrap_or_default().into(),
        protocol: protocol.map_or(Protocol::Tcp, |p| Protocol::from(p.as_str())),
        port,
    }
}

pub fn namespace(o: &core::Namespace) -> Result<Namespace, ConvertError> {
    let object = ObjectRef::of("Namespace", &o.metadata);
    Ok(Namespace {
        name: name_of(&object, &o.metadata)?,
        labels: labels_of(&o.metadata),
    })
}

pub fn service(o: &core::Service) -> Result<Service, ConvertError> {
    let object = ObjectRef::of("Service", &o.metadata);
    let namespace = namespace_of(&object, &o.metadata)?;
    let name = name_of(&object, &o.metadata)?;
    let default_spec = core::ServiceSpec::default();
    let spec = o.spec.as_ref().unwrap_or(&default_spec);
    let kind = service_kind(&object, spec)?;
    let ports = spec_ports(
        &object,
        spec.ports
            .iter()
            .flatten()
            .map(|p| (p.name.as_ref(), p.protocol.as_ref(), p.port)),
    )?;
    Ok(Service {
        namespace,
        name,
        kind,
        ports,
        publish_not_ready: spec.publish_not_ready_addresses.unwrap_or(false),
        labels: labels_of(&o.metadata),
        external: external_addresses(&object, o)?,
    })
}

/// `spec.externalIPs`, then each `status.loadBalancer.ingress` entry's `ip`, else its
/// `hostname` (an entry with neither is skipped), as CoreDNS orders them.
fn external_addresses(
    object: &ObjectRef,
    o: &core::Service,
) -> Result<Vec<ExternalAddress>, ConvertError> {
    let mut out = Vec::new();
    let external_ips = o.spec.as_ref().and_then(|s| s.external_ips.as_ref());
    for (i, ip) in external_ips.into_iter().flatten().enumerate() {
        let field = format!("spec.externalIPs[{i}]");
        out.push(ExternalAddress::Ip(parse_ip(object, field, ip)?));
    }
    let ingress = o
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref());
    for (i, entry) in ingress.into_iter().flatten().enumerate() {
        match (entry.ip.as_deref(), entry.hostname.as_deref()) {
            (Some(ip), _) if !ip.is_empty() => {
                let field = format!("status.loadBalancer.ingress[{i}].ip");
                out.push(ExternalAddress::Ip(parse_ip(object, field, ip)?));
            }
            (_, Some(host)) if !host.is_empty() => {
                out.push(ExternalAddress::Hostname(host.to_owned()));
            }
            _ => {}
        }
    }
    out.shrink_to_fit();
    Ok(out)
}

fn service_kind(object: &ObjectRef, spec: &core::ServiceSpec) -> Result<ServiceKind, ConvertError> {
    if spec.type_.as_deref() == Some("ExternalName") {
        return match spec.external_name.as_deref() {
            Some(target) if !target.is_empty() => Ok(ServiceKind::ExternalName(target.to_owned())),
            _ => Err(missing(
                object,
                "spec.externalName",
                "the target name of a type: ExternalName Service",
            )),
        };
    }
    let cluster_ips = spec.cluster_ips.as_deref().unwrap_or_default();
    let first = cluster_ips.first().or(spec.cluster_ip.as_ref());
    if first.map(String::as_str) == Some("None") {
        return Ok(ServiceKind::Headless);
    }
    let ips = if cluster_ips.is_empty() {
        match spec.cluster_ip.as_deref() {
            None | Some("") => Vec::new(),
            Some(ip) => vec![parse_ip(object, "spec.clusterIP".to_owned(), ip)?],
        }
    } else {
        cluster_ips
            .iter()
            .enumerate()
            .map(|(i, ip)| parse_ip(object, format!("spec.clusterIPs[{i}]"), ip))
            .collect::<Result<_, _>>()?
    };
    Ok(ServiceKind::ClusterIp(ips))
}

pub fn endpoint_slice(o: &discovery::EndpointSlice) -> Result<EndpointSlice, ConvertError> {
    let object = ObjectRef::of("EndpointSlice", &o.metadata);
    let namespace = namespace_of(&object, &o.metadata)?;
    let name = name_of(&object, &o.metadata)?;
    let address_type = match o.address_type.as_str() {
        "IPv4" => AddressType::IPv4,
        "IPv6" => AddressType::IPv6,
        "FQDN" => AddressType::Fqdn,
        other => return Err(invalid(&object, "addressType", "IPv4, IPv6 or FQDN", other)),
    };
    // Exact-size vectors: there are 100k endpoints in a large cluster, and collecting or
    // pushing leaves up to half of each vector unused.
    let mut endpoints: Vec<Endpoint> = o
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| endpoint(&object, address_type, i, e))
        .collect::<Result<_, _>>()?;
    endpoints.shrink_to_fit();
    let mut ports = Vec::new();
    for (i, p) in o.ports.iter().flatten().enumerate() {
        if let Some(number) = p.port {
            let number = port_number(&object, format!("ports[{i}].port"), number)?;
            ports.push(port(p.name.as_ref(), p.protocol.as_ref(), number));
        }
    }
    ports.shrink_to_fit();
    Ok(EndpointSlice {
        namespace,
        name,
        service: o
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .cloned(),
        address_type,
        endpoints,
        ports: ports.into(),
        multicluster: multicluster::slice_owner(o.metadata.labels.as_ref()),
    })
}

fn endpoint(
    object: &ObjectRef,
    address_type: AddressType,
    index: usize,
    e: &discovery::Endpoint,
) -> Result<Endpoint, ConvertError> {
    let mut addresses = crate::cluster::model::Addresses::with_capacity(e.addresses.len());
    if address_type != AddressType::Fqdn {
        for (j, text) in e.addresses.iter().enumerate() {
            let field = format!("endpoints[{index}].addresses[{j}]");
            let ip = parse_ip(object, field.clone(), text)?;
            match (address_type, ip) {
                (AddressType::IPv4, IpAddr::V4(_)) | (AddressType::IPv6, IpAddr::V6(_)) => {}
                (AddressType::IPv4, _) => {
                    return Err(invalid(object, field, "an IPv4 address", text.as_str()))
                }
                _ => return Err(invalid(object, field, "an IPv6 address", text.as_str())),
            }
            addresses.push(ip);
        }
    }
    let target_pod = e
        .target_ref
        .as_ref()
        .filter(|r| r.kind.as_deref() == Some("Pod"))
        .and_then(|r| r.name.as_deref())
        .map(Into::into);
    Ok(Endpoint::new(
        addresses,
        e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true),
        e.hostname.as_deref().map(Into::into),
        target_pod,
    )
    .with_zone(e.zone.as_deref().map(Into::into)))
}

pub fn pod(o: &core::Pod) -> Result<Pod, ConvertError> {
    let object = ObjectRef::of("Pod", &o.metadata);
    let namespace = namespace_of(&object, &o.metadata)?;
    let name = name_of(&object, &o.metadata)?;
    let status = o.status.as_ref();
    let pod_ips = status
        .and_then(|s| s.pod_ips.as_deref())
        .unwrap_or_default();
    let ips = if pod_ips.is_empty() {
        match status.and_then(|s| s.pod_ip.as_deref()) {
            None | Some("") => Vec::new(),
            Some(ip) => vec![parse_ip(&object, "status.podIP".to_owned(), ip)?],
        }
    } else {
        pod_ips
            .iter()
            .enumerate()
            .map(|(i, p)| parse_ip(&object, format!("status.podIPs[{i}].ip"), &p.ip))
            .collect::<Result<_, _>>()?
    };
    let phase = match status.and_then(|s| s.phase.as_deref()) {
        None | Some("Pending") => PodPhase::Pending,
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        Some(_) => PodPhase::Unknown,
    };
    Ok(Pod {
        namespace,
        name,
        ips,
        phase,
        deleting: o.metadata.deletion_timestamp.is_some(),
    })
}
