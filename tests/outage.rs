//! The post-mortem, end to end: the Service VIP in front of a healthy API server black-holes
//! traffic (connects time out, watches go silent), then the API goes away entirely and Cairn is
//! killed and restarted. Service discovery must not notice.
//!
//! The test thread takes a network namespace of its own where it can (root, as in CI), so the
//! VIP is a real nftables DNAT rule on a loopback nobody else uses; see `netlab`.

mod netlab;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apisim::ApiServer;
use netlab::{http_get, lookup, within, Cairn, Vip};
use serde_json::{json, Value};

const WEB: &str = "web.shop.svc.cluster.local.";
const NEW: &str = "new.shop.svc.cluster.local.";

fn service(ns: &str, name: &str, ip: &str, port: u16) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": ns, "name": name},
        "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                 "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}})
}

/// A small cluster whose `default/kubernetes` EndpointSlice lists the API server itself.
fn load_cluster(api: &ApiServer) {
    let api_addr = api.addr();
    let objects = [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        service("default", "kubernetes", "10.96.0.1", 443),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"namespace": "default", "name": "kubernetes",
                         "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [api_addr.ip().to_string()], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": api_addr.port(), "protocol": "TCP"}]}),
        service("shop", "web", "10.96.0.20", 80),
    ];
    for object in objects {
        api.apply(object)
            .expect("the API test server takes the object");
    }
}

struct Ports {
    dns: SocketAddr,
    health: SocketAddr,
    ready: SocketAddr,
}

fn write_corefile(path: &Path, ports: &Ports, kubeconfig: &Path, snapshot: &Path, extra: &str) {
    let text = format!(
        ".:{dns} {{\n    bind 127.0.0.1\n    health {health}\n    ready {ready}\n    \
         kubernetes cluster.local in-addr.arpa {{\n        kubeconfig {kc}\n        \
         snapshot {snap}\n{extra}\n    }}\n}}\n",
        dns = ports.dns.port(),
        health = ports.health,
        ready = ports.ready,
        kc = kubeconfig.display(),
        snap = snapshot.display(),
    );
    std::fs::write(path, text).expect("Corefile written");
}

