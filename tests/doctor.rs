//! `cairn doctor` as a user runs it, against loopback only: apisim as the API server, Cairn
//! serving from it, addresses where nothing listens. Every run passes `--dns` or an empty
//! `--resolv-conf`, so the machine's own resolver is never asked, and clears the in-cluster
//! environment, so a real cluster is never reached.

mod api;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use apisim::ApiServer;
use serde_json::{json, Value};

use api::{namespace, service, start_cairn};
use cairn::server::HttpRole;

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

/// Runs `cairn doctor ARGS` outside any cluster.
fn doctor(args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .arg("doctor")
        .args(args)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("RUST_LOG")
        .output()
        .expect("cairn runs");
    eprintln!(
        "cairn doctor {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `cairn doctor --json ARGS`: the exit code and the report.
fn doctor_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = doctor(&all);
    let report = serde_json::from_slice(&output.stdout).expect("--json prints one JSON document");
    (output.status.code().expect("an exit code"), report)
}

/// A loopback TCP address on `ip` where nothing listens (bound, then released).
fn closed_tcp(ip: &str) -> SocketAddr {
    let l = std::net::TcpListener::bind((ip, 0)).expect("bind");
    l.local_addr().unwrap()
}

fn closed_udp(ip: &str) -> SocketAddr {
    let s = std::net::UdpSocket::bind((ip, 0)).expect("bind");
    s.local_addr().unwrap()
}

/// apisim on 127.0.0.3, with the `kubernetes` Service and its EndpointSlice naming apisim
/// itself as the one API server.
fn api_server() -> ApiServer {
    let server = ApiServer::start_background("127.0.0.3:0".parse().unwrap()).expect("apisim");
    let port = server.addr().port();
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["127.0.0.3"], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]
    });
    for o in [
        namespace("default"),
        service("default", "kubernetes", "10.96.0.1"),
        slice,
    ] {
        server.apply(o).expect("apisim accepts the object");
    }
    server
}

fn empty_resolv_conf(dir: &Path) -> String {
    let path = dir.join("resolv.conf");
    std::fs::write(&path, "# no nameserver\n").unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_healthy_cluster_exits_0() {
    let apisim = api_server();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    apisim.write_kubeconfig(&kubeconfig).unwrap();
    let corefile = format!(
        ".:0 {{\n    bind 127.0.0.1\n    health 127.0.0.1:0\n    kubernetes cluster.local {{\n        kubeconfig {}\n    }}\n}}\n",
        kubeconfig.display()
    );
    let cairn = start_cairn(&corefile, Duration::from_secs(10));
    assert!(cairn.status.borrow().synced, "Cairn synced from apisim");
    let health = cairn
        .server
        .http_addr(HttpRole::Health)
        .expect("health listener");
    let dns = cairn.addr.to_string();
    let status = format!("http://{health}/status");
    let kubeconfig = kubeconfig.to_string_lossy().into_owned();
    let args = [
        "--kubeconfig",
        &kubeconfig,
        "--dns",
        &dns,
        "--status",
        &status,
    ];

    let (code, report) = doctor_json(&args);
    assert_eq!(report["verdict"]["broken_hop"], "none", "{report:#}");
    assert_eq!(code, 0);
    let api_url = apisim.url();
    assert_eq!(report["api"]["configured"]["url"], api_url.as_str());
    assert_eq!(report["api"]["configured"]["outcome"], "ok");
    assert_eq!(report["api"]["configured"]["origin"], "kubeconfig");
    let endpoints = report["api"]["endpoints"].as_array().expect("endpoints");
    assert_eq!(endpoints.len(), 1, "{report:#}");
    assert_eq!(endpoints[0]["url"], api_url.as_str());
    assert_eq!(endpoints[0]["origin"], "endpoint_slice");
    assert_eq!(endpoints[0]["outcome"], "ok");
    let query = &report["dns"]["queries"][0];
    assert_eq!(query["name"], "kubernetes.default.svc.cluster.local.");
    assert_eq!(query["outcome"], "ok");
    assert_eq!(query["answers"], json!(["10.96.0.1"]));
    // `/status` may not be served yet; either way it is not a fault.
    assert!(
        ["ok", "not_available"].contains(&report["status"]["outcome"].as_str().unwrap_or("")),
        "{report:#}"
    );

    let text = doctor(&args);
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).expect("utf-8");
    assert!(
        text.starts_with(&format!("✓ api       {api_url} (kubeconfig)")),
        "{text}"
    );
    assert!(
        text.contains("Verdict: Everything checked answers"),
        "{text}"
    );
    assert!(!text.contains('✗'), "{text}");
}

#[test]
fn a_dead_configured_address_with_a_live_api_server_is_the_service_vip() {
    let apisim = api_server();
    let dead = closed_tcp("127.0.0.2");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://{dead}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let resolv = empty_resolv_conf(dir.path());
    let (code, report) = doctor_json(&[
        "--kubeconfig",
        &kubeconfig.to_string_lossy(),
        "--endpoints",
        &apisim.url(),
        "--resolv-conf",
        &resolv,
    ]);
    assert_eq!(report["verdict"]["broken_hop"], "service_vip", "{report:#}");
    assert_eq!(code, 1);
    assert_eq!(report["api"]["configured"]["outcome"], "connect_refused");
    let text = report["verdict"]["text"].as_str().expect("verdict text");
    let live = apisim.addr();
    for words in [
        format!("{dead} refuses connections"),
        format!("API server {live} answers"),
        format!(
            "KUBERNETES_SERVICE_HOST={} KUBERNETES_SERVICE_PORT={}",
            live.ip(),
            live.port()
        ),
    ] {
        assert!(text.contains(&words), "verdict lacks `{words}`: {text}");
    }
    assert_eq!(report["dns"]["server"], Value::Null, "no DNS server asked");
}

#[test]
fn a_dns_server_that_does_not_answer_is_the_dns_hop() {
    let dead_dns = closed_udp("127.0.0.1").to_string();
    let dead_status = format!("http://{}/status", closed_tcp("127.0.0.1"));
    let (code, report) = doctor_json(&["--dns", &dead_dns, "--status", &dead_status]);
    assert_eq!(report["verdict"]["broken_hop"], "dns", "{report:#}");
    assert_eq!(code, 1);
    assert_eq!(report["dns"]["server"], dead_dns.as_str());
    assert_eq!(report["dns"]["queries"][0]["outcome"], "refused");
    assert_eq!(report["status"]["outcome"], "not_available");
    let text = report["verdict"]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&dead_dns), "{text}");
}

#[test]
fn nothing_to_check_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let resolv = empty_resolv_conf(dir.path());
    let (code, report) = doctor_json(&["--resolv-conf", &resolv]);
    assert_eq!(report["verdict"]["broken_hop"], "unknown", "{report:#}");
    assert_eq!(code, 2);
    let text = doctor(&["--resolv-conf", &resolv]);
    assert_eq!(text.status.code(), Some(2));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Verdict: Nothing could be checked"), "{text}");
}
