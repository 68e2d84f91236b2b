//! The node-local lab: a Kubernetes node built from network namespaces the test creates, so
//! node-local mode runs for real (interface, addresses, nftables, conntrack) without touching
//! the machine's own network.
//!
//! ```text
//!  pod namespace              node namespace                             dns namespace
//!  eth0 10.200.0.2/24 ─ veth ─ vpod 10.200.0.1/24   vdns 10.201.0.1/24 ─ veth ─ eth0 10.201.0.2/24
//!  default via .1             ip_forward=1, 10.96.0.0/12 via 10.201.0.2      central Cairn :53
//!                             kube-proxy-emu: 10.96.0.10:53 DNAT 10.201.0.2:53  (web → 10.0.0.1)
//!                             apisim on 127.0.0.1, node-local Cairn(s)
//!                             (web → 10.0.0.2)
//! ```
//!
//! The central Cairn and the node-local one serve different addresses for `web.shop`, so every
//! answer tells who gave it. The service proxy is emulated as kube-proxy's nftables mode does it:
//! a DNAT in nat chains at prerouting and output; "broken", it drops new flows to the VIP in
//! filter chains (kube-proxy's no-endpoints path, which matches `ct state new`).
//!
//! Namespace membership is per thread: [`in_netns`] runs a closure on a thread that entered a
//! namespace, and whatever that closure starts (the API test server's runtime, Cairn processes)
//! stays there. Tools (`nft`, `conntrack`, `getent`, `ip`) run through `ip netns exec`.
//! Everything is removed by [`Lab`]'s `Drop`, panics included: the processes in the lab's
//! namespaces are killed by id, the namespaces deleted, `/etc/netns/<pod>/` removed.

#![allow(dead_code)] // each test uses a different part of the lab

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apisim::ApiServer;
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use serde_json::{json, Value};

use crate::common::{self, Transport};
use crate::netlab::{self, within, Cairn};

/// The kube-dns ClusterIP, captured by node-local mode.
pub const CLUSTER_DNS: &str = "10.96.0.10";
/// The link-local address node-local mode listens on.
pub const LINK_LOCAL: &str = "169.254.20.10";
/// Where the central Cairn listens (its pod IP behind the Service).
pub const CENTRAL: &str = "10.201.0.2";
pub const POD_IP: &str = "10.200.0.2";
/// The interface node-local mode manages (the contract's default).
pub const INTERFACE: &str = "cairn0";
pub const NODE_NAME: &str = "node-a";

/// The name every test asks for, and what each server answers.
pub const WEB: &str = "web.shop.svc.cluster.local.";
pub const CENTRAL_WEB: &str = "10.0.0.1";
pub const LOCAL_WEB: &str = "10.0.0.2";

/// Pods of the node-local data: one on this node, one elsewhere (`pods verified`).
pub const POD_HERE: &str = "10-244-1-5.shop.pod.cluster.local.";
pub const POD_ELSEWHERE: &str = "10-244-2-5.shop.pod.cluster.local.";

/// The node-local Corefile's timings.
pub const CHECK: Duration = Duration::from_secs(1);
pub const LAMEDUCK: Duration = Duration::from_secs(1);

/// The node-local HTTP listeners (loopback of the node namespace, shared by all instances).
pub const HEALTH: &str = "127.0.0.1:8080";
pub const READY: &str = "127.0.0.1:8181";
pub const METRICS: &str = "127.0.0.1:9253";

pub fn cluster_dns() -> SocketAddr {
    SocketAddr::new(CLUSTER_DNS.parse().expect("an address"), 53)
}

pub fn link_local() -> SocketAddr {
    SocketAddr::new(LINK_LOCAL.parse().expect("an address"), 53)
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}

