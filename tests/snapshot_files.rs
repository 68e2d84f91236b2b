//! The snapshot file as an operator meets it: a corrupt or truncated file is reported, set
//! aside and never served; an unwritable path is counted and serving goes on; the survival
//! metrics say the same as `/status`.

mod netlab;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use apisim::ApiServer;
use netlab::{http_get, lookup, within, Cairn};
use serde_json::{json, Value};

struct Setup {
    api: ApiServer,
    dir: tempfile::TempDir,
    dns: SocketAddr,
    health: SocketAddr,
    metrics: SocketAddr,
}

fn addr() -> SocketAddr {
    format!("127.0.0.1:{}", netlab::free_port("127.0.0.1"))
        .parse()
        .expect("an address")
}

fn setup() -> Setup {
    let api = ApiServer::start_background("127.0.0.1:0".parse().expect("an address"))
        .expect("the API test server starts");
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "shop", "name": "web"},
            "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                     "ports": [{"port": 80, "protocol": "TCP"}]}}),
    ] {
        api.apply(object).expect("object applied");
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    api.write_kubeconfig(&dir.path().join("kubeconfig"))
        .expect("kubeconfig written");
    Setup {
        api,
        dir,
        dns: addr(),
        health: addr(),
        metrics: addr(),
    }
}

fn corefile(s: &Setup, snapshot: &Path) -> std::path::PathBuf {
    let path = s.dir.path().join("Corefile");
    std::fs::write(
        &path,
        format!(
            ".:{} {{\n  bind 127.0.0.1\n  health {}\n  prometheus {}\n  \
             kubernetes cluster.local {{\n    kubeconfig {}\n    snapshot {}\n  }}\n}}\n",
            s.dns.port(),
            s.health,
            s.metrics,
            s.dir.path().join("kubeconfig").display(),
            snapshot.display()
        ),
    )
    .expect("Corefile written");
    path
}

fn status(s: &Setup) -> Result<Value, String> {
    let (_, body) = http_get(s.health, "/status")?;
    serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
}

fn web_answers(s: &Setup) -> Result<(), String> {
    let got = lookup(
        s.dns,
        "web.shop.svc.cluster.local.",
        Duration::from_millis(500),
    )?;
    (got == ["10.96.0.20"])
        .then_some(())
        .ok_or(format!("{got:?}"))
}

/// How a test damages a good snapshot.
type Damage = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A file that is not a snapshot at all, and one cut short: each is moved aside with the
/// reason in `/status`, Cairn serves from the API, and a good snapshot replaces it.
#[test]
fn a_corrupt_or_truncated_snapshot_is_set_aside_and_replaced() {
    let s = setup();
    let snapshot = s.dir.path().join("state.bin");
    let cases: [(&str, Damage); 2] = [
        ("not a Cairn snapshot", Box::new(|_| b"GARBAGE!".repeat(64))),
        (
            "truncated",
            Box::new(|good: &[u8]| good[..good.len() / 2].to_vec()),
        ),
    ];
    // A good snapshot to damage.
    {
        let path = corefile(&s, &snapshot);
        let _cairn = Cairn::start(&path, "cairn-seed");
        within(Duration::from_secs(20), || web_answers(&s)).expect("serves from the API");
        within(Duration::from_secs(5), || {
            snapshot
                .exists()
                .then_some(())
                .ok_or("no snapshot".to_string())
        })
        .expect("a snapshot is written");
    }
    let good = std::fs::read(&snapshot).expect("the snapshot reads");
    for (expect, damage) in cases {
        for entry in std::fs::read_dir(s.dir.path())
            .expect("dir lists")
            .flatten()
        {
            if entry.file_name().to_string_lossy().contains(".bad-") {
                std::fs::remove_file(entry.path()).expect("old set-aside removed");
            }
        }
        std::fs::write(&snapshot, damage(&good)).expect("damaged snapshot written");
        let path = corefile(&s, &snapshot);
        let _cairn = Cairn::start(&path, "cairn-damaged");
        within(Duration::from_secs(20), || web_answers(&s)).expect("serves from the API");
        // DNS may answer a moment before the health listener (which serves /status) is up.
        let (_, st) = within(Duration::from_secs(5), || status(&s)).expect("/status");
        let reason = st["snapshot"]["set_aside"].as_str().unwrap_or_default();
        assert!(
            reason.to_lowercase().contains(&expect.to_lowercase()),
            "set_aside should say {expect:?}: {st}"
        );
        assert_eq!(st["snapshot"]["restored"], false, "{st}");
        let set_aside: Vec<_> = std::fs::read_dir(s.dir.path())
            .expect("dir lists")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".bad-"))
            .collect();
        assert_eq!(set_aside.len(), 1, "the bad file is kept aside");
        assert_eq!(
            std::fs::read(set_aside[0].path()).expect("reads"),
            damage(&good),
            "kept as it was"
        );
        within(Duration::from_secs(5), || {
            let bytes = std::fs::read(&snapshot).map_err(|e| e.to_string())?;
            cairn::snapshot::decode(&bytes)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .expect("a good snapshot replaces the bad one");
    }
    drop(s.api);
}

/// The snapshot's directory is a file: writes fail, are counted and reported, and DNS goes on.
#[test]
fn an_unwritable_snapshot_path_is_reported_and_serving_goes_on() {
    let s = setup();
    let blocker = s.dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"a file where a directory should be").expect("written");
    let path = corefile(&s, &blocker.join("state.bin"));
    let _cairn = Cairn::start(&path, "cairn-unwritable");
    within(Duration::from_secs(20), || web_answers(&s)).expect("serves from the API");
    let (_, st) = within(Duration::from_secs(10), || {
        let st = status(&s)?;
        match st["snapshot"]["write_errors"].as_u64() {
            Some(n) if n > 0 => Ok(st),
            _ => Err(format!("no write error yet: {st}")),
        }
    })
    .expect("the failed write is counted");
    let error = st["snapshot"]["last_write_error"].as_str().unwrap_or("");
    assert!(error.contains("not-a-dir"), "names the path: {error}");
    let (code, metrics) = http_get(s.metrics, "/metrics").expect("/metrics answers");
    assert_eq!(code, 200);
    let errors = metrics
        .lines()
        .find(|l| l.starts_with("cairn_snapshot_write_errors_total "))
        .unwrap_or_else(|| panic!("cairn_snapshot_write_errors_total missing:\n{metrics}"));
    assert_ne!(errors, "cairn_snapshot_write_errors_total 0", "{errors}");
    let up = format!(
        "cairn_api_endpoint_up{{endpoint=\"{}\",origin=\"configured\"}} 1",
        s.api.url()
    );
    within(Duration::from_secs(5), || {
        let (_, metrics) = http_get(s.metrics, "/metrics")?;
        metrics
            .contains(&up)
            .then_some(())
            .ok_or(format!("no `{up}` in:\n{metrics}"))
    })
    .expect("the endpoint's health is exported");
    assert!(
        metrics.contains("cairn_data_staleness_seconds "),
        "{metrics}"
    );
    web_answers(&s).expect("still answering");
    assert_eq!(http_get(s.health, "/health").map(|r| r.0), Ok(200));
}
