//! The Corefiles kubeadm, k0s and k3s ship, verbatim but for their addresses (DNS and HTTP on
//! ephemeral loopback ports, the upstream replaced by a fake one on 127.0.0.1, k3s's files in a
//! temp dir), run against the bundled example cluster: cluster answers, forwarded answers,
//! PTR fallthrough, ExternalName through the upstream, hosts, caching, a dead upstream.

mod common;
mod upstream;

use std::path::Path;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use common::{exchange, query, render_all, Transport, TRANSPORTS};
use upstream::Upstream;

fn fake_upstream() -> Upstream {
    Upstream::start(vec![
        ("example.org.", 300, "A", "192.0.2.1"),
        ("123.2.0.192.in-addr.arpa.", 300, "PTR", "my.test."),
        ("payments.example.com.", 300, "A", "192.0.2.50"),
    ])
}

/// A shipped Corefile with its addresses made local to this test.
fn localize(name: &str, upstream: &Upstream, dir: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corefiles")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture Corefile");
    text.replace(".:53 {", ".:0 {\n    bind 127.0.0.1")
        .replace("/etc/resolv.conf", &upstream.addr.to_string())
        .replace("    health {", "    health 127.0.0.1:0 {")
        .replace("    health\n", "    health 127.0.0.1:0\n")
        .replace("    ready\n", "    ready 127.0.0.1:0\n")
        .replace("prometheus :9153", "prometheus 127.0.0.1:0")
        .replace("/etc/coredns/", &format!("{}/", dir.display()))
}

fn example_state() -> cairn::cluster::model::ClusterState {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cluster.yaml");
    cairn::source::file::load_dump(&path)
        .expect("the bundled example loads")
        .state
}

struct Running {
    server: cairn::server::RunningServer,
    _dir: tempfile::TempDir,
}

fn run(name: &str, upstream: &Upstream) -> Running {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("custom")).unwrap();
    std::fs::write(
        dir.path().join("NodeHosts"),
        "192.168.49.2 control-plane\n192.168.49.3 worker-1\n",
    )
    .unwrap();
    let corefile = localize(name, upstream, dir.path());
    let config = cairn::config::parse_corefile(&corefile, &dir.path().join("Corefile"), &|_| None)
        .unwrap_or_else(|e| panic!("{name} does not load: {e}\n{corefile}"));
    let server = cairn::run::start(config, example_state()).expect("server starts");
    Running { server, _dir: dir }
}

fn answers(m: &hickory_proto::op::Message) -> Vec<String> {
    // (full zone-file lines, for answers whose TTL is not counted down by a cache)
    let mut v = render_all(&m.answers);
    v.sort();
    v
}

const SHIPPED: [&str; 4] = [
    "kubeadm.Corefile",
    "kubeadm-old.Corefile",
    "k0s.Corefile",
    "k3s.Corefile",
];

#[test]
fn shipped_corefiles_answer_cluster_and_forwarded_names() {
    let upstream = fake_upstream();
    for name in SHIPPED {
        let running = run(name, &upstream);
        let dns = running.server.local_addrs()[0];
        for t in TRANSPORTS {
            let ask = |qname: &str, qtype| {
                exchange(dns, t, &query(qname, qtype, Some(1232)))
                    .unwrap_or_else(|e| panic!("{name} {t:?} {qname}: {e}"))
            };
            let m = ask("kubernetes.default.svc.cluster.local.", RecordType::A);
            assert_eq!(
                m.answers
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>(),
                ["10.96.0.1"],
                "{name} {t:?}"
            );
            // The block's `ttl` (30; k3s keeps the default 5), counted down when cached.
            let ttl = if name.starts_with("k3s") { 5 } else { 30 };
            assert!(
                m.answers[0].ttl <= ttl && m.answers[0].ttl + 3 >= ttl,
                "{name}: ttl"
            );
            assert!(
                m.metadata.authoritative,
                "{name}: cluster answers are authoritative"
            );

            let m = ask("example.org.", RecordType::A);
            assert_eq!(
                m.metadata.response_code,
                ResponseCode::NoError,
                "{name} {t:?}"
            );
            assert_eq!(
                m.answers
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>(),
                ["192.0.2.1"],
                "{name} {t:?}: forwarded"
            );
            assert!(
                m.metadata.recursion_available,
                "{name}: RA on forwarded answers"
            );

            // PTRs the cluster does not own fall through to the upstream (e2e "Forward PTR lookup").
            let m = ask("123.2.0.192.in-addr.arpa.", RecordType::PTR);
            assert_eq!(
                m.answers
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>(),
                ["my.test."],
                "{name} {t:?}: PTR fallthrough"
            );
            // ... while cluster PTRs are answered by the cluster.
            let m = ask("1.0.96.10.in-addr.arpa.", RecordType::PTR);
            assert_eq!(
                m.answers
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>(),
                ["kubernetes.default.svc.cluster.local."],
                "{name} {t:?}"
            );

            // An ExternalName outside the cluster: CNAME first, then the upstream's address.
            let m = ask("payments.shop.svc.cluster.local.", RecordType::A);
            assert_eq!(
                m.answers
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>(),
                ["payments.example.com.", "192.0.2.50"],
                "{name} {t:?}: ExternalName chased upstream"
            );

            // Search-path misses stay NXDOMAIN from the cluster (not forwarded).
            let m = ask(
                "kubernetes.default.default.svc.cluster.local.",
                RecordType::A,
            );
            assert_eq!(
                m.metadata.response_code,
                ResponseCode::NXDomain,
                "{name} {t:?}"
            );
        }
        if name.starts_with("k3s") {
            let m = exchange(
                dns,
                Transport::Udp,
                &query("worker-1.", RecordType::A, None),
            )
            .unwrap();
            assert_eq!(
                answers(&m),
                ["worker-1. 60 IN A 192.168.49.3"],
                "k3s NodeHosts"
            );
        }
    }
}

