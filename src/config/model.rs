//! The typed configuration the Corefile parser produces and the server runs from.
//!
//! Names here are normalised: zones are lower-case, fully qualified with a trailing dot (the root
//! is "."), reverse CIDR zones are already expanded into `in-addr.arpa.`/`ip6.arpa.` zones.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::cluster::model::Labels;

/// Where something was written: a Corefile path and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A whole Corefile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub servers: Vec<ServerBlock>,
}

/// One zone key of a server block: `ZONE[:PORT]` (only the `dns://` scheme, or none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerZone {
    /// Lower-case FQDN with trailing dot; "." for the root.
    pub zone: String,
    /// 53 unless given.
    pub port: u16,
}

/// One server block: `ZONE[:PORT] ... { plugins }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerBlock {
    pub zones: Vec<ServerZone>,
    pub location: Location,
    /// `bind ADDR...`; empty means every address (the wildcard addresses).
    pub bind: Vec<IpAddr>,
    /// The `kubernetes` plugin, when the block has one.
    pub kubernetes: Option<KubernetesConfig>,
}

/// `pods disabled|insecure|verified`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodMode {
    #[default]
    Disabled,
    Insecure,
    Verified,
}

/// `tls CERT KEY CACERT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// `kubeconfig PATH [CONTEXT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kubeconfig {
    pub path: PathBuf,
    pub context: Option<String>,
}

/// The `kubernetes` plugin's configuration, as CoreDNS reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubernetesConfig {
    pub location: Location,
    /// The zones it is authoritative for (from its arguments, else the server block's zones).
    /// CIDR arguments are expanded to reverse zones. Lower-case FQDNs with trailing dots.
    pub zones: Vec<String>,
    /// `endpoint URL...` (validated as http(s) URLs).
    pub endpoints: Vec<String>,
    pub tls: Option<TlsFiles>,
    pub kubeconfig: Option<Kubeconfig>,
    /// `namespaces NS...`: only these are exposed; empty means all.
    pub namespaces: Vec<String>,
    /// `labels SELECTOR`: only Services matching it are exposed.
    pub labels: Option<LabelSelector>,
    /// `namespace_labels SELECTOR`: only namespaces matching it are exposed.
    pub namespace_labels: Option<LabelSelector>,
    pub pods: PodMode,
    pub endpoint_pod_names: bool,
    /// `ttl N`, 0..=3600, default 5.
    pub ttl: u32,
    pub noendpoints: bool,
    /// `fallthrough [ZONES...]`: `Some(vec![])` means every zone.
    pub fallthrough: Option<Vec<String>>,
    /// `ignore empty_service`.
    pub ignore_empty_service: bool,
    /// `startup_timeout DURATION`, default 5 s.
    pub startup_timeout: Duration,
}

impl KubernetesConfig {
    /// The options CoreDNS uses when the block only names zones.
    pub fn with_zones(zones: Vec<String>, location: Location) -> Self {
        KubernetesConfig {
            location,
            zones,
            endpoints: Vec::new(),
            tls: None,
            kubeconfig: None,
            namespaces: Vec::new(),
            labels: None,
            namespace_labels: None,
            pods: PodMode::Disabled,
            endpoint_pod_names: false,
            ttl: 5,
            noendpoints: false,
            fallthrough: None,
            ignore_empty_service: false,
            startup_timeout: Duration::from_secs(5),
        }
    }
}

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` / `key==value` / `key in (v1,v2)`.
    In(String, Vec<String>),
    /// `key!=value` / `key notin (v1,v2)`.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl LabelSelector {
    /// True when every requirement holds for `labels` (Kubernetes semantics: `notin` and `!=`
    /// also match objects without the key).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }
}

/// The Kubernetes selector syntax, as the API's `labelSelector` parameter takes it.
impl std::fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::In(k, vs) if vs.len() == 1 => format!("{k}={}", vs[0]),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) if vs.len() == 1 => format!("{k}!={}", vs[0]),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}