/// Moves the calling thread into the named network namespace (`/run/netns/NAME`).
pub fn enter_netns(ns: &str) {
    let path = format!("/run/netns/{ns}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    // SAFETY: setns only changes the calling thread's network namespace membership; the
    // descriptor is valid for the duration of the call (`file` outlives it).
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(
        rc,
        0,
        "setns into {ns}: {}",
        std::io::Error::last_os_error()
    );
}

/// Runs `f` on a thread inside network namespace `ns` and returns what it returns (a panic in
/// `f` is the caller's panic). Threads and processes `f` starts stay in `ns`.
pub fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            enter_netns(ns);
            f()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What the emulated service proxy does with 10.96.0.10:53.
#[derive(Clone, Copy, Debug)]
pub enum Proxy {
    /// DNAT to the central Cairn (a healthy kube-proxy).
    Dnat,
    /// Drops new flows (a broken one).
    Drop,
}

/// One query's A answers, or why there were none.
pub type Answer = Result<Vec<String>, String>;

/// The interface node-local mode manages, as `ip -j` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub index: u64,
    /// `linkinfo.info_kind`: `dummy`, `bridge`, ...
    pub kind: String,
    /// Administratively up.
    pub up: bool,
    /// `ADDRESS/PREFIX`, in the order listed (duplicates kept, so they can be found); the
    /// kernel's own IPv6 link-local address is left out.
    pub addresses: Vec<String>,
}

/// A `cairn serve` node-local instance in the lab's node namespace.
pub struct NodeLocal {
    pub cairn: Cairn,
    /// `TEST/TAG`: its log lines are prefixed with it.
    pub tag: String,
}

impl NodeLocal {
    pub fn pid(&self) -> i32 {
        self.cairn.child.id() as i32
    }

    pub fn sigterm(&self) {
        // SAFETY: kill sends a signal to our own child (by its id); it touches no memory.
        let rc = unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        assert_eq!(rc, 0, "SIGTERM to {}", self.tag);
    }

    /// The exit status once it exits, at most `limit` from now.
    pub fn wait_exit(&mut self, limit: Duration) -> Result<ExitStatus, String> {
        within(limit, || match self.cairn.child.try_wait() {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(format!("{} still running", self.tag)),
            Err(e) => Err(e.to_string()),
        })
        .map(|(_, status)| status)
    }

    /// Panics (with its log) if it has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.cairn.child.try_wait() {
            panic!(
                "{} exited ({status}); its log:\n{}",
                self.tag,
                self.cairn.logged("").join("\n")
            );
        }
    }

    /// `kill -9`.
    pub fn kill9(self) {
        self.cairn.kill();
    }
}

/// Queries sent by a [`QueryLoop`], and what became of them.
#[derive(Debug, Default)]
pub struct QueryStats {
    pub sent: u64,
    /// Queries whose first attempt got no answer (each with when and why).
    pub first_attempt_failures: Vec<String>,
    /// Queries the retry did not save either.
    pub lost: Vec<String>,
    /// How many answers carried each address list (e.g. `["10.0.0.2"]`).
    pub answered: BTreeMap<String, u64>,
}

/// A pod resolving [`WEB`] every 10 ms over UDP, retrying once after 1 s as resolvers do.
pub struct QueryLoop {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<QueryStats>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl QueryLoop {
    /// Stops and returns the counts.
    pub fn finish(mut self) -> QueryStats {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("the query loop does not panic");
        }
        std::mem::take(&mut *self.stats.lock().expect("no panics hold it"))
    }
}

/// The lab: three namespaces, the proxy, the central Cairn, and the API the node-local Cairn
/// watches (in the node namespace). Removed on drop.
pub struct Lab {
    /// The test's short name (in the namespaces' names and the log prefixes).
    pub test: String,
    pub node: String,
    pub pod: String,
    pub dns: String,
    /// The node-local Corefile (every instance runs the same one).
    pub corefile: PathBuf,
    pub snapshot: PathBuf,
    /// `dummy` where the kernel has it, else `bridge` (what node-local mode falls back to).
    pub expected_kind: &'static str,
    created: Vec<String>,
    resolv_conf_dir: Option<PathBuf>,
    central: Option<Cairn>,
    api: Option<ApiServer>,
    dir: tempfile::TempDir,
}