/// A plain HTTP/1.1 GET: (status, body).
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("HTTP listener");
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn shipped_corefiles_serve_health_ready_and_coredns_metrics() {
    use cairn::server::HttpRole;
    let upstream = fake_upstream();
    for name in SHIPPED {
        let running = run(name, &upstream);
        let server = &running.server;
        let dns = server.local_addrs()[0];
        // Three times: the repeats may be served from a listener's own copy of the answer, and
        // must be counted all the same.
        for _ in 0..3 {
            exchange(
                dns,
                Transport::Udp,
                &query("web.shop.svc.cluster.local.", RecordType::A, None),
            )
            .unwrap();
        }
        exchange(
            dns,
            Transport::Tcp,
            &query("example.org.", RecordType::A, None),
        )
        .unwrap();

        let health = server.http_addr(HttpRole::Health).expect("health listener");
        assert_eq!(get(health, "/health"), (200, "OK".into()), "{name}");
        let ready = server.http_addr(HttpRole::Ready).expect("ready listener");
        assert_eq!(get(ready, "/ready"), (200, "OK".into()), "{name}");
        let metrics = server
            .http_addr(HttpRole::Metrics)
            .expect("prometheus listener");
        // A reused UDP answer is counted right after it is sent: allow the scrape to trail it.
        let wants = ["coredns_build_info{",
            "coredns_dns_requests_total{server=\"dns://127.0.0.1:0\",zone=\".\",view=\"\",proto=\"udp\",family=\"1\",type=\"A\"} 3",
            "coredns_dns_responses_total{server=\"dns://127.0.0.1:0\",zone=\".\",view=\"\",rcode=\"NOERROR\",plugin=\"kubernetes\"}",
            "coredns_dns_request_duration_seconds_bucket{",
            "coredns_dns_response_size_bytes_bucket{",
            "coredns_plugin_enabled{server=\"dns://127.0.0.1:0\",zone=\".\",view=\"\",name=\"kubernetes\"} 1",
            "coredns_proxy_request_duration_seconds_bucket{proxy_name=\"forward\"",
            "coredns_cache_misses_total{",
        ];
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        let (status, text) = loop {
            let (status, text) = get(metrics, "/metrics");
            let complete = wants.iter().all(|w| text.contains(w));
            if status != 200 || complete || std::time::Instant::now() > deadline {
                break (status, text);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status, 200, "{name}");
        for want in wants {
            assert!(text.contains(want), "{name}: /metrics lacks {want}\n{text}");
        }
        assert_eq!(get(health, "/nope").0, 404);

        // Shutdown: /ready turns false at once, /health and DNS carry on during lameduck.
        server.begin_lameduck();
        assert_eq!(get(ready, "/ready").0, 503, "{name}");
        assert_eq!(get(health, "/health").0, 200, "{name}");
        let m = exchange(
            dns,
            Transport::Udp,
            &query("web.shop.svc.cluster.local.", RecordType::A, None),
        )
        .unwrap();
        assert_eq!(m.answers.len(), 1);
    }
}

#[test]
fn forwarded_answers_are_cached() {
    let upstream = Upstream::start(vec![("cached.example.", 300, "A", "192.0.2.9")]);
    let running = run("k0s.Corefile", &upstream);
    let dns = running.server.local_addrs()[0];
    // The same query bytes each time (same ID), as a client's retries are.
    let q = query("cached.example.", RecordType::A, None);
    for _ in 0..5 {
        let m = exchange(dns, Transport::Udp, &q).unwrap();
        assert_eq!(m.answers.len(), 1);
    }
    assert_eq!(
        upstream.asked("cached.example."),
        1,
        "one upstream query, then cache hits"
    );
    // Hits served from the listener's encoded copies still count down, and are counted.
    std::thread::sleep(Duration::from_millis(2100));
    let m = exchange(dns, Transport::Udp, &q).unwrap();
    assert!(
        m.answers[0].ttl <= 298,
        "TTL counts down: {}",
        m.answers[0].ttl
    );
    let metrics = running
        .server
        .http_addr(cairn::server::HttpRole::Metrics)
        .unwrap();
    let text = get(metrics, "/metrics").1;
    let hits: u64 = text
        .lines()
        .filter(|l| l.starts_with("coredns_cache_hits_total{") && l.contains("type=\"success\""))
        .filter_map(|l| l.rsplit(" ").next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(hits, 5, "every hit counted:\n{text}");
}

#[test]
fn a_dead_upstream_gives_a_prompt_servfail_and_the_cluster_keeps_answering() {
    let upstream = fake_upstream();
    let running = run("kubeadm.Corefile", &upstream);
    let dns = running.server.local_addrs()[0];
    upstream.silence(true);
    let started = Instant::now();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let q = query("never.example.", RecordType::A, None);
    socket.send_to(&q.to_vec().unwrap(), dns).unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer, not silence");
    let m = hickory_proto::op::Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.metadata.id, q.metadata.id);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "bounded: {:?}",
        started.elapsed()
    );
    let m = exchange(
        dns,
        Transport::Udp,
        &query(
            "kube-dns.kube-system.svc.cluster.local.",
            RecordType::A,
            None,
        ),
    )
    .unwrap();
    assert_eq!(m.answers.len(), 1);
}

