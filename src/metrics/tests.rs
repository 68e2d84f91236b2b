use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::*;

use super::test_support::{label_names, parse, value};

const SERVER: &str = "dns://10.96.0.10:53";
const ZONE: &str = "cluster.local.";

fn record(m: &Metrics, qtype: RecordType, rcode: ResponseCode, proto: Transport, v6: bool) {
    m.query(
        SERVER,
        ZONE,
        "kubernetes",
        &Answered {
            transport: proto,
            ipv6_client: v6,
            qtype,
            rcode,
            request_size: 40,
            response_size: 120,
            duration: Duration::from_micros(300),
        },
    );
}

#[test]
fn queries_show_up_with_coredns_labels_and_counts() {
    let m = Metrics::new();
    record(
        &m,
        RecordType::A,
        ResponseCode::NoError,
        Transport::Udp,
        false,
    );
    record(
        &m,
        RecordType::A,
        ResponseCode::NoError,
        Transport::Udp,
        false,
    );
    record(
        &m,
        RecordType::AAAA,
        ResponseCode::NXDomain,
        Transport::Tcp,
        true,
    );
    record(
        &m,
        RecordType::CAA,
        ResponseCode::NoError,
        Transport::Udp,
        false,
    );
    let s = parse(&m.render());

    let base = [("server", SERVER), ("zone", ZONE), ("view", "")];
    let req = |proto, family, t| {
        let mut l = base.to_vec();
        l.extend([("proto", proto), ("family", family), ("type", t)]);
        value(&s, "coredns_dns_requests_total", &l)
    };
    assert_eq!(req("udp", "1", "A"), Some(2.0));
    assert_eq!(req("tcp", "2", "AAAA"), Some(1.0));
    assert_eq!(req("udp", "1", "other"), Some(1.0));
    assert_eq!(req("udp", "1", "CAA"), None);
    assert_eq!(
        label_names(&s, "coredns_dns_requests_total"),
        ["family", "proto", "server", "type", "view", "zone"]
    );

    let resp = |rcode| {
        let mut l = base.to_vec();
        l.extend([("rcode", rcode), ("plugin", "kubernetes")]);
        value(&s, "coredns_dns_responses_total", &l)
    };
    assert_eq!(resp("NOERROR"), Some(3.0));
    assert_eq!(resp("NXDOMAIN"), Some(1.0));

    // Duration: 300 µs lands in the 0.0005 bucket, not 0.00025.
    let dur = |le| {
        let mut l = base.to_vec();
        l.extend([("type", "A"), ("le", le)]);
        value(&s, "coredns_dns_request_duration_seconds_bucket", &l)
    };
    assert_eq!(dur("0.00025"), Some(0.0));
    assert_eq!(dur("0.0005"), Some(2.0));
    assert_eq!(dur("+Inf"), Some(2.0));
    let mut l = base.to_vec();
    l.push(("type", "A"));
    assert_eq!(
        value(&s, "coredns_dns_request_duration_seconds_count", &l),
        Some(2.0)
    );
    let sum = value(&s, "coredns_dns_request_duration_seconds_sum", &l).unwrap();
    assert!((sum - 0.0006).abs() < 1e-9, "{sum}");

    // Sizes in CoreDNS's buckets, per proto.
    let size = |name, proto, le| {
        let mut l = base.to_vec();
        l.extend([("proto", proto), ("le", le)]);
        value(&s, name, &l)
    };
    assert_eq!(
        size("coredns_dns_request_size_bytes_bucket", "udp", "0"),
        Some(0.0)
    );
    assert_eq!(
        size("coredns_dns_request_size_bytes_bucket", "udp", "100"),
        Some(3.0)
    );
    assert_eq!(
        size("coredns_dns_response_size_bytes_bucket", "udp", "100"),
        Some(0.0)
    );
    assert_eq!(
        size("coredns_dns_response_size_bytes_bucket", "udp", "200"),
        Some(3.0)
    );
    assert_eq!(
        size("coredns_dns_response_size_bytes_bucket", "tcp", "64000"),
        Some(1.0)
    );
    let les: Vec<&str> = s
        .iter()
        .filter(|x| {
            x.name == "coredns_dns_request_size_bytes_bucket"
                && x.labels.get("proto").map(String::as_str) == Some("udp")
        })
        .map(|x| x.labels["le"].as_str())
        .collect();
    assert_eq!(
        les,
        [
            "0", "100", "200", "300", "400", "511", "1023", "2047", "4095", "8291", "16000",
            "32000", "48000", "64000", "+Inf"
        ]
    );
}