/// The cluster as one side sees it: `web.shop` at `web`, pods on node-a and node-b.
fn cluster(web: &str) -> Vec<Value> {
    let namespace =
        |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let service = |ns: &str, name: &str, ip: &str, port: u16, protocol: &str| {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": ns, "name": name},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                     "ports": [{"name": "p", "port": port, "protocol": protocol}]}})
    };
    let pod = |name: &str, node: &str, ip: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "shop", "name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
    };
    vec![
        namespace("default"),
        namespace("kube-system"),
        namespace("shop"),
        service("default", "kubernetes", "10.96.0.1", 443, "TCP"),
        service("kube-system", "kube-dns", CLUSTER_DNS, 53, "UDP"),
        service("shop", "web", web, 80, "TCP"),
        pod("web-a", NODE_NAME, "10.244.1.5"),
        pod("web-b", "node-b", "10.244.2.5"),
    ]
}

/// Why the lab cannot run on this machine, if it cannot (the tests then only say so).
fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: network namespaces, nftables and port 53 need root".into());
    }
    let ip = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !ip.is_ok_and(|s| s.success()) {
        return Some("no `ip` (iproute2)".into());
    }
    None
}

impl Lab {
    /// Builds the lab for test `test` (a short name, unique among the tests of the file);
    /// `None`, with the reason printed, where it cannot run (not root, no namespaces).
    pub fn new(test: &str) -> Option<Lab> {
        if let Some(why) = unavailable() {
            eprintln!("nodelocal_lab: {why}; the node-local lab test {test} does not run here");
            return None;
        }
        for (program, package) in [
            ("nft", "nftables"),
            ("conntrack", "conntrack"),
            ("getent", "libc-bin"),
        ] {
            assert!(
                netlab::tool_available(program, package),
                "root, but `{program}` is missing and `apt-get install {package}` failed"
            );
        }
        let name = |role: &str| format!("cairn-{}-{test}-{role}", std::process::id());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut lab = Lab {
            test: test.to_string(),
            node: name("node"),
            pod: name("pod"),
            dns: name("dns"),
            corefile: dir.path().join("Corefile.node-local"),
            snapshot: dir.path().join("snapshot.bin"),
            expected_kind: "bridge",
            created: Vec::new(),
            resolv_conf_dir: None,
            central: None,
            api: None,
            dir,
        };
        for ns in [lab.node.clone(), lab.pod.clone(), lab.dns.clone()] {
            let out = Command::new("ip")
                .args(["netns", "add", &ns])
                .output()
                .expect("ip runs");
            if !out.status.success() {
                let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
                if lab.created.is_empty() {
                    eprintln!(
                        "nodelocal_lab: cannot create a network namespace ({why}); the \
                         node-local lab test {test} does not run here"
                    );
                    return None;
                }
                panic!("ip netns add {ns}: {why}");
            }
            lab.created.push(ns.clone());
            lab.ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        lab.wire();
        lab.expected_kind = lab.kernel_link_kind();
        lab.proxy(Proxy::Dnat);
        lab.start_central();
        lab.start_api();
        lab.write_corefile();
        // The lab's own check: a pod reaches the central Cairn through the emulated Service.
        within(Duration::from_secs(15), || {
            match lab.ask(&lab.pod, cluster_dns(), Transport::Udp) {
                Ok(a) if a == [CENTRAL_WEB] => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .unwrap_or_else(|why| {
            panic!("the lab's pod does not reach the central Cairn through 10.96.0.10: {why}")
        });
        Some(lab)
    }

    /// `ip ARGS` (always with `-n NS` or `netns`: nothing here runs in the machine's namespace);
    /// panics when it fails.
    fn ip(&self, args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("ip runs");
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `ip netns exec NS ARGS`: stdout when it succeeds, else its stderr.
    pub fn exec(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        self.exec_stdin(ns, args, None)
    }

    fn exec_stdin(&self, ns: &str, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("ip netns exec {ns} {}: {e}", args.join(" ")))?;
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .expect("stdin piped")
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`{}` in {ns}: {} {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// An `nft -f -` script in the node namespace; panics when it fails.
    pub fn nft(&self, script: &str) {
        if let Err(why) = self.exec_stdin(&self.node, &["nft", "-f", "-"], Some(script)) {
            panic!("{why}\n{script}");
        }
    }

    fn wire(&self) {
        let (node, pod, dns) = (self.node.as_str(), self.pod.as_str(), self.dns.as_str());
        // Each pair is created in the node namespace with its peer moved straight into the
        // other one: no interface ever exists in the machine's namespace.
        self.ip(&[
            "-n", node, "link", "add", "vpod", "type", "veth", "peer", "name", "eth0", "netns", pod,
        ]);
        self.ip(&[
            "-n", node, "link", "add", "vdns", "type", "veth", "peer", "name", "eth0", "netns", dns,
        ]);
        for (ns, dev, address) in [
            (node, "vpod", "10.200.0.1/24"),
            (node, "vdns", "10.201.0.1/24"),
            (pod, "eth0", "10.200.0.2/24"),
            (dns, "eth0", "10.201.0.2/24"),
        ] {
            self.ip(&["-n", ns, "addr", "add", address, "dev", dev]);
            self.ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        self.ip(&["-n", pod, "route", "add", "default", "via", "10.200.0.1"]);
        self.ip(&["-n", dns, "route", "add", "default", "via", "10.201.0.1"]);
        // The Service CIDR routes towards the cluster network (without the DNAT, a packet for
        // 10.96.0.10 leaves the node and reaches nobody), as on a node with an uplink.
        self.ip(&["-n", node, "route", "add", "10.96.0.0/12", "via", CENTRAL]);
        self.exec(node, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])
            .expect("ip_forward in the node namespace");
    }

    /// Whether this kernel can make a dummy link (probed in the node namespace).
    fn kernel_link_kind(&self) -> &'static str {
        let made = Command::new("ip")
            .args([
                "-n",
                &self.node,
                "link",
                "add",
                "cairnprobe",
                "type",
                "dummy",
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if made {
            self.ip(&["-n", &self.node, "link", "del", "cairnprobe"]);
            "dummy"
        } else {
            "bridge"
        }
    }

    /// Replaces the emulated kube-proxy rules for 10.96.0.10:53 (atomically: one nft run).
    pub fn proxy(&self, proxy: Proxy) {
        let (kind, verdict) = match proxy {
            Proxy::Dnat => ("nat", format!("dnat to {CENTRAL}:53")),
            // Filter chains: a nat chain would only see tracked packets, and kube-proxy's
            // no-endpoints rules match `ct state new` in filter chains.
            Proxy::Drop => ("filter", "drop".to_string()),
        };
        let matcher = match proxy {
            Proxy::Dnat => "",
            Proxy::Drop => "ct state new ",
        };
        let rules = |indent: &str| {
            ["udp", "tcp"]
                .iter()
                .map(|p| {
                    format!("{indent}{matcher}ip daddr {CLUSTER_DNS} {p} dport 53 {verdict}\n")
                })
                .collect::<String>()
        };
        self.nft(&format!(
            "table ip kube-proxy-emu {{}}\ndelete table ip kube-proxy-emu\n\
             table ip kube-proxy-emu {{\n  chain pre {{\n    type {kind} hook prerouting priority dstnat;\n{}  }}\n  \
             chain out {{\n    type {kind} hook output priority -100;\n{}  }}\n}}\n",
            rules("    "),
            rules("    "),
        ));
    }

    fn start_central(&mut self) {
        let dump = self.dir.path().join("central-dump.json");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": cluster(CENTRAL_WEB)});
        std::fs::write(&dump, list.to_string()).expect("dump written");
        let corefile = self.dir.path().join("Corefile.central");
        std::fs::write(
            &corefile,
            format!(".:53 {{\n    bind {CENTRAL}\n    kubernetes cluster.local in-addr.arpa\n}}\n"),
        )
        .expect("Corefile written");
        let mut command = Command::new(netlab::BIN);
        command
            .args(["serve", "--from"])
            .arg(&dump)
            .arg("--corefile")
            .arg(&corefile);
        let tag = format!("{}/central", self.test);
        self.central = Some(in_netns(&self.dns, || Cairn::spawn(command, tag)));
    }

    fn start_api(&mut self) {
        let api = in_netns(&self.node, || {
            ApiServer::start_background(addr("127.0.0.1:0")).expect("the API test server starts")
        });
        for object in cluster(LOCAL_WEB) {
            api.apply(object).expect("the API test server takes it");
        }
        api.write_kubeconfig(&self.dir.path().join("kubeconfig"))
            .expect("kubeconfig written");
        self.api = Some(api);
    }

    /// The API test server (in the node namespace), while it runs.
    pub fn api(&self) -> &ApiServer {
        self.api.as_ref().expect("the API test server runs")
    }

    /// Stops the API test server: every connection closes, nothing answers any more.
    pub fn stop_api(&mut self) {
        self.api = None;
    }

    fn write_corefile(&self) {
        let text = format!(
            ".:53 {{\n    bind {LINK_LOCAL} {CLUSTER_DNS}\n    nodelocal {{\n        check {}s\n    }}\n    \
             health {HEALTH} {{\n        lameduck {}s\n    }}\n    ready {READY}\n    \
             prometheus {METRICS}\n    kubernetes cluster.local in-addr.arpa ip6.arpa {{\n        \
             kubeconfig {}\n        snapshot {}\n        pods verified\n    }}\n    reload 2s 1s\n}}\n",
            CHECK.as_secs(),
            LAMEDUCK.as_secs(),
            self.dir.path().join("kubeconfig").display(),
            self.snapshot.display(),
        );
        std::fs::write(&self.corefile, text).expect("Corefile written");
    }

    /// Starts a node-local instance (the lab's Corefile, NODE_NAME=node-a) in the node
    /// namespace. It is not waited for: see [`Lab::wait_serving`].
    pub fn start_node_local(&self, tag: &'static str) -> NodeLocal {
        self.start_node_local_with(tag, Some(NODE_NAME))
    }

    /// Like [`Lab::start_node_local`], with NODE_NAME as given (unset for `None`).
    pub fn start_node_local_with(&self, tag: &'static str, node_name: Option<&str>) -> NodeLocal {
        let mut command = Command::new(netlab::BIN);
        command
            .args(["serve", "--corefile"])
            .arg(&self.corefile)
            .env_remove("NODE_NAME");
        if let Some(name) = node_name {
            command.env("NODE_NAME", name);
        }
        let tag = format!("{}/{tag}", self.test);
        let cairn = in_netns(&self.node, || Cairn::spawn(command, tag.clone()));
        NodeLocal { cairn, tag }
    }

    /// Waits (at most 20 s) until `instance` has logged both listeners, /ready answers 200 and a
    /// pod gets node-local answers at both addresses; panics with the reason otherwise (at once
    /// if the instance exits).
    pub fn wait_serving(&self, instance: &mut NodeLocal) -> Duration {
        let started = Instant::now();
        within(Duration::from_secs(20), || {
            instance.assert_running();
            let serving = instance.cairn.logged(" serving addr=").len();
            if serving < 2 {
                return Err(format!("{serving} of 2 listeners logged"));
            }
            match self.http(READY, "/ready")? {
                (200, _) => {}
                other => return Err(format!("/ready: {other:?}")),
            }
            for server in [link_local(), cluster_dns()] {
                match self.ask(&self.pod, server, Transport::Udp) {
                    Ok(a) if a == [LOCAL_WEB] => {}
                    other => return Err(format!("{server}: {other:?}")),
                }
            }
            Ok(())
        })
        .unwrap_or_else(|why| {
            panic!(
                "{} does not serve: {why}\nits log:\n{}",
                instance.tag,
                instance.cairn.logged("").join("\n")
            )
        });
        started.elapsed()
    }

    /// `GET path` on one of the node-local HTTP listeners (a fresh connection each time).
    pub fn http(&self, listener: &str, path: &str) -> Result<(u16, String), String> {
        in_netns(&self.node, || netlab::http_get(addr(listener), path))
    }

    /// `/status`, parsed.
    pub fn status(&self) -> Result<Value, String> {
        match self.http(HEALTH, "/status")? {
            (200, body) => {
                serde_json::from_str(&body).map_err(|e| format!("/status is not JSON: {e}: {body}"))
            }
            (code, body) => Err(format!("/status answered {code}: {body}")),
        }
    }

    /// `/status` → `node_local`.
    pub fn node_local_status(&self) -> Result<Value, String> {
        let s = self.status()?;
        match &s["node_local"] {
            Value::Object(_) => Ok(s["node_local"].clone()),
            other => Err(format!("/status has node_local = {other}: {s}")),
        }
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> Result<String, String> {
        match self.http(METRICS, "/metrics")? {
            (200, body) => Ok(body),
            (code, body) => Err(format!("/metrics answered {code}: {body}")),
        }
    }

    /// One query from namespace `ns` (a UDP attempt waits 1 s).
    pub fn ask(&self, ns: &str, server: SocketAddr, transport: Transport) -> Answer {
        self.ask_within(ns, server, transport, Duration::from_secs(1))
    }

    pub fn ask_within(
        &self,
        ns: &str,
        server: SocketAddr,
        transport: Transport,
        timeout: Duration,
    ) -> Answer {
        in_netns(ns, || query(server, transport, WEB, timeout))
    }

    /// Any name, from the pod.
    pub fn ask_name(&self, name: &str) -> Answer {
        in_netns(&self.pod, || {
            query(cluster_dns(), Transport::Udp, name, Duration::from_secs(1))
        })
    }

    /// Starts a pod resolving [`WEB`] at `server` every 10 ms (see [`QueryLoop`]).
    pub fn query_loop(&self, server: SocketAddr) -> QueryLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(QueryStats::default()));
        let (s, st, pod) = (stop.clone(), stats.clone(), self.pod.clone());
        let thread = std::thread::spawn(move || {
            enter_netns(&pod);
            let started = Instant::now();
            while !s.load(Ordering::SeqCst) {
                let attempt = || query(server, Transport::Udp, WEB, Duration::from_secs(1));
                let first = attempt();
                let outcome = match first {
                    Ok(a) => Ok(a),
                    Err(why) => {
                        let at = started.elapsed();
                        st.lock()
                            .expect("no panics hold it")
                            .first_attempt_failures
                            .push(format!("{at:?}: {why}"));
                        attempt().map_err(|again| format!("{at:?}: {why}; retry: {again}"))
                    }
                };
                let mut stats = st.lock().expect("no panics hold it");
                stats.sent += 1;
                match outcome {
                    Ok(a) => *stats.answered.entry(format!("{a:?}")).or_default() += 1,
                    Err(why) => stats.lost.push(why),
                }
                drop(stats);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        QueryLoop {
            stop,
            stats,
            thread: Some(thread),
        }
    }

    /// Empties the node namespace's connection tracking table.
    pub fn flush_conntrack(&self) {
        self.exec(&self.node, &["conntrack", "-F"])
            .expect("conntrack -F in the node namespace");
    }

    /// The node's conntrack entries of `protocol` (`udp`, `tcp`) towards port 53.
    pub fn dns_flows(&self, protocol: &str) -> Vec<String> {
        let listed = self
            .exec(&self.node, &["conntrack", "-L", "-p", protocol])
            .expect("conntrack -L in the node namespace");
        listed
            .lines()
            .filter(|l| l.contains("dport=53 "))
            .map(str::to_string)
            .collect()
    }

    /// `nft list table inet cairn` in the node namespace.
    /// (Without the `@listening` set's elements: their remaining time changes every moment,
    /// and a killed instance's expire; [`Lab::listening`] has them.)
    pub fn table(&self) -> Result<String, String> {
        let text = self.exec(&self.node, &["nft", "list", "table", "inet", "cairn"])?;
        Ok(text
            .lines()
            .filter(|l| !l.trim_start().starts_with("elements = "))
            .map(|l| format!("{l}\n"))
            .collect())
    }

    /// The ports in `@listening` (a running instance keeps them there).
    pub fn listening(&self) -> Result<String, String> {
        self.exec(
            &self.node,
            &["nft", "list", "set", "inet", "cairn", "listening"],
        )
    }

    /// `nft list tables` in the node namespace, one table a line.
    pub fn tables(&self) -> Vec<String> {
        self.exec(&self.node, &["nft", "list", "tables"])
            .expect("nft list tables")
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The managed interface (`ip -j -d link` and `ip -j addr`), or why not.
    pub fn link(&self) -> Result<Link, String> {
        let json = |args: &[&str]| -> Result<Value, String> {
            let text = self.exec(&self.node, args)?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}: {text}", args.join(" ")))
        };
        let link = json(&["ip", "-j", "-d", "link", "show", "dev", INTERFACE])?;
        let link = &link[0];
        let addrs = json(&["ip", "-j", "addr", "show", "dev", INTERFACE])?;
        let addresses = addrs[0]["addr_info"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            // Not the IPv6 link-local address the kernel gives an interface that is up.
            .filter(|a| !(a["family"] == "inet6" && a["scope"] == "link"))
            .map(|a| format!("{}/{}", a["local"].as_str().unwrap_or("?"), a["prefixlen"]))
            .collect();
        let up = link["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "UP"));
        Ok(Link {
            index: link["ifindex"].as_u64().unwrap_or(0),
            kind: link["linkinfo"]["info_kind"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            up,
            addresses,
        })
    }

    /// `ip netns exec POD getent hosts NAME`: the first field of the first line (an address).
    pub fn getent(&self, name: &str) -> Result<String, String> {
        let out = self.exec(&self.pod, &["getent", "hosts", name])?;
        out.split_whitespace()
            .next()
            .map(str::to_string)
            .ok_or_else(|| format!("getent hosts {name} printed nothing"))
    }

    /// Writes `/etc/netns/POD/resolv.conf` (what `ip netns exec POD` shows as
    /// `/etc/resolv.conf`); removed with the lab.
    pub fn pod_resolv_conf(&mut self, text: &str) {
        let dir = PathBuf::from("/etc/netns").join(&self.pod);
        std::fs::create_dir_all(&dir).expect("/etc/netns/POD created");
        self.resolv_conf_dir = Some(dir.clone());
        std::fs::write(dir.join("resolv.conf"), text).expect("resolv.conf written");
    }

    /// Kills (SIGKILL, by id) every process still in one of the lab's namespaces.
    fn kill_leftovers(&self) {
        for ns in &self.created {
            let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() else {
                continue;
            };
            for pid in String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                if pid as u32 == std::process::id() {
                    continue;
                }
                eprintln!("nodelocal_lab: killing process {pid} left in {ns}");
                // SAFETY: kill sends a signal to a process in a namespace of ours (by id).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        drop(self.central.take());
        drop(self.api.take());
        self.kill_leftovers();
        for ns in &self.created {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
        if let Some(dir) = self.resolv_conf_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// One query for `name`, A, over `transport`, from the calling thread's namespace.
fn query(server: SocketAddr, transport: Transport, name: &str, timeout: Duration) -> Answer {
    match transport {
        Transport::Udp => netlab::lookup(server, name, timeout),
        Transport::Tcp => {
            let packet = common::encode(&common::query(name, RecordType::A, None));
            let bytes = common::tcp_exchange(server, &packet).map_err(|e| format!("TCP: {e}"))?;
            let reply = Message::from_vec(&bytes).map_err(|e| e.to_string())?;
            netlab::a_answers(&reply)
        }
    }
}

/// The value of metric series `series` (name and labels exactly as exported), if exported.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}
