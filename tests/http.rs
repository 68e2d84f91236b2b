//! The `health`, `ready` and `prometheus` listeners over real loopback sockets, probed with a
//! minimal HTTP/1.1 client (what kubelet and Prometheus send).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cairn::dns::Transport;
use cairn::http::{self, Health, Liveness, Readiness, Routes};
use cairn::metrics::{Answered, Metrics};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `METHOD path HTTP/1.1` with `Connection: close`; reads the whole reply.
async fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
        .await
        .expect("reply within 5 s")
        .unwrap();
    let raw = String::from_utf8(raw).expect("utf-8 reply");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header/body separator");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path).await
}

/// The value of the sample line starting with `series ` (exact label order as rendered).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.split(['{', ' ']).next() == Some(name)
                && labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .next()
}

#[tokio::test]
async fn metrics_shows_recorded_queries() {
    let metrics = Arc::new(Metrics::new());
    let server = "dns://10.96.0.10:53";
    for qtype in [RecordType::A, RecordType::A, RecordType::SRV] {
        metrics.query(
            server,
            "cluster.local.",
            "kubernetes",
            &Answered {
                transport: Transport::Udp,
                ipv6_client: false,
                qtype,
                rcode: ResponseCode::NoError,
                request_size: 50,
                response_size: 150,
                duration: Duration::from_millis(1),
            },
        );
    }
    let bound = http::serve_metrics(loopback(), metrics.clone())
        .await
        .unwrap();
    assert_ne!(bound.addr.port(), 0);

    let reply = get(bound.addr, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = &reply.body;
    let a = [
        ("server", server),
        ("zone", "cluster.local."),
        ("view", ""),
        ("proto", "udp"),
        ("family", "1"),
        ("type", "A"),
    ];
    assert_eq!(sample(text, "coredns_dns_requests_total", &a), Some(2.0));
    assert_eq!(
        sample(text, "coredns_dns_requests_total", &[("type", "SRV")]),
        Some(1.0)
    );
    assert_eq!(
        sample(
            text,
            "coredns_dns_responses_total",
            &[("rcode", "NOERROR"), ("plugin", "kubernetes")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            text,
            "coredns_dns_request_duration_seconds_count",
            &[("type", "A")]
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(text, "coredns_build_info", &[("goversion", "rust")]),
        Some(1.0)
    );
    assert!(text.contains("# TYPE coredns_dns_request_size_bytes histogram\n"));

    // Recorded after the listener started: the next scrape sees it.
    metrics
        .plugin::<cairn::plugin::reload::ReloadMetrics>()
        .failed();
    let text = get(bound.addr, "/metrics").await.body;
    assert_eq!(sample(&text, "coredns_reload_failed_total", &[]), Some(1.0));
    bound.shutdown().await;
}

#[tokio::test]
async fn ready_flips_with_the_latch() {
    let readiness = Readiness::new("kubernetes");
    let bound = http::serve_ready(loopback(), readiness.clone())
        .await
        .unwrap();

    let reply = get(bound.addr, "/ready").await;
    assert_eq!((reply.status, reply.body.as_str()), (503, "kubernetes"));

    readiness.set_ready();
    let reply = get(bound.addr, "/ready").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "OK"));

    readiness.shutting_down();
    let reply = get(bound.addr, "/ready").await;
    assert_eq!((reply.status, reply.body.as_str()), (503, "Shutting down"));
}

#[tokio::test]
async fn health_follows_the_check_but_stays_ok_in_lameduck() {
    let alive = Arc::new(AtomicBool::new(true));
    let check = alive.clone();
    let lameduck = Arc::new(AtomicBool::new(false));
    let bound = http::serve_health(
        loopback(),
        Liveness::new(move || check.load(Ordering::SeqCst)),
        lameduck.clone(),
    )
    .await
    .unwrap();

    let reply = get(bound.addr, "/health").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "OK"));
    // Go's ServeMux answers any method; so does Cairn.
    assert_eq!(request(bound.addr, "POST", "/health").await.status, 200);

    alive.store(false, Ordering::SeqCst);
    assert_eq!(get(bound.addr, "/health").await.status, 503);

    // Shutdown began: health stays OK (CoreDNS keeps health OK during lameduck).
    lameduck.store(true, Ordering::SeqCst);
    let reply = get(bound.addr, "/health").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "OK"));
}

#[tokio::test]
async fn a_slow_or_panicking_check_is_unhealthy() {
    let slow = http::serve_health(
        loopback(),
        Liveness::new(|| {
            std::thread::sleep(Duration::from_secs(2));
            true
        }),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap();
    assert_eq!(get(slow.addr, "/health").await.status, 503);

    let panicking = http::serve_health(
        loopback(),
        Liveness::new(|| panic!("check failed hard")),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap();
    assert_eq!(get(panicking.addr, "/health").await.status, 503);
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let bound = http::serve_ready(loopback(), Readiness::new("kubernetes"))
        .await
        .unwrap();
    for path in ["/", "/health", "/metrics", "/ready/", "/readyz"] {
        let reply = get(bound.addr, path).await;
        assert_eq!(reply.status, 404, "{path}");
    }
}

#[tokio::test]
async fn roles_on_one_address_share_a_listener() {
    let readiness = Readiness::new("kubernetes");
    readiness.set_ready();
    let health = Health {
        liveness: Liveness::always(),
        lameduck: Arc::new(AtomicBool::new(false)),
        status: Default::default(),
    };
    // Port 0 stands in for one configured address (`:8080` twice in a Corefile).
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let grouped = http::group_by_addr([
        (
            addr,
            Routes {
                health: Some(health),
                ..Routes::default()
            },
        ),
        (
            addr,
            Routes {
                ready: Some(readiness),
                ..Routes::default()
            },
        ),
        (
            "127.0.0.2:0".parse().unwrap(),
            Routes {
                metrics: Some(Arc::new(Metrics::new())),
                ..Routes::default()
            },
        ),
    ]);
    assert_eq!(grouped.len(), 2);
    let (addr, routes) = grouped.into_iter().next().unwrap();
    let bound = http::serve(addr, routes).await.unwrap();
    assert_eq!(get(bound.addr, "/health").await.status, 200);
    assert_eq!(get(bound.addr, "/ready").await.status, 200);
    assert_eq!(get(bound.addr, "/metrics").await.status, 404);
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_listener() {
    let bound = http::serve_ready(loopback(), Readiness::new("kubernetes"))
        .await
        .unwrap();
    let addr = bound.addr;
    assert_eq!(get(addr, "/ready").await.status, 503);
    bound.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());

    let bound = http::serve_ready(loopback(), Readiness::new("kubernetes"))
        .await
        .unwrap();
    let addr = bound.addr;
    drop(bound);
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "listener still accepting after drop");
}
