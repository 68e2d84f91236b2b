//! The Multi-Cluster Services API objects: a ServiceImport (`multicluster.x-k8s.io/v1alpha1`)
//! and the MCS labels of EndpointSlices.
//!
//! k8s-openapi has no type for ServiceImport (it is a CRD), so [`ServiceImportObject`] is a
//! small serde struct of just the fields DNS reads; it implements k8s-openapi's `Resource` and
//! `Metadata`, so kube lists and watches it like the built-in kinds.
//!
//! Rules: `spec.type` is `ClusterSetIP` (the default when unset) or `Headless`; `spec.ips` are
//! the cluster-set IPs of a ClusterSetIP import; ports as a Service's (name defaults to `""`,
//! protocol to `TCP`, the number must be 1..=65535).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::{invalid, name_of, namespace_of, parse_ip, spec_ports, ConvertError, ObjectRef};
use crate::cluster::model::{ImportKind, MultiClusterSlice, ServiceImport};

/// The label naming the ServiceImport an EndpointSlice serves.
pub const MC_SERVICE_NAME_LABEL: &str = "multicluster.kubernetes.io/service-name";
/// The label naming the cluster an EndpointSlice's endpoints are in.
pub const MC_SOURCE_CLUSTER_LABEL: &str = "multicluster.kubernetes.io/source-cluster";

/// A ServiceImport as the API serves it, reduced to what DNS reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceImportObject {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ServiceImportSpec>,
}

/// `spec` of a ServiceImport.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceImportSpec {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ips: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ServiceImportPort>>,
}

/// One of `spec.ports`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceImportPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    pub port: i32,
}

impl k8s_openapi::Resource for ServiceImportObject {
    const API_VERSION: &'static str = "multicluster.x-k8s.io/v1alpha1";
    const GROUP: &'static str = "multicluster.x-k8s.io";
    const KIND: &'static str = "ServiceImport";
    const VERSION: &'static str = "v1alpha1";
    const URL_PATH_SEGMENT: &'static str = "serviceimports";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::ListableResource for ServiceImportObject {
    const LIST_KIND: &'static str = "ServiceImportList";
}

impl k8s_openapi::Metadata for ServiceImportObject {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

pub fn service_import(o: &ServiceImportObject) -> Result<ServiceImport, ConvertError> {
    let object = ObjectRef::of("ServiceImport", &o.metadata);
    let namespace = namespace_of(&object, &o.metadata)?;
    let name = name_of(&object, &o.metadata)?;
    let default_spec = ServiceImportSpec::default();
    let spec = o.spec.as_ref().unwrap_or(&default_spec);
    let kind = match spec.type_.as_deref() {
        None | Some("ClusterSetIP") => ImportKind::ClusterSetIp(
            spec.ips
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, ip)| parse_ip(&object, format!("spec.ips[{i}]"), ip))
                .collect::<Result<_, _>>()?,
        ),
        Some("Headless") => ImportKind::Headless,
        Some(other) => {
            return Err(invalid(
                &object,
                "spec.type",
                "ClusterSetIP or Headless",
                other,
            ))
        }
    };
    let ports = spec_ports(
        &object,
        spec.ports
            .iter()
            .flatten()
            .map(|p| (p.name.as_ref(), p.protocol.as_ref(), p.port)),
    )?;
    Ok(ServiceImport {
        namespace,
        name,
        kind,
        ports,
    })
}

/// The MCS owner of a slice with these labels: both labels, or none.
pub fn slice_owner(labels: Option<&BTreeMap<String, String>>) -> Option<MultiClusterSlice> {
    let labels = labels?;
    Some(MultiClusterSlice {
        service: labels.get(MC_SERVICE_NAME_LABEL)?.clone(),
        cluster: labels.get(MC_SOURCE_CLUSTER_LABEL)?.clone(),
    })
}

#[cfg(test)]
mod tests;
