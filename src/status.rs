//! The `/status` document: what Cairn knows about its own health, as JSON on the `health`
//! listener. One screen that names the broken hop — which API endpoint is up, which one is in
//! use, how old the served data is, whether the snapshot is being written.
//!
//! These types are the contract between the server (which fills them) and `cairn doctor`
//! (which reads them from a running Cairn), so both sides use the same definitions. Ages are
//! seconds as floats, `None` (JSON `null`) when the event never happened.

use serde::{Deserialize, Serialize};

/// The whole `/status` document.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Status {
    /// Cairn's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// Seconds since the process started.
    pub uptime_seconds: f64,
    /// `/health` would answer 200 (Cairn answers DNS itself).
    pub live: bool,
    /// `/ready` would answer 200.
    pub ready: bool,
    /// The API connection; `None` when serving from a dump file (`--from`).
    pub api: Option<ApiStatus>,
    pub data: DataStatus,
    /// The snapshot on disk; `None` when no `snapshot` option is configured.
    pub snapshot: Option<SnapshotStatus>,
    /// Node-local mode's interface and rules; `None` without a `nodelocal` block.
    #[serde(default)]
    pub node_local: Option<NodeLocalStatus>,
}

/// Node-local mode: whether this node's DNS addresses are captured, and what was repaired.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeLocalStatus {
    pub interface: String,
    /// `dummy`, or `bridge` where the kernel has no dummy driver; `None` until found.
    pub kind: Option<String>,
    pub interface_present: bool,
    pub addresses: Vec<NodeLocalAddress>,
    /// `inet cairn`.
    pub table: String,
    /// The table holds exactly the rules that capture the addresses.
    pub rules_present: bool,
    pub check_interval_seconds: f64,
    pub last_check_age_seconds: Option<f64>,
    pub last_repair: Option<NodeLocalRepair>,
    /// Things found missing and put back (interface, addresses, rules), since start.
    pub repairs: u64,
    /// Checks and repairs that failed, since start.
    pub failures: u64,
    /// Repairs and failures by what: `interface`, `addresses`, `rules`.
    #[serde(default)]
    pub repairs_by: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub failures_by: std::collections::BTreeMap<String, u64>,
    /// The last failure, kept until a check passes.
    pub last_error: Option<String>,
    /// DNS queries received on the node-local addresses since start.
    pub local_queries: u64,
    /// Other Cairn instances holding these addresses on this node now (an update in progress).
    pub other_instances: usize,
}

/// One captured address.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeLocalAddress {
    pub address: String,
    pub present: bool,
}

/// The last thing put back.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeLocalRepair {
    /// `interface`, `addresses` or `rules`.
    pub what: String,
    pub age_seconds: f64,
}

/// The candidate API endpoints and which one the watches use.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ApiStatus {
    /// URL of the endpoint the watches use now; `None` when no candidate is healthy.
    pub active: Option<String>,
    /// Times the watches moved from one endpoint to another.
    pub failovers: u64,
    pub endpoints: Vec<EndpointStatus>,
}

/// Where a candidate API endpoint came from.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EndpointOrigin {
    /// The configured server: the Service VIP (in-cluster), the kubeconfig's server, or the
    /// first `endpoint` URL. Preferred while healthy.
    Configured,
    /// A further URL given to `endpoint`.
    Endpoint,
    /// An API server address from the `default/kubernetes` EndpointSlice (learned from the
    /// API, or restored from the snapshot).
    Learned,
}

/// One candidate API endpoint, as the health checks see it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EndpointStatus {
    pub url: String,
    pub origin: EndpointOrigin,
    /// The last checks passed (`/readyz` answered 200 in time).
    pub healthy: bool,
    /// The watches use this endpoint now.
    pub active: bool,
    /// Seconds since the last successful check.
    pub last_success_age_seconds: Option<f64>,
    /// The last failed check's error, kept until a check succeeds.
    pub last_error: Option<String>,
    /// The last successful check's round trip, in milliseconds.
    pub latency_ms: Option<f64>,
    /// Checks failed in a row.
    pub consecutive_failures: u32,
}

/// Where the served cluster data came from and how old it is.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DataStatus {
    /// `api`, `snapshot` (restored, no fresh list yet), `file` (`--from`) or `none`.
    pub source: String,
    /// Every watch has listed from the API since start.
    pub synced: bool,
    /// Seconds since the last complete sync with the API; `None` before the first.
    pub last_sync_age_seconds: Option<f64>,
    /// How far behind the API the served data may be: 0 while every watch is connected to a
    /// healthy endpoint, else the seconds since the watches last were (or, for restored data,
    /// since the snapshot was written).
    pub staleness_seconds: f64,
    pub namespaces: usize,
    pub services: usize,
    pub endpoint_slices: usize,
    pub pods: usize,
}

/// The snapshot file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SnapshotStatus {
    pub path: String,
    /// The served state was restored from this file at start-up.
    pub restored: bool,
    /// Why the file found at start-up was not used (corrupt, truncated, incompatible), and
    /// where it was moved.
    pub set_aside: Option<String>,
    /// Seconds since the file now on disk was written; `None` if there is none.
    pub age_seconds: Option<f64>,
    pub size_bytes: Option<u64>,
    pub write_errors: u64,
    pub last_write_error: Option<String>,
}

type Provider = Box<dyn Fn() -> Status + Send + Sync>;
type NodeLocalProvider = Box<dyn Fn() -> NodeLocalStatus + Send + Sync>;

/// Where `/status` gets its document: the part of Cairn that knows the sources installs a
/// provider; until then (and for `--from` dumps without one) `/status` shows what the HTTP
/// listener itself knows. Cloning shares the slot.
/// Node-local mode fills its own part of the document, whichever provider is installed.
#[derive(Clone, Default)]
pub struct StatusBoard {
    main: std::sync::Arc<std::sync::RwLock<Option<Provider>>>,
    node_local: std::sync::Arc<std::sync::RwLock<Option<NodeLocalProvider>>>,
}

impl std::fmt::Debug for StatusBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusBoard")
    }
}

impl StatusBoard {
    /// From now on `/status` shows what `provider` returns.
    pub fn install(&self, provider: impl Fn() -> Status + Send + Sync + 'static) {
        let mut slot = self.main.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(Box::new(provider));
    }

    /// From now on `/status` shows `node_local` as `provider` returns it.
    pub fn install_node_local(
        &self,
        provider: impl Fn() -> NodeLocalStatus + Send + Sync + 'static,
    ) {
        let mut slot = self.node_local.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(Box::new(provider));
    }

    /// The current document (`live` is filled in by the HTTP listener, which runs the check).
    pub fn read(&self) -> Status {
        let mut status = self.read_main();
        let slot = self.node_local.read().unwrap_or_else(|e| e.into_inner());
        status.node_local = slot.as_ref().map(|provider| provider());
        status
    }

    fn read_main(&self) -> Status {
        let slot = self.main.read().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(provider) => provider(),
            None => Status {
                version: env!("CARGO_PKG_VERSION").to_string(),
                data: DataStatus {
                    source: "none".into(),
                    ..DataStatus::default()
                },
                ..Status::default()
            },
        }
    }
}