#[test]
fn serve_stale_answers_from_the_cache_when_the_upstream_is_gone() {
    let upstream = Upstream::start(vec![("short.example.", 1, "A", "192.0.2.7")]);
    let corefile = format!(
        ".:0 {{\n    bind 127.0.0.1\n    forward . {}\n    cache 30 {{\n        success 100 30 1\n        serve_stale 1h\n    }}\n}}\n",
        upstream.addr
    );
    let config =
        cairn::config::parse_corefile(&corefile, Path::new("Corefile"), &|_| None).unwrap();
    let server = cairn::run::start(config, Default::default()).unwrap();
    let dns = server.local_addrs()[0];
    let ask = || {
        exchange(
            dns,
            Transport::Udp,
            &query("short.example.", RecordType::A, None),
        )
        .unwrap()
    };
    assert_eq!(answers(&ask()), ["short.example. 1 IN A 192.0.2.7"]);
    std::thread::sleep(Duration::from_millis(1300));
    upstream.silence(true);
    let started = Instant::now();
    let m = ask();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "stale answers do not wait"
    );
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        answers(&m),
        ["short.example. 0 IN A 192.0.2.7"],
        "served stale (TTL 0)"
    );
}

#[test]
fn refreshing_a_cached_cluster_name_never_asks_the_upstream() {
    let upstream = Upstream::start(vec![]);
    let corefile = format!(
        ".:0 {{\n    bind 127.0.0.1\n    kubernetes cluster.local\n    forward . {}\n    cache 30 {{\n        prefetch 1 1m 100%\n        serve_stale\n    }}\n}}\n",
        upstream.addr
    );
    let config =
        cairn::config::parse_corefile(&corefile, Path::new("Corefile"), &|_| None).unwrap();
    let server = cairn::run::start(config, example_state()).unwrap();
    let dns = server.local_addrs()[0];
    for _ in 0..6 {
        let m = exchange(
            dns,
            Transport::Udp,
            &query("kubernetes.default.svc.cluster.local.", RecordType::A, None),
        )
        .unwrap();
        assert_eq!(m.answers.len(), 1, "the cluster answer stays");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(upstream.asked("kubernetes.default.svc.cluster.local."), 0);
}

#[test]
fn a_forwarding_loop_stops_forwarding_but_not_the_cluster_zone() {
    use std::net::{SocketAddr, UdpSocket};
    // Cairn's port, picked up front so the looping "upstream" can send everything back to it.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cairn: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let relay = UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay_addr = relay.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        let back = UdpSocket::bind("127.0.0.1:0").unwrap();
        back.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut answer = [0u8; 1500];
        while let Ok((n, client)) = relay.recv_from(&mut buf) {
            // A stub that forwards to the cluster DNS: the loop of a bad resolv.conf.
            let _ = back.send_to(&buf[..n], cairn);
            if let Ok((m, _)) = back.recv_from(&mut answer) {
                let _ = relay.send_to(&answer[..m], client);
            }
        }
    });
    let corefile = format!(
        ".:{port} {{\n    bind 127.0.0.1\n    kubernetes cluster.local\n    forward . {relay_addr}\n    loop\n    prometheus 127.0.0.1:0\n}}\n"
    );
    let config =
        cairn::config::parse_corefile(&corefile, Path::new("Corefile"), &|_| None).unwrap();
    let server = cairn::run::start(config, example_state()).unwrap();
    let metrics = server.http_addr(cairn::server::HttpRole::Metrics).unwrap();
    let started = Instant::now();
    while !get(metrics, "/metrics")
        .1
        .contains("cairn_forward_loops_detected_total 1")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the loop was never detected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let m = exchange(
        cairn,
        Transport::Udp,
        &query("example.org.", RecordType::A, None),
    )
    .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "no forwarding once looping"
    );
    let m = exchange(
        cairn,
        Transport::Udp,
        &query("kubernetes.default.svc.cluster.local.", RecordType::A, None),
    )
    .unwrap();
    assert_eq!(
        answers(&m),
        ["kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"]
    );
}

