//! Prometheus metrics under CoreDNS's names, labels, types and buckets, so existing dashboards
//! and alerts keep working; Cairn-only metrics would be prefixed `cairn_`.
//!
//! Components record through the methods of [`Metrics`]; the HTTP `prometheus` listener
//! (`crate::http`) serves [`Metrics::render`] as Prometheus text 0.0.4 ([`CONTENT_TYPE`]), the
//! format CoreDNS's Go client serves by default.
//!
//! **Library.** `prometheus-client` 0.26: its registry, label-set derive and Prometheus 0.0.4
//! text encoder are all this module needs, with no global default registry and no `protobuf`
//! dependency (the `prometheus` crate brings both). Its classic `Histogram` takes a mutex per
//! observation, so histograms here are [`histogram::AtomicHistogram`] (relaxed atomics, encoded
//! through the same `EncodeMetric` trait).
//!
//! **Hot path.** [`Metrics::query`] runs for every DNS query on several threads. It never
//! builds a label set after the first query of a series: each `(server, zone)` pair resolves
//! (lock-free `ArcSwap` load and a short scan, see [`intern`]) to a struct of pre-resolved
//! series handles indexed by proto, family, qtype and rcode, created lazily so that, as in
//! CoreDNS, a series appears on its first observation. The steady state is that lookup plus
//! seven relaxed atomic adds; no allocation, no lock. Measured with
//! `cargo test --release --lib -- --ignored query_cost --nocapture` on the development
//! machine: about 130 ns per call on one thread; about 0.9 µs per call per thread when four
//! threads hammer the *same* series in a tight loop (the shared counters' cache lines bounce;
//! CoreDNS's Go counters behave the same way). Real queries interleave far more work per call.
//!
//! **Deviations from CoreDNS.** `view` is always empty (Cairn has no `view` plugin).
//! `coredns_build_info{goversion}` is `rust` unless `CAIRN_RUSTC_VERSION` is set at build
//! time; `revision` is `CAIRN_REVISION` at build time or empty.
//! `coredns_kubernetes_dns_programming_duration_seconds` comes from the source's own histogram
//! (see [`Metrics::set_programming_source`]): Cairn times every change it serves, while CoreDNS
//! only records headless services with a selector.
//! `coredns_proxy_healthcheck_failures_total` has labels `{proxy_name, to}`, as CoreDNS's code
//! registers it (its README also lists `rcode`). The older `coredns_forward_requests_total`,
//! `coredns_forward_responses_total` and `coredns_forward_healthcheck_failures_total` are kept
//! alongside the `coredns_proxy_*` series for dashboards written before CoreDNS 1.11.

mod histogram;
mod intern;
mod labels;
mod programming;
mod survival;
#[cfg(test)]
pub mod test_support;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::dns::Transport;

pub use histogram::{
    new_time as new_time_histogram, AtomicHistogram, PROGRAMMING_BUCKETS, SIZE_BUCKETS,
    TIME_BUCKETS,
};
pub use intern::Interner;
use labels::N_QTYPES;
pub use labels::{rcode_index, rcode_name, Value, N_RCODES};
use programming::Programming;

/// `Content-Type` of [`Metrics::render`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// `service_kind` label Cairn uses for its programming-latency histogram.
pub const SERVICE_KIND_CLUSTER_IP: &str = "cluster_ip";

/// What one answered query counts: the labels it is filed under beyond its server, zone and
/// plugin, and what it measured.
#[derive(Clone, Copy, Debug)]
pub struct Answered {
    pub transport: Transport,
    pub ipv6_client: bool,
    pub qtype: RecordType,
    pub rcode: ResponseCode,
    pub request_size: usize,
    pub response_size: usize,
    pub duration: Duration,
}

/// `view` label: Cairn has no views.
pub fn view() -> Value {
    "".into()
}

/// A plugin's metric families: registered into the one registry the first time a plugin asks
/// for them ([`Metrics::plugin`]), so only the plugins a Corefile uses export series.
pub trait PluginMetrics: Send + Sync + 'static {
    fn register(registry: &mut Registry) -> Self;
}

