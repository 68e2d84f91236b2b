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
mod tests;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::dns::Transport;

pub use histogram::{AtomicHistogram, SIZE_BUCKETS, TIME_BUCKETS};
use intern::Interner;
use labels::{Value, N_QTYPES, N_RCODES};
use programming::Programming;

use crate::source::kubernetes::latency::ProgrammingLatency;

/// `Content-Type` of [`Metrics::render`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// `service_kind` label Cairn uses for its programming-latency histogram.
pub const SERVICE_KIND_CLUSTER_IP: &str = "cluster_ip";

/// `proxy_name` of the `forward` plugin in `coredns_proxy_*`.
const PROXY_NAME: &str = "forward";

/// `view` label: Cairn has no views.
fn view() -> Value {
    "".into()
}

type HistogramFamily<L> = Family<L, AtomicHistogram, fn() -> AtomicHistogram>;

/// The registered metric families; series are created through these on first use.
#[derive(Debug)]
struct Families {
    requests: Family<labels::Requests, Counter>,
    responses: Family<labels::Responses, Counter>,
    duration: HistogramFamily<labels::Duration>,
    request_size: HistogramFamily<labels::Size>,
    response_size: HistogramFamily<labels::Size>,
    cache_entries: Family<labels::CacheTyped, Gauge>,
    cache_hits: Family<labels::CacheTyped, Counter>,
    cache_requests: Family<labels::Cache, Counter>,
    cache_misses: Family<labels::Cache, Counter>,
    cache_served_stale: Family<labels::Cache, Counter>,
    cache_prefetch: Family<labels::Cache, Counter>,
    proxy_duration: HistogramFamily<labels::ProxyDuration>,
    proxy_healthcheck_failures: Family<labels::ProxyTo, Counter>,
    forward_requests: Family<labels::To, Counter>,
    forward_responses: Family<labels::ToRcode, Counter>,
    forward_healthcheck_failures: Family<labels::To, Counter>,
    forward_healthcheck_broken: Counter,
    forward_max_concurrent_rejects: Counter,
    plugin_enabled: Family<labels::PluginEnabled, Gauge>,
    reload_failed: Counter,
    forward_loops: Counter,
}

