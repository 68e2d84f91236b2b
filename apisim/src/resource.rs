//! The resources the simulator serves: names, paths, discovery facts, and typed validation.
//!
//! Owns the fixed table of resource kinds. Must not hold state: the store does.

use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;

/// One served resource type.
#[derive(Debug)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// Plural, lower-case path segment (`services`).
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub list_kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    validate: fn(&Value) -> Result<(), String>,
}

impl Resource {
    /// `v1` or `discovery.k8s.io/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Deserializes the object into its k8s-openapi type; the error names the failing field.
    pub fn validate(&self, object: &Value) -> Result<(), String> {
        (self.validate)(object)
    }

    /// Whether `name` (kind, plural, singular or short name, any case) names this resource.
    pub fn is_named(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(self.kind)
            || name.eq_ignore_ascii_case(self.plural)
            || name.eq_ignore_ascii_case(self.singular)
            || self
                .short_names
                .iter()
                .any(|s| name.eq_ignore_ascii_case(s))
    }
}

fn typed<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
    T::deserialize(object)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub static RESOURCES: [Resource; 5] = [
    Resource {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        list_kind: "NamespaceList",
        namespaced: false,
        short_names: &["ns"],
        validate: typed::<Namespace>,
    },
    Resource {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        list_kind: "ServiceList",
        namespaced: true,
        short_names: &["svc"],
        validate: typed::<Service>,
    },
    Resource {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        list_kind: "PodList",
        namespaced: true,
        short_names: &["po"],
        validate: typed::<Pod>,
    },
    Resource {
        group: "discovery.k8s.io",
        version: "v1",
        plural: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        list_kind: "EndpointSliceList",
        namespaced: true,
        short_names: &[],
        validate: typed::<EndpointSlice>,
    },
    Resource {
        group: "multicluster.x-k8s.io",
        version: "v1alpha1",
        plural: "serviceimports",
        singular: "serviceimport",
        kind: "ServiceImport",
        list_kind: "ServiceImportList",
        namespaced: true,
        short_names: &["svcim"],
        validate: service_import,
    },
];

/// A ServiceImport (a CRD: k8s-openapi has no type for it) needs a mapping `spec` whose
/// `type`, when set, is `ClusterSetIP` or `Headless`, and whose `ips`/`ports` are lists.
fn service_import(object: &Value) -> Result<(), String> {
    let Some(spec) = object.get("spec") else {
        return Ok(());
    };
    if !spec.is_object() {
        return Err("spec: expected a mapping".to_string());
    }
    match spec.get("type") {
        None => {}
        Some(Value::String(t)) if t == "ClusterSetIP" || t == "Headless" => {}
        Some(other) => {
            return Err(format!(
                "spec.type: expected ClusterSetIP or Headless, found {other}"
            ))
        }
    }
    for list in ["ips", "ports"] {
        if spec.get(list).is_some_and(|v| !v.is_array()) {
            return Err(format!("spec.{list}: expected a list"));
        }
    }
    Ok(())
}

/// The resource a name (kind, plural, singular, short name) refers to.
pub fn by_name(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.is_named(name))
}

/// The resource served at `group`/`version`/`plural`.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource for an object's `apiVersion` + `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// Index of a resource in [`RESOURCES`] (for per-resource counters).
pub fn index(resource: &Resource) -> usize {
    RESOURCES
        .iter()
        .position(|r| std::ptr::eq(r, resource))
        .expect("resource from the table")
}
