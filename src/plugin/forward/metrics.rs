//! The `forward` plugin's metrics, under CoreDNS's names:
//! `coredns_proxy_request_duration_seconds{proxy_name="forward",to,rcode}`,
//! `coredns_proxy_healthcheck_failures_total{proxy_name,to}`, and the older
//! `coredns_forward_requests_total{to}`, `coredns_forward_responses_total{to,rcode}`,
//! `coredns_forward_healthcheck_failures_total{to}`, `coredns_forward_healthcheck_broken_total`
//! and `coredns_forward_max_concurrent_rejects_total`, kept for dashboards written before
//! CoreDNS 1.11. `coredns_proxy_healthcheck_failures_total` has labels `{proxy_name, to}`, as
//! CoreDNS's code registers it (its README also lists `rcode`).

use std::sync::OnceLock;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::metrics::{
    new_time_histogram, nanos, rcode_index, rcode_name, AtomicHistogram, HistogramFamily,
    Interner, PluginMetrics, Value, N_RCODES,
};

/// `proxy_name` of the `forward` plugin in `coredns_proxy_*`.
const PROXY_NAME: &str = "forward";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProxyDuration {
    proxy_name: &'static str,
    to: Value,
    rcode: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProxyTo {
    proxy_name: &'static str,
    to: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct To {
    to: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToRcode {
    rcode: Value,
    to: Value,
}

/// The registered families, and each upstream's series.
#[derive(Debug)]
pub struct ForwardMetrics {
    proxy_duration: HistogramFamily<ProxyDuration>,
    proxy_healthcheck_failures: Family<ProxyTo, Counter>,
    requests: Family<To, Counter>,
    responses: Family<ToRcode, Counter>,
    healthcheck_failures: Family<To, Counter>,
    healthcheck_broken: Counter,
    max_concurrent_rejects: Counter,
    upstreams: Interner<UpstreamSeries>,
}

/// Pre-resolved series of one upstream (`to`).
#[derive(Debug)]
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

impl PluginMetrics for ForwardMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = ForwardMetrics {
            proxy_duration: Family::new_with_constructor(new_time_histogram),
            proxy_healthcheck_failures: Family::default(),
            requests: Family::default(),
            responses: Family::default(),
            healthcheck_failures: Family::default(),
            healthcheck_broken: Counter::default(),
            max_concurrent_rejects: Counter::default(),
            upstreams: Interner::default(),
        };
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "coredns_proxy_request_duration_seconds",
            "Histogram of the time each request took",
            m.proxy_duration.clone(),
        );
        registry.register(
            "coredns_proxy_healthcheck_failures",
            "Counter of the number of failed healthchecks",
            m.proxy_healthcheck_failures.clone(),
        );
        registry.register(
            "coredns_forward_requests",
            "Counter of requests made per upstream",
            m.requests.clone(),
        );
        registry.register(
            "coredns_forward_responses",
            "Counter of responses received per upstream",
            m.responses.clone(),
        );
        registry.register(
            "coredns_forward_healthcheck_failures",
            "Counter of the number of failed healthchecks",
            m.healthcheck_failures.clone(),
        );
        registry.register(
            "coredns_forward_healthcheck_broken",
            "Counter of the number of complete failures of the healthchecks",
            m.healthcheck_broken.clone(),
        );
        registry.register(
            "coredns_forward_max_concurrent_rejects",
            "Counter of the number of queries rejected because the concurrent queries were at maximum",
            m.max_concurrent_rejects.clone(),
        );
        m
    }
}

impl ForwardMetrics {
    /// One query sent upstream: its duration by rcode and a request (and response) per
    /// upstream. `rcode` is `None` when no response came back; like CoreDNS, that counts a
    /// request but observes no duration.
    pub fn exchange(&self, to: &str, rcode: Option<ResponseCode>, duration: Duration) {
        self.upstreams.with(
            to,
            || UpstreamSeries::new(to),
            |u| {
                u.requests
                    .get_or_init(|| self.requests.get_or_create_owned(&To { to: u.to.clone() }))
                    .inc();
                let Some(rcode) = rcode else { return };
                let (code, slot) = rcode_index(rcode);
                let to_rcode = || ToRcode {
                    rcode: rcode_name(code),
                    to: u.to.clone(),
                };
                let proxy = || ProxyDuration {
                    proxy_name: PROXY_NAME,
                    to: u.to.clone(),
                    rcode: rcode_name(code),
                };
                match slot {
                    Some(i) => {
                        u.responses[i]
                            .get_or_init(|| self.responses.get_or_create_owned(&to_rcode()))
                            .inc();
                        u.duration[i]
                            .get_or_init(|| self.proxy_duration.get_or_create_owned(&proxy()))
                            .observe(nanos(duration));
                    }
                    None => {
                        self.responses.get_or_create(&to_rcode()).inc();
                        self.proxy_duration
                            .get_or_create(&proxy())
                            .observe(nanos(duration));
                    }
                }
            },
        );
    }

    /// A failed upstream health check.
    pub fn healthcheck_failure(&self, to: &str) {
        self.upstreams.with(
            to,
            || UpstreamSeries::new(to),
            |u| {
                u.proxy_healthcheck_failures
                    .get_or_init(|| {
                        self.proxy_healthcheck_failures
                            .get_or_create_owned(&ProxyTo {
                                proxy_name: PROXY_NAME,
                                to: u.to.clone(),
                            })
                    })
                    .inc();
                u.healthcheck_failures
                    .get_or_init(|| {
                        self.healthcheck_failures
                            .get_or_create_owned(&To { to: u.to.clone() })
                    })
                    .inc();
            },
        );
    }

    /// Every upstream was down.
    pub fn all_down(&self) {
        self.healthcheck_broken.inc();
    }

    /// A query refused because `max_concurrent` was reached.
    pub fn max_concurrent_reject(&self) {
        self.max_concurrent_rejects.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::{parse, value};
    use crate::metrics::Metrics;

    #[test]
    fn forward_series() {
        let metrics = Metrics::new();
        let m = metrics.plugin::<ForwardMetrics>();
        let to = "127.0.0.1:1053";
        m.exchange(to, Some(ResponseCode::NoError), Duration::from_millis(3));
        m.exchange(to, Some(ResponseCode::ServFail), Duration::from_millis(3));
        m.exchange(to, None, Duration::from_secs(2));
        m.healthcheck_failure(to);
        m.all_down();
        m.max_concurrent_reject();
        m.max_concurrent_reject();
        let s = parse(&metrics.render());
        let proxy = |rcode| {
            value(
                &s,
                "coredns_proxy_request_duration_seconds_count",
                &[("proxy_name", "forward"), ("to", to), ("rcode", rcode)],
            )
        };
        assert_eq!(proxy("NOERROR"), Some(1.0));
        assert_eq!(proxy("SERVFAIL"), Some(1.0));
        assert_eq!(
            value(&s, "coredns_forward_requests_total", &[("to", to)]),
            Some(3.0)
        );
        assert_eq!(
            value(
                &s,
                "coredns_forward_responses_total",
                &[("to", to), ("rcode", "SERVFAIL")]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &s,
                "coredns_proxy_healthcheck_failures_total",
                &[("proxy_name", "forward"), ("to", to)]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &s,
                "coredns_forward_healthcheck_failures_total",
                &[("to", to)]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&s, "coredns_forward_healthcheck_broken_total", &[]),
            Some(1.0)
        );
        assert_eq!(
            value(&s, "coredns_forward_max_concurrent_rejects_total", &[]),
            Some(2.0)
        );
    }
}