impl Families {
    fn register(registry: &mut Registry) -> Self {
        let f = Families {
            requests: Family::default(),
            responses: Family::default(),
            duration: Family::new_with_constructor(histogram::new_time),
            request_size: Family::new_with_constructor(histogram::new_size),
            response_size: Family::new_with_constructor(histogram::new_size),
            cache_entries: Family::default(),
            cache_hits: Family::default(),
            cache_requests: Family::default(),
            cache_misses: Family::default(),
            cache_served_stale: Family::default(),
            cache_prefetch: Family::default(),
            proxy_duration: Family::new_with_constructor(histogram::new_time),
            proxy_healthcheck_failures: Family::default(),
            forward_requests: Family::default(),
            forward_responses: Family::default(),
            forward_healthcheck_failures: Family::default(),
            forward_healthcheck_broken: Counter::default(),
            forward_max_concurrent_rejects: Counter::default(),
            plugin_enabled: Family::default(),
            reload_failed: Counter::default(),
            forward_loops: Counter::default(),
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
            "coredns_cache_entries",
            "The number of elements in the cache",
            f.cache_entries.clone(),
        );
        r.register(
            "coredns_cache_requests",
            "The count of cache requests",
            f.cache_requests.clone(),
        );
        r.register(
            "coredns_cache_hits",
            "The count of cache hits",
            f.cache_hits.clone(),
        );
        r.register(
            "coredns_cache_misses",
            "The count of cache misses. Deprecated, derive misses from cache hits/requests counters",
            f.cache_misses.clone(),
        );
        r.register(
            "coredns_cache_served_stale",
            "The number of requests served from stale cache entries",
            f.cache_served_stale.clone(),
        );
        r.register(
            "coredns_cache_prefetch",
            "The number of times the cache has prefetched a cached item",
            f.cache_prefetch.clone(),
        );
        r.register(
            "coredns_proxy_request_duration_seconds",
            "Histogram of the time each request took",
            f.proxy_duration.clone(),
        );
        r.register(
            "coredns_proxy_healthcheck_failures",
            "Counter of the number of failed healthchecks",
            f.proxy_healthcheck_failures.clone(),
        );
        r.register(
            "coredns_forward_requests",
            "Counter of requests made per upstream",
            f.forward_requests.clone(),
        );
        r.register(
            "coredns_forward_responses",
            "Counter of responses received per upstream",
            f.forward_responses.clone(),
        );
        r.register(
            "coredns_forward_healthcheck_failures",
            "Counter of the number of failed healthchecks",
            f.forward_healthcheck_failures.clone(),
        );
        r.register(
            "coredns_forward_healthcheck_broken",
            "Counter of the number of complete failures of the healthchecks",
            f.forward_healthcheck_broken.clone(),
        );
        r.register(
            "coredns_forward_max_concurrent_rejects",
            "Counter of the number of queries rejected because the concurrent queries were at maximum",
            f.forward_max_concurrent_rejects.clone(),
        );
        r.register(
            "coredns_plugin_enabled",
            "A metric that indicates whether a plugin is enabled on per server and zone basis",
            f.plugin_enabled.clone(),
        );
        r.register(
            "coredns_reload_failed",
            "Counter of the number of failed reload attempts",
            f.reload_failed.clone(),
        );
        r.register(
            "cairn_forward_loops_detected",
            "Forwarding loops the loop plugin detected (forwarding stopped for that block)",
            f.forward_loops.clone(),
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

/// Pre-resolved series of one cache (`server`, `zones`).
struct CacheSeries {
    server: Value,
    zones: Value,
    /// Indexed by denial (0 success, 1 denial).
    hits: [OnceLock<Counter>; 2],
    entries: [OnceLock<Gauge>; 2],
    requests: OnceLock<Counter>,
    misses: OnceLock<Counter>,
    served_stale: OnceLock<Counter>,
    prefetch: OnceLock<Counter>,
}

impl CacheSeries {
    fn new(server: &str, zones: &str) -> Self {
        CacheSeries {
            server: server.into(),
            zones: zones.into(),
            hits: Default::default(),
            entries: Default::default(),
            requests: OnceLock::new(),
            misses: OnceLock::new(),
            served_stale: OnceLock::new(),
            prefetch: OnceLock::new(),
        }
    }

    fn labels(&self) -> labels::Cache {
        labels::Cache {
            server: self.server.clone(),
            zones: self.zones.clone(),
            view: view(),
        }
    }

    fn typed(&self, denial: bool) -> labels::CacheTyped {
        labels::CacheTyped {
            server: self.server.clone(),
            r#type: if denial { "denial" } else { "success" },
            zones: self.zones.clone(),
            view: view(),
        }
    }
}

/// Pre-resolved series of one upstream (`to`).
struct UpstreamSeries {
    to: Value,
    requests: OnceLock<Counter>,
    /// Indexed by rcode.
    responses: [OnceLock<Counter>; N_RCODES],
    duration: [OnceLock<AtomicHistogram>; N_RCODES],
    healthcheck_failures: OnceLock<Counter>,
    proxy_healthcheck_failures: OnceLock<Counter>,
}

impl UpstreamSeries {
    fn new(to: &str) -> Self {
        UpstreamSeries {
            to: to.into(),
            requests: OnceLock::new(),
            responses: std::array::from_fn(|_| OnceLock::new()),
            duration: std::array::from_fn(|_| OnceLock::new()),
            healthcheck_failures: OnceLock::new(),
            proxy_healthcheck_failures: OnceLock::new(),
        }
    }
}

/// Every metric Cairn exports.
pub struct Metrics {
    registry: Registry,
    f: Families,
    /// server -> zone -> series.
    zones: Interner<Interner<ZoneSeries>>,
    /// server -> zones -> series.
    caches: Interner<Interner<CacheSeries>>,
    upstreams: Interner<UpstreamSeries>,
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

fn nanos(d: Duration) -> u64 {
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
            registry,
            f,
            zones: Interner::default(),
            caches: Interner::default(),
            upstreams: Interner::default(),
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
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &self,
        server: &str,
        zone: &str,
        proto: Transport,
        ipv6_client: bool,
        qtype: RecordType,
        rcode: ResponseCode,
        plugin: &str,
        request_size: usize,
        response_size: usize,
        duration: Duration,
    ) {
        let p = usize::from(proto == Transport::Tcp);
        let fam = usize::from(ipv6_client);
        let t = labels::qtype_index(qtype);
        self.zones.with(server, Interner::default, |zones| {
            zones.with(
                zone,
                || ZoneSeries::new(server, zone),
                |z| {
                    self.record_query(z, p, fam, t, request_size, response_size, duration);
                    let (code, slot) = labels::rcode_index(rcode);
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
    #[allow(clippy::too_many_arguments)]
    pub fn query_reused(
        &self,
        series: &ReuseSeries,
        ipv6_client: bool,
        qtype: RecordType,
        rcode: ResponseCode,
        request_size: usize,
        response_size: usize,
        duration: Duration,
    ) {
        let z = &series.zone;
        let fam = usize::from(ipv6_client);
        let t = labels::qtype_index(qtype);
        self.record_query(z, 0, fam, t, request_size, response_size, duration);
        let (code, slot) = labels::rcode_index(rcode);
        let fresh = OnceLock::new();
        let counter = slot.map_or(&fresh, |i| &series.responses[i]);
        self.record_response(z, counter, code, series.plugin);
    }

    #[allow(clippy::too_many_arguments)]
    fn record_query(
        &self,
        z: &ZoneSeries,
        p: usize,
        fam: usize,
        t: usize,
        request_size: usize,
        response_size: usize,
        duration: Duration,
    ) {
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
            .observe(nanos(duration));
        z.request_size[p]
            .get_or_init(|| f.request_size.get_or_create_owned(&z.size_labels(p)))
            .observe(request_size as u64);
        z.response_size[p]
            .get_or_init(|| f.response_size.get_or_create_owned(&z.size_labels(p)))
            .observe(response_size as u64);
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

    /// One query sent upstream by `forward`: `coredns_proxy_request_duration_seconds{proxy_name="forward",to,rcode}`
    /// and `coredns_forward_requests_total{to}` / `coredns_forward_responses_total{to,rcode}`.
    /// `rcode` is `None` when no response came back; like CoreDNS, that counts a request but
    /// observes no duration.
    pub fn forward_exchange(&self, to: &str, rcode: Option<ResponseCode>, duration: Duration) {
        let f = &self.f;
        self.upstreams.with(
            to,
            || UpstreamSeries::new(to),
            |u| {
                u.requests
                    .get_or_init(|| {
                        f.forward_requests
                            .get_or_create_owned(&labels::To { to: u.to.clone() })
                    })
                    .inc();
                let Some(rcode) = rcode else { return };
                let (code, slot) = labels::rcode_index(rcode);
                let to_rcode = || labels::ToRcode {
                    rcode: labels::rcode_name(code),
                    to: u.to.clone(),
                };
                let proxy = || labels::ProxyDuration {
                    proxy_name: PROXY_NAME,
                    to: u.to.clone(),
                    rcode: labels::rcode_name(code),
                };
                match slot {
                    Some(i) => {
                        u.responses[i]
                            .get_or_init(|| f.forward_responses.get_or_create_owned(&to_rcode()))
                            .inc();
                        u.duration[i]
                            .get_or_init(|| f.proxy_duration.get_or_create_owned(&proxy()))
                            .observe(nanos(duration));
                    }
                    None => {
                        f.forward_responses.get_or_create(&to_rcode()).inc();
                        f.proxy_duration
                            .get_or_create(&proxy())
                            .observe(nanos(duration));
                    }
                }
            },
        );
    }

    /// A failed upstream health check: `coredns_proxy_healthcheck_failures_total{proxy_name="forward",to}`
    /// (also `coredns_forward_healthcheck_failures_total{to}`).
    pub fn forward_healthcheck_failure(&self, to: &str) {
        let f = &self.f;
        self.upstreams.with(
            to,
            || UpstreamSeries::new(to),
            |u| {
                u.proxy_healthcheck_failures
                    .get_or_init(|| {
                        f.proxy_healthcheck_failures
                            .get_or_create_owned(&labels::ProxyTo {
                                proxy_name: PROXY_NAME,
                                to: u.to.clone(),
                            })
                    })
                    .inc();
                u.healthcheck_failures
                    .get_or_init(|| {
                        f.forward_healthcheck_failures
                            .get_or_create_owned(&labels::To { to: u.to.clone() })
                    })
                    .inc();
            },
        );
    }

    /// Every upstream was down: `coredns_forward_healthcheck_broken_total`.
    pub fn forward_all_down(&self) {
        self.f.forward_healthcheck_broken.inc();
    }

    /// A query refused because `max_concurrent` was reached:
    /// `coredns_forward_max_concurrent_rejects_total`.
    pub fn forward_max_concurrent_reject(&self) {
        self.f.forward_max_concurrent_rejects.inc();
    }

    fn cache(&self, server: &str, zones: &str, f: impl FnOnce(&CacheSeries)) {
        self.caches.with(server, Interner::default, |by_zones| {
            by_zones.with(zones, || CacheSeries::new(server, zones), f)
        });
    }

    /// Cache lookups: `coredns_cache_hits_total{server,type,zones,view}` (type `success` or
    /// `denial`), `coredns_cache_misses_total{server,zones,view}`,
    /// `coredns_cache_served_stale_total{server,zones,view}`, `coredns_cache_prefetch_total`.
    /// Hits and misses also count `coredns_cache_requests_total{server,zones,view}`.
    pub fn cache_hit(&self, server: &str, zones: &str, denial: bool) {
        let f = &self.f;
        self.cache(server, zones, |c| {
            c.hits[usize::from(denial)]
                .get_or_init(|| f.cache_hits.get_or_create_owned(&c.typed(denial)))
                .inc();
            c.requests
                .get_or_init(|| f.cache_requests.get_or_create_owned(&c.labels()))
                .inc();
        });
    }
    pub fn cache_miss(&self, server: &str, zones: &str) {
        let f = &self.f;
        self.cache(server, zones, |c| {
            c.misses
                .get_or_init(|| f.cache_misses.get_or_create_owned(&c.labels()))
                .inc();
            c.requests
                .get_or_init(|| f.cache_requests.get_or_create_owned(&c.labels()))
                .inc();
        });
    }
    pub fn cache_served_stale(&self, server: &str, zones: &str) {
        let f = &self.f;
        self.cache(server, zones, |c| {
            c.served_stale
                .get_or_init(|| f.cache_served_stale.get_or_create_owned(&c.labels()))
                .inc();
        });
    }
    pub fn cache_prefetch(&self, server: &str, zones: &str) {
        let f = &self.f;
        self.cache(server, zones, |c| {
            c.prefetch
                .get_or_init(|| f.cache_prefetch.get_or_create_owned(&c.labels()))
                .inc();
        });
    }
    /// `coredns_cache_entries{server,type,zones,view}` (a gauge, set after each change).
    pub fn cache_entries(&self, server: &str, zones: &str, denial: bool, entries: usize) {
        let f = &self.f;
        self.cache(server, zones, |c| {
            c.entries[usize::from(denial)]
                .get_or_init(|| f.cache_entries.get_or_create_owned(&c.typed(denial)))
                .set(i64::try_from(entries).unwrap_or(i64::MAX));
        });
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

    /// A Corefile reload that failed (the old configuration keeps serving):
    /// `coredns_reload_failed_total`.
    pub fn reload_failed(&self) {
        self.f.reload_failed.inc();
    }

    /// The `loop` plugin found a forwarding loop: `cairn_forward_loops_detected_total`.
    pub fn forward_loop_detected(&self) {
        self.f.forward_loops.inc();
    }

    /// Export `source` as `coredns_kubernetes_dns_programming_duration_seconds{service_kind}`
    /// (read at scrape time). Cairn times every change of every Service kind in one histogram;
    /// pass [`SERVICE_KIND_CLUSTER_IP`] for it. Setting a kind again replaces its source.
    pub fn set_programming_source(&self, service_kind: &str, source: Arc<ProgrammingLatency>) {
        self.programming.set(service_kind, source);
    }

    /// The Prometheus text exposition (format 0.0.4, [`CONTENT_TYPE`]) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}
