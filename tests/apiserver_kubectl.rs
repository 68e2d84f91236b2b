//! The API test server (`apisim`) as seen by the real `kubectl`: discovery, chunked lists and a
//! watch. `kubectl` must be on PATH (it is on this project's machines); the test fails, with a
//! message saying so, where it is not.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use apisim::ApiServer;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(20);

struct Kubectl {
    server: ApiServer,
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn new() -> Kubectl {
        let server = ApiServer::start_background("127.0.0.1:0".parse().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Kubectl { server, dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        command
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run kubectl ({e}): this test needs the real kubectl on PATH")
            })
    }

    /// Runs kubectl to completion, killing it after [`TIMEOUT`].
    fn run(&self, args: &[&str]) -> Output {
        let mut child = self.spawn(args);
        let deadline = Instant::now() + TIMEOUT;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("kubectl {args:?} did not finish in {TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

fn service(ns: &str, name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 53, "protocol": "UDP"}]}})
}

fn slice(ns: &str, name: &str, service: &str) -> serde_json::Value {
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": ns,
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4", "endpoints": [{"addresses": ["10.1.0.5"]}]})
}

#[test]
fn kubectl_lists_everything_in_chunks() {
    let k = Kubectl::new();
    k.server
        .load_list(json!({"kind": "List", "apiVersion": "v1", "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
            service("default", "kubernetes"),
            service("default", "web"),
            service("kube-system", "kube-dns"),
            slice("default", "web-1", "web"),
            slice("default", "web-2", "web"),
            slice("kube-system", "kube-dns-1", "kube-dns"),
        ]}))
        .unwrap();
    let output = k.run(&[
        "get",
        "services,endpointslices",
        "-A",
        "-o",
        "yaml",
        "--chunk-size=2",
    ]);
    let list: serde_json::Value =
        serde_yaml_ng::from_slice(&output.stdout).expect("kubectl printed YAML");
    assert_eq!(list["kind"], "List");
    let items: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{} {}/{}",
                i["kind"].as_str().unwrap(),
                i["metadata"]["namespace"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            "Service default/kubernetes",
            "Service default/web",
            "Service kube-system/kube-dns",
            "EndpointSlice default/web-1",
            "EndpointSlice default/web-2",
            "EndpointSlice kube-system/kube-dns-1",
        ]
    );
    // Three objects of each kind in chunks of two: two list requests each.
    assert_eq!(k.server.lists_served("services"), 2);
    assert_eq!(k.server.lists_served("endpointslices"), 2);
}

#[test]
fn kubectl_watch_shows_a_service_added_later() {
    let k = Kubectl::new();
    k.server.apply(service("default", "kubernetes")).unwrap();
    let mut child = k.spawn(&["get", "services", "-A", "-w"]);
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    seen.push(line.clone());
                    if line.contains(needle) {
                        return;
                    }
                }
                Err(_) => panic!("kubectl never printed {needle:?}; it printed {seen:?}"),
            }
        }
    };
    wait_for("kubernetes");
    let deadline = Instant::now() + TIMEOUT;
    while k.server.watches_opened("services") == 0 {
        assert!(Instant::now() < deadline, "kubectl never opened a watch");
        std::thread::sleep(Duration::from_millis(20));
    }
    k.server
        .apply(service("apps", "added-after-watch"))
        .unwrap();
    wait_for("added-after-watch");
    let line = seen.last().unwrap().clone();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        line.starts_with("apps "),
        "namespace column first: {line:?}"
    );
    assert!(
        seen[0].contains("NAMESPACE") && seen[0].contains("NAME"),
        "header line: {seen:?}"
    );
}
