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
    pub forward: Option<ForwardConfig>,
    pub cache: Option<CacheConfig>,
    pub hosts: Option<HostsConfig>,
    /// `errors`: log every failed upstream exchange that became a SERVFAIL.
    pub errors: bool,
    pub log: Option<LogConfig>,
    pub health: Option<HealthConfig>,
    pub ready: Option<HttpListener>,
    pub prometheus: Option<HttpListener>,
    /// `loop`: detect forwarding loops.
    pub loop_detect: bool,
    pub reload: Option<ReloadConfig>,
    /// `loadbalance [round_robin]`: shuffle A/AAAA records in answers.
    pub loadbalance: bool,
    /// `nodelocal { ... }`: capture the `bind` addresses on this node (Cairn's own plugin).
    pub nodelocal: Option<NodeLocalConfig>,
    /// The plugins used, in the order they were written (imports spliced in), each once: for
    /// reports such as `cairn validate`'s. What runs does not depend on it.
    pub plugins: Vec<String>,
}

impl ServerBlock {
    /// A block with these zones and no plugins.
    pub fn new(zones: Vec<ServerZone>, location: Location) -> Self {
        ServerBlock {
            zones,
            location,
            bind: Vec::new(),
            kubernetes: None,
            forward: None,
            cache: None,
            hosts: None,
            errors: false,
            log: None,
            health: None,
            ready: None,
            prometheus: None,
            loop_detect: false,
            reload: None,
            loadbalance: false,
            nodelocal: None,
            plugins: Vec::new(),
        }
    }
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
    /// `snapshot PATH`: where the last-known cluster state is kept (Cairn's own option).
    pub snapshot: Option<PathBuf>,
    /// `tls_server_name NAME`: the name API server certificates are verified against when
    /// Cairn reaches them directly by address (Cairn's own option; learned endpoints default
    /// to `kubernetes.default.svc`).
    pub tls_server_name: Option<String>,
    /// `require_fresh`: `/ready` waits for a complete list from the API even when a snapshot
    /// was restored (Cairn's own option).
    pub require_fresh: bool,
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
            snapshot: None,
            tls_server_name: None,
            require_fresh: false,
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
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| vs.iter().all(|x| x != v)),
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

/// `forward FROM TO... { options }`: send queries for `from` to upstream servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardConfig {
    pub location: Location,
    /// The zone forwarded (lower-case FQDN; "." for everything).
    pub from: String,
    /// Upstream addresses, in order; `/etc/resolv.conf`-style files are expanded to their
    /// `nameserver` lines at parse time (port 53 unless given).
    pub to: Vec<std::net::SocketAddr>,
    /// `except ZONE...`: names not forwarded (lower-case FQDNs).
    pub except: Vec<String>,
    pub force_tcp: bool,
    pub prefer_udp: bool,
    /// `expire DUR`: idle upstream connections are closed after this (default 10 s).
    pub expire: Duration,
    /// `max_fails N`: consecutive failed health checks before an upstream is down (default 2;
    /// 0 never marks it down).
    pub max_fails: u32,
    /// `health_check DUR [no_rec] [domain NAME]` (default 0.5 s, RD set, `.`).
    pub health_check: Duration,
    pub health_check_no_rec: bool,
    pub health_check_domain: String,
    pub policy: ForwardPolicy,
    /// `max_concurrent N`: queries beyond this many in flight are REFUSED.
    pub max_concurrent: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardPolicy {
    #[default]
    Random,
    RoundRobin,
    Sequential,
}

/// `cache [TTL] [ZONES...] { options }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    pub location: Location,
    /// Zones cached (lower-case FQDNs); empty means the server block's zones.
    pub zones: Vec<String>,
    pub success: CacheClass,
    pub denial: CacheClass,
    /// `disable success|denial [ZONES...]`: `Some(vec![])` disables the class everywhere.
    pub disable_success: Option<Vec<String>>,
    pub disable_denial: Option<Vec<String>>,
    pub prefetch: Option<Prefetch>,
    /// `serve_stale [DUR] [immediate|verify]` (RFC 8767); default 1 h, immediate.
    pub serve_stale: Option<ServeStale>,
    pub keepttl: bool,
}

/// One class of cached answers (`success` or `denial`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheClass {
    /// Maximum entries (default 9984).
    pub capacity: usize,
    /// Maximum TTL in seconds (default 3600 for success, 1800 for denial; `cache TTL` sets both).
    pub max_ttl: u32,
    /// Minimum TTL in seconds (default 5).
    pub min_ttl: u32,
}

/// `prefetch AMOUNT [DURATION] [PERCENTAGE%]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefetch {
    /// Hits within `duration` that make an entry worth prefetching (default 1).
    pub amount: u32,
    /// Default 1 minute.
    pub duration: Duration,
    /// Prefetch when this share of the TTL is left (default 10).
    pub percentage: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeStale {
    pub duration: Duration,
    /// `verify`: ask upstream first and serve stale only if that fails.
    pub verify: bool,
}

/// `hosts [FILE [ZONES...]] { options }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostsConfig {
    pub location: Location,
    /// Default `/etc/hosts`.
    pub file: PathBuf,
    /// Zones answered (lower-case FQDNs); empty means the server block's zones.
    pub zones: Vec<String>,
    /// Lines given inline in the block, in hosts-file syntax.
    pub inline: Vec<String>,
    /// Default 3600.
    pub ttl: u32,
    /// Re-read interval (default 5 s; zero disables).
    pub reload: Duration,
    pub fallthrough: Option<Vec<String>>,
    pub no_reverse: bool,
}

/// `nodelocal { interface NAME; check DURATION }`: the interface that holds the block's `bind`
/// addresses, and how often it and the nftables rules are verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLocalConfig {
    pub location: Location,
    /// Default `cairn0`.
    pub interface: String,
    /// Default 10 s.
    pub check: Duration,
}

/// `health [ADDR] { lameduck DUR }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    pub location: Location,
    /// Default `:8080` (all addresses).
    pub addr: std::net::SocketAddr,
    pub lameduck: Duration,
}

/// `ready [ADDR]` and `prometheus [ADDR]`: an HTTP listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpListener {
    pub location: Location,
    /// `ready` default `:8181`; `prometheus` default `localhost:9153`.
    pub addr: std::net::SocketAddr,
}

/// `reload [INTERVAL] [JITTER]` (defaults 30 s and 15 s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadConfig {
    pub location: Location,
    pub interval: Duration,
    pub jitter: Duration,
}

/// `log [NAMES...] [FORMAT] { class CLASSES }`: CoreDNS's log line for every query (or the
/// classes given: all, denial, error, success).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub location: Location,
    /// Names (lower-case FQDNs) logged; empty means all.
    pub names: Vec<String>,
    /// `class` values (`all`, `denial`, `error`, `success`); empty means all.
    pub classes: Vec<String>,
    /// The log format when one was given (the last argument, containing `{`).
    pub format: Option<String>,
}