/// A family of [`AtomicHistogram`]s.
pub type HistogramFamily<L> = Family<L, AtomicHistogram, fn() -> AtomicHistogram>;

/// The registered metric families; series are created through these on first use.
#[derive(Debug)]
struct Families {
    requests: Family<labels::Requests, Counter>,
    responses: Family<labels::Responses, Counter>,
    duration: HistogramFamily<labels::Duration>,
    request_size: HistogramFamily<labels::Size>,
    response_size: HistogramFamily<labels::Size>,
    plugin_enabled: Family<labels::PluginEnabled, Gauge>,
}

impl Families {
    fn register(registry: &mut Registry) -> Self {
        let f = Families {
            requests: Family::default(),
            responses: Family::default(),
            duration: Family::new_with_constructor(histogram::new_time),
            request_size: Family::new_with_constructor(histogram::new_size),
            response_size: Family::new_with_constructor(histogram::new_size),
            plugin_enabled: Family::default(),
        };
        // Counters are registered without `_total`: the encoder appends it.
        let r = registry;
        r.register(
            "coredns_dns_requests",
            "Counter of DNS requests made per zone, protocol and family",
            f.requests.clone(),
        );
        r.register(
            "coredns_dns_responses",
            "Counter of response status codes",
            f.responses.clone(),
        );
        r.register(
            "coredns_dns_request_duration_seconds",
            "Histogram of the time (in seconds) each request took per zone",
            f.duration.clone(),
        );
        r.register(
            "coredns_dns_request_size_bytes",
            "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol",
            f.request_size.clone(),
        );
        r.register(
            "coredns_dns_response_size_bytes",
            "Size of the returned response in bytes",
            f.response_size.clone(),
        );
        r.register(
            "coredns_plugin_enabled",
            "A metric that indicates whether a plugin is enabled on per server and zone basis",
            f.plugin_enabled.clone(),
        );
        f
    }
}

/// The series of one kind of UDP answer a listener serves again from its own cache
/// ([`Metrics::reuse_series`]).
#[derive(Clone)]
pub struct ReuseSeries {
    zone: Arc<ZoneSeries>,
    responses: Arc<[OnceLock<Counter>; N_RCODES]>,
    plugin: &'static str,
}

/// Pre-resolved series of one `(server, zone)`.
struct ZoneSeries {
    server: Value,
    zone: Value,
    /// Indexed by `(proto * 2 + family) * N_QTYPES + type`.
    requests: [OnceLock<Counter>; 4 * N_QTYPES],
    duration: [OnceLock<AtomicHistogram>; N_QTYPES],
    /// Indexed by proto (0 udp, 1 tcp).
    request_size: [OnceLock<AtomicHistogram>; 2],
    response_size: [OnceLock<AtomicHistogram>; 2],
    /// Per answering plugin, indexed by rcode.
    responses: Interner<[OnceLock<Counter>; N_RCODES]>,
}

impl ZoneSeries {
    fn new(server: &str, zone: &str) -> Self {
        ZoneSeries {
            server: server.into(),
            zone: zone.into(),
            requests: std::array::from_fn(|_| OnceLock::new()),
            duration: std::array::from_fn(|_| OnceLock::new()),
            request_size: std::array::from_fn(|_| OnceLock::new()),
            response_size: std::array::from_fn(|_| OnceLock::new()),
            responses: Interner::default(),
        }
    }

    fn size_labels(&self, proto: usize) -> labels::Size {
        labels::Size {
            server: self.server.clone(),
            zone: self.zone.clone(),
            view: view(),
            proto: labels::proto_name(proto == 0),
        }
    }
}

