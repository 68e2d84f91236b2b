//! Graceful shutdown as kubelet drives it: on SIGTERM `/ready` turns false at once, DNS keeps
//! being answered for `lameduck`, the snapshot is written with the latest state, and Cairn
//! exits 0.

mod netlab;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apisim::ApiServer;
use netlab::{http_get, lookup, within, Cairn};
use serde_json::json;

fn addr() -> SocketAddr {
    format!("127.0.0.1:{}", netlab::free_port("127.0.0.1"))
        .parse()
        .expect("an address")
}

fn service(name: &str, ip: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "shop", "name": name},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": 80, "protocol": "TCP"}]}})
}

fn answers(dns: SocketAddr, name: &str, want: &str) -> Result<(), String> {
    let got = lookup(dns, name, Duration::from_millis(500))?;
    (got == [want]).then_some(()).ok_or(format!("{got:?}"))
}

/// When a query was answered, and how.
type Outcome = (Instant, Result<(), String>);

#[test]
fn sigterm_drains_for_lameduck_saves_the_snapshot_and_exits_0() {
    let api = ApiServer::start_background("127.0.0.1:0".parse().expect("an address"))
        .expect("the API test server starts");
    api.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        .expect("applied");
    api.apply(service("web", "10.96.0.20")).expect("applied");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let (dns, health, ready) = (addr(), addr(), addr());
    let snapshot = dir.path().join("state.bin");
    let lameduck = Duration::from_secs(2);
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        format!(
            ".:{} {{\n  bind 127.0.0.1\n  health {health} {{\n    lameduck 2s\n  }}\n  \
             ready {ready}\n  kubernetes cluster.local {{\n    kubeconfig {}\n    \
             snapshot {}\n  }}\n}}\n",
            dns.port(),
            kubeconfig.display(),
            snapshot.display()
        ),
    )
    .expect("Corefile written");
    let mut cairn = Cairn::start(&corefile, "cairn");
    within(Duration::from_secs(20), || {
        answers(dns, "web.shop.svc.cluster.local.", "10.96.0.20")
    })
    .expect("serving");
    within(Duration::from_secs(5), || {
        match http_get(ready, "/ready")? {
            (200, _) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .expect("ready");
    // A change just before the signal must reach the snapshot.
    api.apply(service("late", "10.96.0.40")).expect("applied");
    within(Duration::from_secs(5), || {
        answers(dns, "late.shop.svc.cluster.local.", "10.96.0.40")
    })
    .expect("the late change is served");

    // Queries every 20 ms across the shutdown, each with its time and outcome.
    let log: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let querier = {
        let (log, stop) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let outcome = answers(dns, "web.shop.svc.cluster.local.", "10.96.0.20");
                log.lock()
                    .expect("no panics hold it")
                    .push((Instant::now(), outcome));
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let pid = i32::try_from(cairn.child.id()).expect("a pid");
    // SAFETY: sends a signal to our own child process; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let term = Instant::now();
    let (not_ready_after, _) = within(Duration::from_secs(1), || {
        match http_get(ready, "/ready")? {
            (503, body) => Ok(body),
            other => Err(format!("{other:?}")),
        }
    })
    .expect("/ready turns false at once");
    assert_eq!(
        http_get(health, "/health").map(|r| r.0),
        Ok(200),
        "alive while draining"
    );
    let (_, status) = within(Duration::from_secs(15), || {
        cairn
            .child
            .try_wait()
            .map_err(|e| e.to_string())?
            .ok_or("still running".to_string())
    })
    .expect("Cairn exits");
    let exited = term.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = querier.join();
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    assert!(
        exited >= lameduck,
        "answered for the whole lameduck: exited after {exited:?}"
    );
    let log = log.lock().expect("no panics hold it");
    let during: Vec<_> = log
        .iter()
        .filter(|(at, _)| *at >= term && *at < term + lameduck)
        .collect();
    assert!(
        during.len() >= 20,
        "queries were sent while draining: {}",
        during.len()
    );
    let failed: Vec<_> = during.iter().filter(|(_, r)| r.is_err()).collect();
    assert!(
        failed.is_empty(),
        "queries failed during lameduck: {failed:?}"
    );
    eprintln!(
        "MEASURED shutdown: /ready 503 after {not_ready_after:?}, {} queries answered during the {lameduck:?} lameduck, exit 0 after {exited:?}",
        during.len()
    );
    let bytes = std::fs::read(&snapshot).expect("the snapshot exists");
    let saved = cairn::snapshot::decode(&bytes).expect("the snapshot decodes");
    assert!(
        saved
            .state
            .services
            .contains_key(&("shop".to_string(), "late".to_string())),
        "the snapshot holds the last change"
    );
}