#[test]
fn metric_types_match_coredns() {
    let m = Metrics::new();
    record(
        &m,
        RecordType::A,
        ResponseCode::NoError,
        Transport::Udp,
        false,
    );
    // The plugins' families, registered as a Corefile with them would.
    use crate::plugin::cache::metrics::CacheMetrics;
    use crate::plugin::forward::metrics::ForwardMetrics;
    use crate::plugin::reload::ReloadMetrics;
    m.plugin::<CacheMetrics>()
        .series(SERVER, ".")
        .entries(false, 3);
    m.plugin::<ForwardMetrics>().exchange(
        "127.0.0.1:1053",
        Some(ResponseCode::NoError),
        Duration::from_millis(2),
    );
    m.plugin::<ReloadMetrics>();
    let text = m.render();
    for (name, kind) in [
        ("coredns_dns_requests_total", "counter"),
        ("coredns_dns_responses_total", "counter"),
        ("coredns_dns_request_duration_seconds", "histogram"),
        ("coredns_dns_request_size_bytes", "histogram"),
        ("coredns_dns_response_size_bytes", "histogram"),
        ("coredns_cache_entries", "gauge"),
        ("coredns_proxy_request_duration_seconds", "histogram"),
        ("coredns_build_info", "gauge"),
        ("coredns_panics_total", "counter"),
        ("coredns_reload_failed_total", "counter"),
        ("coredns_forward_healthcheck_broken_total", "counter"),
        ("coredns_forward_max_concurrent_rejects_total", "counter"),
    ] {
        let line = format!("# TYPE {name} {kind}\n");
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn build_info_is_one() {
    let s = parse(&Metrics::new().render());
    assert_eq!(
        value(
            &s,
            "coredns_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    assert_eq!(
        label_names(&s, "coredns_build_info"),
        ["goversion", "revision", "version"]
    );
}

#[test]
fn plugins_enabled_and_programming_latency() {
    let m = Metrics::new();
    m.plugin_enabled(SERVER, ".", "kubernetes");
    m.plugin_enabled(SERVER, ".", "cache");
    let latency = AtomicHistogram::programming();
    latency.observe(nanos(Duration::from_micros(500)));
    latency.observe(nanos(Duration::from_millis(3)));
    m.set_programming_source(SERVICE_KIND_CLUSTER_IP, latency.clone());
    latency.observe(nanos(Duration::from_secs(3600)));
    let s = parse(&m.render());
    let enabled = |name| {
        value(
            &s,
            "coredns_plugin_enabled",
            &[
                ("server", SERVER),
                ("zone", "."),
                ("view", ""),
                ("name", name),
            ],
        )
    };
    assert_eq!(enabled("kubernetes"), Some(1.0));
    assert_eq!(enabled("cache"), Some(1.0));
    let prog = |suffix: &str, le: Option<&str>| {
        let mut l = vec![("service_kind", "cluster_ip")];
        l.extend(le.map(|le| ("le", le)));
        value(
            &s,
            &format!("coredns_kubernetes_dns_programming_duration_seconds{suffix}"),
            &l,
        )
    };
    // Read at scrape time: the third change, recorded after registration, is included.
    assert_eq!(prog("_count", None), Some(3.0));
    assert_eq!(prog("_bucket", Some("0.001")), Some(1.0));
    assert_eq!(prog("_bucket", Some("0.004")), Some(2.0));
    assert_eq!(prog("_bucket", Some("+Inf")), Some(3.0));
}

#[test]
fn rare_rcodes_take_the_slow_path() {
    let m = Metrics::new();
    let odd: ResponseCode = 99u16.into();
    m.query(
        SERVER,
        ZONE,
        "",
        &Answered {
            transport: Transport::Udp,
            ipv6_client: false,
            qtype: RecordType::A,
            rcode: odd,
            request_size: 1,
            response_size: 1,
            duration: Duration::ZERO,
        },
    );
    let s = parse(&m.render());
    assert_eq!(
        value(
            &s,
            "coredns_dns_responses_total",
            &[("rcode", "99"), ("plugin", "")]
        ),
        Some(1.0)
    );
}

#[test]
fn concurrent_recording_is_counted_exactly() {
    let m = Arc::new(Metrics::new());
    let threads: Vec<_> = (0..4u32)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || {
                let zone = if i.is_multiple_of(2) { "a." } else { "b." };
                for _ in 0..10_000 {
                    m.query(
                        SERVER,
                        zone,
                        "kubernetes",
                        &Answered {
                            transport: Transport::Udp,
                            ipv6_client: false,
                            qtype: RecordType::A,
                            rcode: ResponseCode::NoError,
                            request_size: 40,
                            response_size: 100,
                            duration: Duration::from_micros(10),
                        },
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = parse(&m.render());
    for zone in ["a.", "b."] {
        assert_eq!(
            value(&s, "coredns_dns_requests_total", &[("zone", zone)]),
            Some(20_000.0)
        );
    }
}

/// Rough cost of `query()` on the steady-state path:
/// `cargo test --release --lib -- --ignored query_cost --nocapture`.
#[test]
#[ignore]
fn query_cost() {
    let m = Metrics::new();
    let n = 5_000_000u32;
    let call = |i: u32| {
        m.query(
            SERVER,
            ZONE,
            "kubernetes",
            &Answered {
                transport: if i.is_multiple_of(8) {
                    Transport::Tcp
                } else {
                    Transport::Udp
                },
                ipv6_client: false,
                qtype: if i.is_multiple_of(2) {
                    RecordType::A
                } else {
                    RecordType::AAAA
                },
                rcode: ResponseCode::NoError,
                request_size: 40,
                response_size: 120,
                duration: Duration::from_nanos(u64::from(i % 100_000)),
            },
        )
    };
    for i in 0..1000 {
        call(i);
    }
    let start = std::time::Instant::now();
    for i in 0..n {
        call(i);
    }
    let per = start.elapsed().as_nanos() as f64 / f64::from(n);
    println!("query(): {per:.1} ns/call (1 thread)");

    let m = Arc::new(m);
    let threads = 4;
    let start = std::time::Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..n / 4 {
                    m.query(
                        SERVER,
                        ZONE,
                        "kubernetes",
                        &Answered {
                            transport: Transport::Udp,
                            ipv6_client: false,
                            qtype: RecordType::A,
                            rcode: ResponseCode::NoError,
                            request_size: 40,
                            response_size: 120,
                            duration: Duration::from_nanos(u64::from(i % 100_000)),
                        },
                    )
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let per = start.elapsed().as_nanos() as f64 / f64::from(n / 4);
    println!("query(): {per:.1} ns/call per thread ({threads} threads, one series)");
}