/// Every metric Cairn exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    f: Families,
    /// server -> zone -> series.
    zones: Interner<Interner<ZoneSeries>>,
    /// Each plugin's families ([`PluginMetrics`]), registered on first use.
    plugins: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
    programming: Programming,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A duration in the nanoseconds time histograms record.
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Metrics {
    /// Metrics whose `cairn_*` survival series are read from a status board of their own (for
    /// tests and tools; a server's is [`Metrics::with_status`]).
    pub fn new() -> Self {
        Metrics::with_status(crate::status::StatusBoard::default())
    }

    /// Metrics whose `cairn_api_*`, `cairn_data_*`, `cairn_snapshot_*` and `cairn_nodelocal_*`
    /// series are read at scrape time from `status`, the board `/status` serves.
    pub fn with_status(status: crate::status::StatusBoard) -> Self {
        let mut registry = Registry::default();
        let f = Families::register(&mut registry);

        let build_info: Family<labels::BuildInfo, Gauge> = Family::default();
        build_info
            .get_or_create(&labels::BuildInfo {
                version: env!("CARGO_PKG_VERSION"),
                revision: option_env!("CAIRN_REVISION").unwrap_or(""),
                goversion: option_env!("CAIRN_RUSTC_VERSION").unwrap_or("rust"),
            })
            .set(1);
        registry.register(
            "coredns_build_info",
            "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built",
            build_info,
        );
        // CoreDNS always exports its panic counter; Cairn does not recover from panics, so it
        // stays 0, but alerts written against it keep evaluating.
        registry.register(
            "coredns_panics",
            "A metrics that counts the number of panics",
            Counter::<u64>::default(),
        );

        let programming = Programming::default();
        registry.register_collector(Box::new(programming.clone()));
        let survival = survival::Survival(status);
        registry.register_collector(Box::new(survival));

        Metrics {
            registry: Mutex::new(registry),
            f,
            zones: Interner::default(),
            plugins: Mutex::new(Vec::new()),
            programming,
        }
    }

    /// One answered query: `coredns_dns_requests_total{server,zone,view,proto,family,type}`,
    /// `coredns_dns_responses_total{server,zone,view,rcode,plugin}`,
    /// `coredns_dns_request_duration_seconds{server,zone,view,type}`,
    /// `coredns_dns_request_size_bytes{server,zone,view,proto}`,
    /// `coredns_dns_response_size_bytes{server,zone,view,proto}`.
    /// `server` is `dns://ADDR:PORT`, `zone` the server block zone that matched, `family` 1 for
    /// IPv4 clients and 2 for IPv6, `type` the qtype mnemonic (CoreDNS folds uncommon types
    /// into `other`), `plugin` the plugin that wrote the answer (empty if none).
    pub fn query(&self, server: &str, zone: &str, plugin: &str, answered: &Answered) {
        self.zones.with(server, Interner::default, |zones| {
            zones.with(
                zone,
                || ZoneSeries::new(server, zone),
                |z| {
                    self.record_query(z, answered);
                    let (code, slot) = labels::rcode_index(answered.rcode);
                    match slot {
                        Some(i) => z.responses.with(
                            plugin,
                            || std::array::from_fn(|_| OnceLock::new()),
                            |by_rcode| self.record_response(z, &by_rcode[i], code, plugin),
                        ),
                        None => self.record_response(z, &OnceLock::new(), code, plugin),
                    }
                },
            )
        });
    }

    /// Queries received by the listener whose `server` label is given, over every zone,
    /// protocol and type (`coredns_dns_requests_total` summed).
    pub fn requests_for_server(&self, server: &str) -> u64 {
        let servers = self.zones.entries();
        let Some((_, zones)) = servers.iter().find(|(k, _)| &**k == server) else {
            return 0;
        };
        zones
            .entries()
            .iter()
            .flat_map(|(_, z)| z.requests.iter())
            .filter_map(|c| c.get().map(|c| c.get()))
            .sum()
    }

    /// The series a UDP answer served again from a listener's own cache counts into, looked up
    /// by name once, when the answer is kept ([`Metrics::query_reused`] then needs no lookup).
    pub fn reuse_series(&self, server: &str, zone: &str, plugin: &'static str) -> ReuseSeries {
        let zone = self
            .zones
            .get(server, Interner::default)
            .get(zone, || ZoneSeries::new(server, zone));
        let responses = zone
            .responses
            .get(plugin, || std::array::from_fn(|_| OnceLock::new()));
        ReuseSeries {
            zone,
            responses,
            plugin,
        }
    }

    /// [`Metrics::query`] for a UDP answer served again: the same series, no lookups.
    pub fn query_reused(&self, series: &ReuseSeries, answered: &Answered) {
        let z = &series.zone;
        self.record_query(z, answered);
        let (code, slot) = labels::rcode_index(answered.rcode);
        let fresh = OnceLock::new();
        let counter = slot.map_or(&fresh, |i| &series.responses[i]);
        self.record_response(z, counter, code, series.plugin);
    }

    fn record_query(&self, z: &ZoneSeries, a: &Answered) {
        let p = usize::from(a.transport == Transport::Tcp);
        let fam = usize::from(a.ipv6_client);
        let t = labels::qtype_index(a.qtype);
        let f = &self.f;
        z.requests[(p * 2 + fam) * N_QTYPES + t]
            .get_or_init(|| {
                f.requests.get_or_create_owned(&labels::Requests {
                    server: z.server.clone(),
                    zone: z.zone.clone(),
                    view: view(),
                    proto: labels::proto_name(p == 0),
                    family: if fam == 0 { "1" } else { "2" },
                    r#type: labels::qtype_name(t),
                })
            })
            .inc();
        z.duration[t]
            .get_or_init(|| {
                f.duration.get_or_create_owned(&labels::Duration {
                    server: z.server.clone(),
                    zone: z.zone.clone(),
                    view: view(),
                    r#type: labels::qtype_name(t),
                })
            })
            .observe(nanos(a.duration));
        z.request_size[p]
            .get_or_init(|| f.request_size.get_or_create_owned(&z.size_labels(p)))
            .observe(a.request_size as u64);
        z.response_size[p]
            .get_or_init(|| f.response_size.get_or_create_owned(&z.size_labels(p)))
            .observe(a.response_size as u64);
    }

    /// Counts one response into `counter` (resolved on first use; a fresh cell for an rcode
    /// without a slot, which the family then finds by its labels).
    fn record_response(
        &self,
        z: &ZoneSeries,
        counter: &OnceLock<Counter>,
        code: u16,
        plugin: &str,
    ) {
        counter
            .get_or_init(|| {
                self.f.responses.get_or_create_owned(&labels::Responses {
                    server: z.server.clone(),
                    zone: z.zone.clone(),
                    view: view(),
                    rcode: labels::rcode_name(code),
                    plugin: plugin.into(),
                })
            })
            .inc();
    }

    /// `coredns_plugin_enabled{server,zone,view,name}` = 1: `name` is enabled in the server
    /// block serving `zone` on `server` (`dns://ADDR:PORT`). Call once per plugin at startup and
    /// after each reload.
    pub fn plugin_enabled(&self, server: &str, zone: &str, name: &str) {
        self.f
            .plugin_enabled
            .get_or_create(&labels::PluginEnabled {
                server: server.into(),
                zone: zone.into(),
                view: view(),
                name: name.into(),
            })
            .set(1);
    }

    /// The families of plugin metrics `T`, registered with the first call (each plugin's
    /// metrics live in its folder; a plugin asks for them when it is built).
    pub fn plugin<T: PluginMetrics>(&self) -> Arc<T> {
        let mut plugins = self.plugins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = plugins.iter().find_map(|p| p.clone().downcast::<T>().ok()) {
            return found;
        }
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let families = Arc::new(T::register(&mut registry));
        plugins.push(families.clone());
        families
    }

    /// Export `source` as `coredns_kubernetes_dns_programming_duration_seconds{service_kind}`
    /// (read at scrape time). Cairn times every change of every Service kind in one histogram;
    /// pass [`SERVICE_KIND_CLUSTER_IP`] for it. Setting a kind again replaces its source.
    pub fn set_programming_source(&self, service_kind: &str, source: AtomicHistogram) {
        self.programming.set(service_kind, source);
    }

    /// The Prometheus text exposition (format 0.0.4, [`CONTENT_TYPE`]) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}