#[test]
fn a_hosts_file_change_reaches_udp_clients_past_the_encoded_answers() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "192.0.2.1 other.example\n").unwrap();
    let corefile = format!(
        ".:0 {{\n    bind 127.0.0.1\n    hosts {} {{\n        reload 1s\n        fallthrough\n    }}\n    kubernetes cluster.local\n}}\n",
        hosts.display()
    );
    let config =
        cairn::config::parse_corefile(&corefile, Path::new("Corefile"), &|_| None).unwrap();
    let server = cairn::run::start(config, example_state()).unwrap();
    let dns = server.local_addrs()[0];
    let q = query("new.cluster.local.", RecordType::A, None);
    for _ in 0..4 {
        let m = exchange(dns, Transport::Udp, &q).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    }
    std::fs::write(
        &hosts,
        "192.0.2.1 other.example\n10.0.0.9 new.cluster.local\n",
    )
    .unwrap();
    let started = Instant::now();
    loop {
        let m = exchange(dns, Transport::Udp, &q).unwrap();
        if m.answers.iter().any(|r| r.data.to_string() == "10.0.0.9") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the hosts change never reached UDP"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_slow_upstream_does_not_hold_back_pipelined_cluster_answers() {
    use std::io::{Read, Write};
    let upstream = fake_upstream();
    upstream.silence(true);
    let running = run("kubeadm.Corefile", &upstream);
    let dns = running.server.local_addrs()[0];
    let slow = query("slow.example.", RecordType::A, None);
    let fast = query("kubernetes.default.svc.cluster.local.", RecordType::A, None);
    let mut stream = std::net::TcpStream::connect(dns).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let mut both = Vec::new();
    for m in [&slow, &fast] {
        let bytes = m.to_vec().unwrap();
        both.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        both.extend_from_slice(&bytes);
    }
    let started = Instant::now();
    stream.write_all(&both).unwrap();
    let mut read = || {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut body).unwrap();
        hickory_proto::op::Message::from_vec(&body).unwrap()
    };
    let first = read();
    assert_eq!(
        first.metadata.id, fast.metadata.id,
        "the cluster answer comes first"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "not held back: {:?}",
        started.elapsed()
    );
    let second = read();
    assert_eq!(second.metadata.id, slow.metadata.id);
    assert_eq!(second.metadata.response_code, ResponseCode::ServFail);
}