fn status(ports: &Ports) -> Result<Value, String> {
    let (code, body) = http_get(ports.health, "/status")?;
    if code != 200 {
        return Err(format!("/status answered {code}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("/status is not JSON: {e}: {body}"))
}

fn answers(server: SocketAddr, name: &str, want: &str) -> Result<(), String> {
    let got = lookup(server, name, Duration::from_millis(500))?;
    if got.iter().any(|a| a == want) {
        Ok(())
    } else {
        Err(format!("{name} answered {got:?}, expected {want}"))
    }
}

/// Queries `WEB` every 50 ms until stopped; every failure is kept with its time.
struct Watchdog {
    stop: Arc<AtomicBool>,
    failures: Arc<Mutex<Vec<String>>>,
    queries: Arc<Mutex<u64>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(server: SocketAddr) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let queries = Arc::new(Mutex::new(0));
        let (s, f, q) = (stop.clone(), failures.clone(), queries.clone());
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                // A client retries once after a second, as resolvers do.
                let outcome = answers(server, WEB, "10.96.0.20").or_else(|_| {
                    lookup(server, WEB, Duration::from_secs(1)).and_then(|got| {
                        if got.iter().any(|a| a == "10.96.0.20") {
                            Ok(())
                        } else {
                            Err(format!("answered {got:?}"))
                        }
                    })
                });
                if let Err(why) = outcome {
                    f.lock()
                        .expect("no panics hold it")
                        .push(format!("{:?}: {why}", started.elapsed()));
                }
                *q.lock().expect("no panics hold it") += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watchdog {
            stop,
            failures,
            queries,
            thread: Some(thread),
        }
    }

    /// Stops and returns (queries sent, failures).
    fn finish(mut self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let queries = *self.queries.lock().expect("no panics hold it");
        let failures = self.failures.lock().expect("no panics hold it").clone();
        (queries, failures)
    }
}

#[test]
fn a_black_holed_api_vip_and_a_dead_api_do_not_stop_service_discovery() {
    let private = netlab::enter_private_network();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let api_ip = if private { "127.0.0.3" } else { "127.0.0.1" };
    let api = ApiServer::start_background(format!("{api_ip}:0").parse().expect("an address"))
        .expect("the API test server starts");
    load_cluster(&api);
    let vip_addr: SocketAddr = if private {
        "127.0.0.2:443".parse().expect("an address")
    } else {
        SocketAddr::new(
            "127.0.0.2".parse().expect("an address"),
            netlab::free_port("127.0.0.2"),
        )
    };
    let vip = Vip::start(private, vip_addr, api.addr());
    let kubeconfig = dir.path().join("kubeconfig");
    apisim::write_kubeconfig(&kubeconfig, &format!("http://{}", vip.addr()), None)
        .expect("kubeconfig written");
    let port = |ip: &str| -> SocketAddr {
        format!("{ip}:{}", netlab::free_port(ip))
            .parse()
            .expect("an address")
    };
    let ports = Ports {
        dns: port("127.0.0.1"),
        health: port("127.0.0.1"),
        ready: port("127.0.0.1"),
    };
    let snapshot = dir.path().join("state.bin");
    let corefile = dir.path().join("Corefile");
    write_corefile(&corefile, &ports, &kubeconfig, &snapshot, "");

    // 1. Healthy: Cairn reaches the API through the VIP and learns the API server's address.
    let cairn = Cairn::start(&corefile, "cairn");
    within(Duration::from_secs(20), || {
        answers(ports.dns, WEB, "10.96.0.20")
    })
    .expect("Cairn answers through the VIP");
    let learned_url = format!("http://{}", api.addr());
    within(Duration::from_secs(10), || {
        let s = status(&ports)?;
        let endpoints = s["api"]["endpoints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        endpoints
            .iter()
            .find(|e| e["url"] == learned_url.as_str() && e["origin"] == "learned")
            .map(|_| ())
            .ok_or_else(|| format!("no learned endpoint yet: {s}"))
    })
    .expect("the API server endpoint is learned from default/kubernetes");
    within(Duration::from_secs(5), || {
        snapshot
            .exists()
            .then_some(())
            .ok_or_else(|| "no snapshot yet".to_string())
    })
    .expect("the snapshot is written");

    // 2. The incident: the VIP black-holes. A change made at the API must still arrive.
    let watchdog = Watchdog::start(ports.dns);
    std::thread::sleep(Duration::from_millis(500));
    vip.break_it();
    let broke = Instant::now();
    api.apply(service("shop", "new", "10.96.0.30", 80))
        .expect("the API takes the change");
    within(Duration::from_secs(10), || {
        answers(ports.dns, NEW, "10.96.0.30")
    })
    .expect("the change is served within 10 s of the VIP going dark");
    let failover = broke.elapsed();
    let s = status(&ports).expect("/status answers");
    assert_eq!(s["api"]["active"], learned_url.as_str(), "{s}");
    let configured = &s["api"]["endpoints"][0];
    assert_eq!(configured["origin"], "configured", "{s}");
    assert_eq!(configured["healthy"], false, "{s}");
    assert!(s["api"]["failovers"].as_u64() >= Some(1), "{s}");
    assert_eq!(http_get(ports.health, "/health").map(|r| r.0), Ok(200));
    std::thread::sleep(Duration::from_millis(500));
    let (queries, failures) = watchdog.finish();
    assert!(
        failures.is_empty(),
        "queries for a known name failed during the failover: {failures:?}"
    );
    eprintln!(
        "MEASURED failover: change served {failover:?} after the VIP went dark; {queries} queries, none failed"
    );

    // 3. Doctor, in the same setup, names the VIP.
    let doctor = std::process::Command::new(netlab::BIN)
        .args(["doctor", "--json", "--timeout", "1s", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--dns", &ports.dns.to_string()])
        .args(["--status", &format!("http://{}/status", ports.health)])
        .output()
        .expect("cairn doctor runs");
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(
        doctor.status.code(),
        Some(1),
        "doctor: {report}\n{}",
        String::from_utf8_lossy(&doctor.stderr)
    );
    let report: Value = serde_json::from_str(&report).expect("doctor --json prints JSON");
    assert_eq!(report["verdict"]["broken_hop"], "service_vip", "{report}");
    let says = report["verdict"]["text"].as_str().unwrap_or("");
    assert!(says.contains(&vip.addr().to_string()), "{says}");
    eprintln!("MEASURED doctor verdict: {says}");

    // 4. The VIP is repaired: the watches move back to the preferred (configured) address.
    vip.repair();
    let configured_url = format!("http://{}", vip.addr());
    let (back, _) = within(Duration::from_secs(15), || {
        let s = status(&ports)?;
        (s["api"]["active"] == configured_url.as_str())
            .then_some(())
            .ok_or(format!("still elsewhere: {}", s["api"]["active"]))
    })
    .expect("the preferred endpoint takes over again once steady");
    eprintln!("MEASURED move back to the repaired VIP after {back:?}");
    answers(ports.dns, NEW, "10.96.0.30").expect("still answering");

    // 5. Cairn is killed, and the API goes away entirely. A restart answers from the snapshot.
    std::thread::sleep(Duration::from_millis(1500)); // the snapshot catches up (≤ 1 s)
    cairn.kill();
    drop(api);
    let cairn = Cairn::start(&corefile, "cairn-restarted");
    let started = cairn.started;
    within(Duration::from_secs(1), || {
        answers(ports.dns, NEW, "10.96.0.30")
    })
    .expect("the restarted Cairn answers from the snapshot within 1 s");
    let first_answer = started.elapsed();
    eprintln!("MEASURED restart (API gone): first answer {first_answer:?} after start");
    assert_eq!(answers(ports.dns, WEB, "10.96.0.20"), Ok(()));
    let unknown = lookup(
        ports.dns,
        "gone.shop.svc.cluster.local.",
        Duration::from_secs(1),
    );
    assert_eq!(
        unknown,
        Err("NXDomain".to_string()),
        "the restored state is complete"
    );
    within(Duration::from_secs(2), || {
        match http_get(ports.ready, "/ready")? {
            (200, _) => Ok(()),
            other => Err(format!("/ready: {other:?}")),
        }
    })
    .expect("ready with last-known state");
    std::thread::sleep(Duration::from_secs(3)); // the checks find no API
    assert_eq!(http_get(ports.health, "/health").map(|r| r.0), Ok(200));
    let s = status(&ports).expect("/status answers");
    assert_eq!(s["data"]["source"], "snapshot", "{s}");
    assert_eq!(s["snapshot"]["restored"], true, "{s}");
    assert!(s["data"]["staleness_seconds"].as_f64() > Some(0.0), "{s}");
    // Doctor, with only the snapshot to learn API server addresses from: the API server
    // itself is the broken hop now.
    let doctor = std::process::Command::new(netlab::BIN)
        .args(["doctor", "--json", "--timeout", "1s", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--dns", &ports.dns.to_string()])
        .args(["--status", "http://127.0.0.1:1/status", "--snapshot"])
        .arg(&snapshot)
        .output()
        .expect("cairn doctor runs");
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(1), "doctor: {text}");
    let report: Value = serde_json::from_str(&text).expect("doctor --json prints JSON");
    assert_eq!(report["verdict"]["broken_hop"], "api_server", "{report}");
    assert!(
        text.contains(&learned_url),
        "the learned address from the snapshot was checked: {text}"
    );
    cairn.kill();

    // 6. `require_fresh`: answers the same, but /ready waits for the API.
    write_corefile(
        &corefile,
        &ports,
        &kubeconfig,
        &snapshot,
        "        require_fresh",
    );
    let cairn = Cairn::start(&corefile, "cairn-fresh");
    within(Duration::from_secs(2), || {
        answers(ports.dns, NEW, "10.96.0.30")
    })
    .expect("answers from the snapshot");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(http_get(ports.ready, "/ready").map(|r| r.0), Ok(503));
    assert_eq!(http_get(ports.health, "/health").map(|r| r.0), Ok(200));
    cairn.kill();
}
