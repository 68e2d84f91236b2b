//! Harness for tests that run Cairn against the API test server (`apisim`): build objects as
//! the API serves them, start apisim, start Cairn's Kubernetes source and listeners in-process
//! on loopback, and wait (bounded) for answers to change.

#![allow(dead_code)] // each test crate uses a different part of the harness

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apisim::ApiServer;
use serde_json::{json, Value};
use tokio::sync::watch;

use cairn::cluster::model::ClusterState;
use cairn::plugin::kubernetes::KubernetesConfig;
use cairn::server::RunningServer;
use cairn::source::kubernetes::{self, SourceStatus};

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub fn namespace_with_labels(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

/// A ClusterIP Service (`ip` "None" makes it headless) with one named TCP port `http` 80.
pub fn service(ns: &str, name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    })
}

pub fn labelled(mut object: Value, labels: Value) -> Value {
    object["metadata"]["labels"] = labels;
    object
}

/// An IPv4 EndpointSlice of Service `svc` with one ready endpoint per address (named
/// `<svc>-<i>` by hostname when `hostnames` is set) and port `http` 8080.
pub fn slice(ns: &str, name: &str, svc: &str, addresses: &[&str], hostnames: bool) -> Value {
    let endpoints: Vec<Value> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut ep = json!({"addresses": [a], "conditions": {"ready": true}});
            if hostnames {
                ep["hostname"] = json!(format!("{svc}-{i}"));
            }
            ep
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
    })
}

pub fn pod(ns: &str, name: &str, ip: &str, phase: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": "registry.invalid/c"}]},
        "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}]}
    })
}

/// apisim on loopback with a kubeconfig pointing at it.
pub struct Api {
    pub server: ApiServer,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn start_api(objects: &[Value]) -> Api {
    let server =
        ApiServer::start_background("127.0.0.1:0".parse().unwrap()).expect("apisim starts");
    for o in objects {
        server.apply(o.clone()).expect("apisim accepts the object");
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    Api {
        server,
        kubeconfig,
        _dir: dir,
    }
}

/// Cairn serving from the API: its runtime (which runs the watches), its listeners, and its
/// source status.
pub struct Cairn {
    pub server: RunningServer,
    pub status: watch::Receiver<SourceStatus>,
    pub addr: std::net::SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// The Corefile of a test: one block on an ephemeral loopback port whose `kubernetes` plugin
/// reads `kubeconfig` and has the extra `options` lines.
pub fn corefile(kubeconfig: &Path, options: &str) -> String {
    format!(
        ".:0 {{\n    bind 127.0.0.1\n    kubernetes cluster.local in-addr.arpa {{\n        kubeconfig {}\n{options}\n    }}\n}}\n",
        kubeconfig.display()
    )
}

/// Starts Cairn's API source and listeners as `cairn serve` does, waiting for the first sync at
/// most `wait_sync`.
pub fn start_cairn(corefile: &str, wait_sync: Duration) -> Cairn {
    let config = cairn::config::parse_corefile(corefile, Path::new("Corefile"), &|_: &str| None)
        .unwrap_or_else(|e| panic!("Corefile does not parse: {e}\n{corefile}"));
    let blocks: Vec<_> = config
        .servers
        .iter()
        .filter_map(|s| s.get::<KubernetesConfig>().cloned())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let prepared =
        cairn::server::prepare(config, &ClusterState::default(), false, Default::default());
    let mut status = runtime.block_on(async {
        let base = kubernetes::client::config(&blocks[0])
            .await
            .expect("client config from kubeconfig");
        let failover = kubernetes::failover::Failover::new(base, &blocks[0], &[])
            .expect("client from kubeconfig");
        let specs = kubernetes::watch_specs(&blocks.iter().collect::<Vec<_>>());
        kubernetes::start(&failover, specs, prepared.publisher().clone(), None, None).status
    });
    let _ = runtime
        .block_on(async { tokio::time::timeout(wait_sync, status.wait_for(|s| s.synced)).await });
    let server = cairn::run::listen(prepared).expect("listeners bind");
    let addr = server.local_addrs()[0];
    Cairn {
        server,
        status,
        addr,
        _runtime: runtime,
    }
}

/// Polls `check` every 10 ms until it returns `Ok`, at most `limit`; panics with the last
/// complaint otherwise. Returns how long it took.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> Result<(), String>) -> Duration {
    let started = Instant::now();
    loop {
        match check() {
            Ok(()) => return started.elapsed(),
            Err(why) if started.elapsed() > limit => panic!("not within {limit:?}: {why}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}
