//! Prometheus metrics under CoreDNS's names and labels, so existing dashboards and alerts keep
//! working; Cairn-only metrics are prefixed `cairn_`.
//!
//! Components record through the methods of [`Metrics`]; the HTTP `prometheus` listener renders
//! [`Metrics::render`]. (Interface first: the recording bodies are being filled in.)

use std::time::Duration;

/// Transport of a query, the `proto` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
}

/// Every metric Cairn exports.
#[derive(Debug, Default)]
pub struct Metrics {}

impl Metrics {
    pub fn new() -> Self {
        Metrics::default()
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
        proto: Proto,
        ipv6_client: bool,
        qtype: hickory_proto::rr::RecordType,
        rcode: hickory_proto::op::ResponseCode,
        plugin: &str,
        request_size: usize,
        response_size: usize,
        duration: Duration,
    ) {
        let _ = (
            server,
            zone,
            proto,
            ipv6_client,
            qtype,
            rcode,
            plugin,
            request_size,
            response_size,
            duration,
        );
    }

    /// One query sent upstream by `forward`: `coredns_proxy_request_duration_seconds{proxy_name="forward",to,rcode}`
    /// and `coredns_forward_requests_total{to}` / `coredns_forward_responses_total{to,rcode}`.
    pub fn forward_exchange(
        &self,
        to: &str,
        rcode: Option<hickory_proto::op::ResponseCode>,
        duration: Duration,
    ) {
        let _ = (to, rcode, duration);
    }

    /// A failed upstream health check: `coredns_proxy_healthcheck_failures_total{proxy_name="forward",to,rcode}`
    /// (also `coredns_forward_healthcheck_failures_total{to}`).
    pub fn forward_healthcheck_failure(&self, to: &str) {
        let _ = to;
    }

    /// Every upstream was down: `coredns_forward_healthcheck_broken_total`.
    pub fn forward_all_down(&self) {}

    /// A query refused because `max_concurrent` was reached:
    /// `coredns_forward_max_concurrent_rejects_total`.
    pub fn forward_max_concurrent_reject(&self) {}

    /// Cache lookups: `coredns_cache_hits_total{server,type,zones,view}` (type `success` or
    /// `denial`), `coredns_cache_misses_total{server,zones,view}`,
    /// `coredns_cache_served_stale_total{server,zones,view}`, `coredns_cache_prefetch_total`.
    pub fn cache_hit(&self, server: &str, zones: &str, denial: bool) {
        let _ = (server, zones, denial);
    }
    pub fn cache_miss(&self, server: &str, zones: &str) {
        let _ = (server, zones);
    }
    pub fn cache_served_stale(&self, server: &str, zones: &str) {
        let _ = (server, zones);
    }
    pub fn cache_prefetch(&self, server: &str, zones: &str) {
        let _ = (server, zones);
    }
    /// `coredns_cache_entries{server,type,zones,view}` (a gauge, set after each change).
    pub fn cache_entries(&self, server: &str, zones: &str, denial: bool, entries: usize) {
        let _ = (server, zones, denial, entries);
    }

    /// A Corefile reload that was not applied: `coredns_reload_failed_total`.
    pub fn reload_failed(&self) {}

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        String::new()
    }
}
