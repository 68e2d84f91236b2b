//! Benchmark: Cairn serving from the Kubernetes API at scale (`bench/api.sh` runs it).
//!
//! Generates a deterministic cluster (by default 10k Services across 100 namespaces, one
//! EndpointSlice of 10 ready endpoints each: 100k endpoints), loads it into an in-process API
//! test server (`apisim`), starts the release `cairn serve --corefile ...` against it on a free
//! loopback port (with the shipped Corefile of `deploy/`: snapshot, cache, forward, metrics,
//! health; everything on loopback), and measures:
//!
//! * **time to first sync**: spawn → the first answer (Cairn opens its listeners once every
//!   watch has listed);
//! * **memory**: VmRSS and VmHWM of the Cairn process (`/proc/PID/status`) after sync, after the
//!   changes, and for the bundled small example (`examples/cluster.yaml`) idle, against CoreDNS's
//!   scaling-guide figure `(pods + services) / 1000 + 54` MB;
//! * **propagation**: `--changes` times, replace one EndpointSlice with a new address for one
//!   endpoint and poll Cairn over UDP (1 ms apart) until the endpoint's name answers the new
//!   address; apply → answer latency, p50/p90/p99/max. Cairn's own "programming" figure (arrival
//!   of a change → index published, from its debug log) is reported beside it.
//!
//! A benchmark, not a test: it prints figures and asserts nothing about time. Loopback only.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apisim::ApiServer;
use clap::Parser;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Cairn from the Kubernetes API: propagation latency and memory at scale")]
struct Args {
    /// Services in the generated cluster (ClusterIP, one EndpointSlice each).
    #[arg(long, default_value_t = 10_000)]
    services: u32,
    /// Ready endpoints per Service.
    #[arg(long, default_value_t = 10)]
    endpoints_per_service: u32,
    /// Namespaces the Services are spread over (round robin).
    #[arg(long, default_value_t = 100)]
    namespaces: u32,
    /// EndpointSlice changes to time.
    #[arg(long, default_value_t = 200)]
    changes: u32,
    /// Pause between one change being served and the next change.
    #[arg(long, default_value_t = 10)]
    gap_ms: u64,
    /// Give endpoints hostnames and poll `<hostname>.<svc>.<ns>.svc.cluster.local` instead of
    /// the dashed-IP name.
    #[arg(long)]
    hostnames: bool,
    /// Pod objects in the cluster: the endpoints' own pods first, then pods no Service selects
    /// (about 110 a node). 0: none, as before.
    #[arg(long, default_value_t = 0)]
    pods: u32,
    /// Run the Corefile with `pods verified` and `autopath @kubernetes` (Cairn then indexes the
    /// pods) instead of `pods insecure`.
    #[arg(long)]
    pods_verified: bool,
    /// The cairn binary to run.
    #[arg(long, default_value = "target/release/cairn")]
    cairn: PathBuf,
    /// The small example dump for the idle-RSS baseline (loaded into apisim as well).
    #[arg(long, default_value = "examples/cluster.yaml")]
    small: PathBuf,
    /// Skip the small-example baseline.
    #[arg(long)]
    no_small: bool,
    /// Give up waiting for the first sync after this many seconds.
    #[arg(long, default_value_t = 300)]
    sync_timeout_s: u64,
    /// Give up waiting for one change after this many milliseconds (counted as a miss).
    #[arg(long, default_value_t = 10_000)]
    change_timeout_ms: u64,
    /// Directory for Cairn's logs, `latencies.tsv` and `summary.txt` (default: a temp dir,
    /// removed afterwards).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep Cairn and the API test server running this many seconds after the changes (prints
    /// Cairn's pid), to inspect the process: `gdb -p PID`, `/proc/PID/smaps`, `perf`.
    #[arg(long, default_value_t = 0)]
    hold_s: u64,
}

/// CoreDNS's scaling guide: memory in MB ≈ (pods + services) / 1000 + 54.
fn coredns_mb(pods: u64, services: u64) -> f64 {
    (pods + services) as f64 / 1000.0 + 54.0
}

// ---------------------------------------------------------------------------------------------
// The generated cluster

fn ipv4(base: Ipv4Addr, offset: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base) + offset)
}

fn cluster_ip(i: u32) -> Ipv4Addr {
    ipv4(Ipv4Addr::new(10, 96, 0, 0), i + 10)
}

fn pod_ip(i: u32, j: u32, per_service: u32) -> Ipv4Addr {
    ipv4(Ipv4Addr::new(10, 128, 0, 0), i * per_service + j + 1)
}

/// The address of the `k`-th change: a range no initial endpoint uses.
fn changed_ip(k: u32) -> Ipv4Addr {
    ipv4(Ipv4Addr::new(10, 200, 0, 0), k + 1)
}

fn dashed(ip: Ipv4Addr) -> String {
    ip.to_string().replace('.', "-")
}

struct Cluster {
    services: u32,
    namespaces: u32,
    hostnames: bool,
    pods: u32,
    /// Current endpoint addresses of each Service's slice.
    addresses: Vec<Vec<Ipv4Addr>>,
}

impl Cluster {
    fn new(args: &Args) -> Cluster {
        let addresses = (0..args.services)
            .map(|i| {
                (0..args.endpoints_per_service)
                    .map(|j| pod_ip(i, j, args.endpoints_per_service))
                    .collect()
            })
            .collect();
        Cluster {
            services: args.services,
            namespaces: args.namespaces.max(1),
            hostnames: args.hostnames,
            pods: args.pods,
            addresses,
        }
    }

    fn namespace_of(&self, i: u32) -> String {
        format!("ns-{:03}", i % self.namespaces)
    }

    fn service_name(i: u32) -> String {
        format!("svc-{i:05}")
    }

    fn namespace(&self, n: u32) -> Value {
        let name = format!("ns-{n:03}");
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        })
    }

    /// A ClusterIP Service shaped like the API serves one (selector, families, policies).
    fn service(&self, i: u32) -> Value {
        let name = Self::service_name(i);
        let ip = cluster_ip(i).to_string();
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": name, "namespace": self.namespace_of(i),
                "labels": {"app": name, "app.kubernetes.io/part-of": "bench"}
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": ip, "clusterIPs": [ip],
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster", "sessionAffinity": "None",
                "selector": {"app": name},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
            },
            "status": {"loadBalancer": {}}
        })
    }

    /// The Service's EndpointSlice with its current addresses, shaped like the EndpointSlice
    /// controller writes one (targetRef, nodeName, zone, conditions).
    fn slice(&self, i: u32) -> Value {
        let svc = Self::service_name(i);
        let ns = self.namespace_of(i);
        let endpoints: Vec<Value> = self.addresses[i as usize]
            .iter()
            .enumerate()
            .map(|(j, ip)| {
                let pod = format!("{svc}-{j}");
                let mut ep = json!({
                    "addresses": [ip.to_string()],
                    "conditions": {"ready": true, "serving": true, "terminating": false},
                    "nodeName": format!("node-{:03}", (i as usize + j) % 100),
                    "zone": format!("zone-{}", j % 3),
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": pod,
                                  "uid": format!("00000000-0000-4000-8000-{:06x}{:06x}", i, j)}
                });
                if self.hostnames {
                    ep["hostname"] = json!(pod);
                }
                ep
            })
            .collect();
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {
                "name": format!("{svc}-abcde"), "namespace": ns,
                "labels": {
                    "kubernetes.io/service-name": svc,
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"
                },
                "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": svc,
                                     "uid": format!("00000000-0000-4000-9000-{i:012x}"),
                                     "controller": true, "blockOwnerDeletion": true}]
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        })
    }

    /// Pod `k`: the `k`-th endpoint's pod while there are endpoints, then pods of no Service,
    /// 110 to a node, as the kubelet runs them.
    fn pod(&self, k: u32) -> Value {
        let per = self.addresses.first().map_or(0, |a| a.len() as u32);
        let (name, ns, ip, node) = if per > 0 && k < self.services * per {
            let (i, j) = (k / per, k % per);
            let ip = self.addresses[i as usize][j as usize];
            let node = format!("node-{:03}", (i + j) % 100);
            (
                format!("{}-{j}", Self::service_name(i)),
                self.namespace_of(i),
                ip,
                node,
            )
        } else {
            let ip = ipv4(Ipv4Addr::new(10, 160, 0, 0), k + 1);
            (
                format!("job-{k:06}"),
                self.namespace_of(k),
                ip,
                format!("node-{:04}", k / 110),
            )
        };
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/part-of": "bench"}},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]},
            "status": {"phase": "Running", "podIP": ip.to_string(), "podIPs": [{"ip": ip.to_string()}]}
        })
    }

    fn load(&self, api: &ApiServer) -> Result<usize, apisim::ApiError> {
        let mut count = 0;
        for k in 0..self.pods {
            api.apply(self.pod(k))?;
            count += 1;
        }
        for n in 0..self.namespaces {
            api.apply(self.namespace(n))?;
            count += 1;
        }
        for i in 0..self.services {
            api.apply(self.service(i))?;
            api.apply(self.slice(i))?;
            count += 2;
        }
        Ok(count)
    }

    /// The name that answers endpoint `j` of Service `i` and the address it should answer.
    fn endpoint_name(&self, i: u32, j: u32) -> (String, Ipv4Addr) {
        let ip = self.addresses[i as usize][j as usize];
        let svc = Self::service_name(i);
        let label = if self.hostnames {
            format!("{svc}-{j}")
        } else {
            dashed(ip)
        };
        (
            format!("{label}.{svc}.{}.svc.cluster.local.", self.namespace_of(i)),
            ip,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// DNS over UDP

struct Resolver {
    sock: UdpSocket,
    id: u16,
    buf: Vec<u8>,
}

impl Resolver {
    fn new(server: SocketAddr) -> std::io::Result<Resolver> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.connect(server)?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Resolver {
            sock,
            id: 1,
            buf: vec![0; 65535],
        })
    }

    /// One query; `None` when no answer came within the read timeout (or the socket failed,
    /// e.g. nothing listens yet).
    fn ask(&mut self, name: &str, qtype: RecordType) -> Option<Message> {
        self.id = self.id.wrapping_add(1);
        let mut m = Message::new(self.id, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).ok()?, qtype));
        self.sock.send(&m.to_vec().ok()?).ok()?;
        loop {
            let n = self.sock.recv(&mut self.buf).ok()?;
            let reply = Message::from_vec(&self.buf[..n]).ok()?;
            if reply.metadata.id == self.id {
                return Some(reply);
            }
        }
    }

    /// Whether `name` answers A with `ip` among its records.
    fn answers(&mut self, name: &str, ip: Ipv4Addr) -> bool {
        let want = ip.to_string();
        self.ask(name, RecordType::A).is_some_and(|m| {
            m.metadata.response_code == ResponseCode::NoError
                && m.answers.iter().any(|r| r.data.to_string() == want)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The Cairn process

struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
    /// The anonymous part of RSS (heap, stacks): what Cairn's data costs.
    anon_kib: u64,
    /// The file-backed part of RSS: mostly the binary's own pages.
    file_kib: u64,
}

fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
        anon_kib: field("RssAnon:")?,
        file_kib: field("RssFile:")?,
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn free_port() -> std::io::Result<u16> {
    // Both UDP and TCP must be free: Cairn binds both on the Corefile's port.
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
}

struct Cairn {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Cairn {
    /// Writes a Corefile for `kubeconfig` and spawns `cairn serve` with its log in `dir/<tag>.log`.
    fn spawn(
        binary: &Path,
        dir: &Path,
        tag: &str,
        kubeconfig: &Path,
        pods_verified: bool,
    ) -> std::io::Result<Cairn> {
        let (pods, autopath) = if pods_verified {
            ("verified", "\n    autopath @kubernetes")
        } else {
            ("insecure", "")
        };
        let port = free_port()?;
        let corefile = dir.join(format!("{tag}.Corefile"));
        // The shipped Corefile (deploy/base/configmap.yaml) on loopback: its plugins and the
        // snapshot are part of what a deployed Cairn holds in memory. The upstream is a
        // loopback port nothing answers on (no query here is forwarded).
        let snapshot = dir.join(format!("{tag}.snapshot"));
        let (health, ready, metrics, upstream) =
            (free_port()?, free_port()?, free_port()?, free_port()?);
        std::fs::write(
            &corefile,
            format!(
                ".:{port} {{
    bind 127.0.0.1
    errors{autopath}
    health 127.0.0.1:{health} {{
       lameduck 5s
    }}
    ready 127.0.0.1:{ready}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
       kubeconfig {kubeconfig}
       pods {pods}
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
       snapshot {snapshot}
    }}
    prometheus 127.0.0.1:{metrics}
    forward . 127.0.0.1:{upstream} {{
       max_concurrent 1000
    }}
    cache 30 {{
       disable success cluster.local
       disable denial cluster.local
    }}
    loop
    reload
    loadbalance
}}
",
                kubeconfig = kubeconfig.display(),
                snapshot = snapshot.display(),
            ),
        )?;
        let log = dir.join(format!("{tag}.log"));
        let child = Command::new(binary)
            .args(["serve", "--corefile"])
            .arg(&corefile)
            .env("RUST_LOG", "info,cairn::source=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        Ok(Cairn {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the apex SOA answers (listeners open after the first sync); returns how long
    /// since `started`, or an error if Cairn exited or `limit` passed.
    fn wait_serving(&mut self, started: Instant, limit: Duration) -> Result<Duration, String> {
        let mut resolver = Resolver::new(self.addr).map_err(|e| e.to_string())?;
        loop {
            if let Some(m) = resolver.ask("cluster.local.", RecordType::SOA) {
                if m.metadata.response_code == ResponseCode::NoError && !m.answers.is_empty() {
                    return Ok(started.elapsed());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "cairn exited ({status}); see {}",
                    self.log.display()
                ));
            }
            if started.elapsed() > limit {
                return Err(format!("cairn not serving within {limit:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Cairn's `programming` figures (change arrival → index published) logged after byte
    /// `from` of its log, in milliseconds.
    fn programming_ms(&self, from: u64) -> Vec<f64> {
        let Ok(file) = std::fs::File::open(&self.log) else {
            return Vec::new();
        };
        let mut reader = BufReader::new(file);
        let _ = std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(from));
        reader
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| {
                // `published slowest=...` now; `programming=...` in earlier versions.
                let value = ["published slowest=", "programming="]
                    .iter()
                    .find_map(|key| line.split(key).nth(1))?
                    .split_whitespace()
                    .next()?;
                parse_duration_ms(value)
            })
            .collect()
    }

    fn log_len(&self) -> u64 {
        std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0)
    }
}

impl Drop for Cairn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses a `Duration`'s Debug form (`12.3ms`, `850µs`, `1.2s`, `900ns`) into milliseconds.
fn parse_duration_ms(text: &str) -> Option<f64> {
    let units = [
        ("ns", 1e-6),
        ("µs", 1e-3),
        ("us", 1e-3),
        ("ms", 1.0),
        ("s", 1e3),
    ];
    units.iter().find_map(|(unit, scale)| {
        let number = text.strip_suffix(unit)?;
        number.parse::<f64>().ok().map(|n| n * scale)
    })
}

// ---------------------------------------------------------------------------------------------
// Figures

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn distribution(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    format!(
        "n={:<4} p50={:8.2} ms  p90={:8.2} ms  p99={:8.2} ms  max={:8.2} ms",
        sorted.len(),
        percentile(&sorted, 50.0),
        percentile(&sorted, 90.0),
        percentile(&sorted, 99.0),
        sorted.last().copied().unwrap_or(f64::NAN),
    )
}

/// One line of the memory table.
fn memory_row(out: &mut String, what: &str, m: &Memory, coredns: f64) {
    let _ = writeln!(
        out,
        "  {what:<34} VmRSS {:7.1} MiB (anon {:5.1}, file {:4.1})  VmHWM {:7.1} MiB   RSS/CoreDNS {:5.2}  HWM/CoreDNS {:5.2}",
        mib(m.rss_kib),
        mib(m.anon_kib),
        mib(m.file_kib),
        mib(m.hwm_kib),
        mib(m.rss_kib) / coredns,
        mib(m.hwm_kib) / coredns,
    );
}

/// The machine-readable summary (`RESULT key=value ...`, one line) that `bench/all.sh` reads:
/// sizes, first sync, propagation percentiles and RSS/HWM in MiB at sync, 2 s later and after
/// the changes.
fn result_line(
    out: &mut String,
    args: &Args,
    sync: Duration,
    latencies: &[f64],
    misses: u32,
    [at_sync, settled, after, after_settled]: [&Memory; 4],
    small: Option<&Memory>,
) {
    let endpoints = u64::from(args.services) * u64::from(args.endpoints_per_service);
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let _ = write!(
        out,
        "RESULT bench=api services={} endpoints={endpoints} coredns_mb={:.0} sync_s={:.3} \
         changes={} misses={misses} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} \
         rss_sync_mib={:.1} hwm_sync_mib={:.1} rss_settled_mib={:.1} rss_after_mib={:.1} \
         hwm_after_mib={:.1} rss_after_settled_mib={:.1}",
        args.services,
        coredns_mb(endpoints, u64::from(args.services)),
        sync.as_secs_f64(),
        latencies.len(),
        percentile(&sorted, 50.0),
        percentile(&sorted, 90.0),
        percentile(&sorted, 99.0),
        sorted.last().copied().unwrap_or(f64::NAN),
        mib(at_sync.rss_kib),
        mib(at_sync.hwm_kib),
        mib(settled.rss_kib),
        mib(after.rss_kib),
        mib(after.hwm_kib),
        mib(after_settled.rss_kib),
    );
    if let Some(m) = small {
        let _ = write!(out, " small_rss_mib={:.1}", mib(m.rss_kib));
    }
    let _ = writeln!(out);
}

// ---------------------------------------------------------------------------------------------
// Phases

/// Cairn idle against the bundled small example: RSS for scale.
fn small_baseline(args: &Args, dir: &Path) -> Result<(Memory, Duration), String> {
    let text = std::fs::read_to_string(&args.small)
        .map_err(|e| format!("{}: {e}", args.small.display()))?;
    let list: Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", args.small.display()))?;
    let api = ApiServer::start_background("127.0.0.1:0".parse().unwrap())
        .map_err(|e| format!("apisim: {e}"))?;
    let known = ["Namespace", "Service", "EndpointSlice", "Pod"];
    for item in list["items"].as_array().into_iter().flatten() {
        if known.contains(&item["kind"].as_str().unwrap_or("")) {
            api.apply(item.clone())
                .map_err(|e| format!("apisim refuses a small-example object: {e}"))?;
        }
    }
    let kubeconfig = dir.join("small.kubeconfig");
    api.write_kubeconfig(&kubeconfig)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut cairn = Cairn::spawn(
        &args.cairn,
        dir,
        "cairn-small",
        &kubeconfig,
        args.pods_verified,
    )
    .map_err(|e| format!("{}: {e}", args.cairn.display()))?;
    let sync = cairn.wait_serving(started, Duration::from_secs(args.sync_timeout_s))?;
    std::thread::sleep(Duration::from_secs(2));
    let m = memory(cairn.pid()).ok_or("cannot read the small Cairn's /proc status")?;
    Ok((m, sync))
}

fn run(args: &Args, dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let endpoints = u64::from(args.services) * u64::from(args.endpoints_per_service);
    let coredns = coredns_mb(endpoints, u64::from(args.services));
    let _ = writeln!(
        out,
        "cluster: {} services, {} endpoints per service ({endpoints} endpoints), {} namespaces{}",
        args.services,
        args.endpoints_per_service,
        args.namespaces,
        if args.hostnames { ", hostnames" } else { "" }
    );
    let _ = writeln!(
        out,
        "CoreDNS scaling guide at this size: ({endpoints} pods + {} services)/1000 + 54 = {coredns:.0} MB",
        args.services
    );
    if args.pods > 0 {
        // The guide's figure for `pods verified`: every pod is watched and kept.
        let verified = (f64::from(args.pods) + f64::from(args.services)) / 250.0 + 56.0;
        let _ = writeln!(
            out,
            "pods: {} Pod objects, Corefile `pods {}`{}; CoreDNS's guide with pods verified: ({} pods + {} services)/250 + 56 = {verified:.0} MB",
            args.pods,
            if args.pods_verified { "verified" } else { "insecure" },
            if args.pods_verified { " with autopath" } else { "" },
            args.pods,
            args.services
        );
    }

    let small = if args.no_small {
        None
    } else {
        eprintln!("api_bench: small example baseline ...");
        Some(small_baseline(args, dir)?)
    };

    eprintln!("api_bench: generating and loading the cluster into apisim ...");
    let mut cluster = Cluster::new(args);
    let api = ApiServer::start_background("127.0.0.1:0".parse().unwrap())
        .map_err(|e| format!("apisim: {e}"))?;
    let loading = Instant::now();
    let objects = cluster.load(&api).map_err(|e| format!("apisim: {e}"))?;
    let _ = writeln!(
        out,
        "apisim: {objects} objects loaded in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig)
        .map_err(|e| e.to_string())?;

    eprintln!("api_bench: starting cairn and waiting for the first sync ...");
    let started = Instant::now();
    let mut cairn = Cairn::spawn(&args.cairn, dir, "cairn", &kubeconfig, args.pods_verified)
        .map_err(|e| format!("{}: {e}", args.cairn.display()))?;
    let sync = cairn.wait_serving(started, Duration::from_secs(args.sync_timeout_s))?;
    let mut resolver = Resolver::new(cairn.addr).map_err(|e| e.to_string())?;
    let last = args.services.saturating_sub(1);
    for (i, j) in [(0, 0), (last, args.endpoints_per_service.saturating_sub(1))] {
        let (name, ip) = cluster.endpoint_name(i, j);
        if !resolver.answers(&name, ip) {
            return Err(format!("after sync, {name} does not answer A {ip}"));
        }
    }
    let _ = writeln!(
        out,
        "time to first sync (spawn -> first answer): {:.2} s",
        sync.as_secs_f64()
    );
    let after_sync = memory(cairn.pid()).ok_or("cannot read Cairn's /proc status")?;
    std::thread::sleep(Duration::from_secs(2));
    let settled = memory(cairn.pid()).ok_or("cannot read Cairn's /proc status")?;

    eprintln!("api_bench: {} changes ...", args.changes);
    let log_mark = cairn.log_len();
    let mut latencies = Vec::new();
    let mut misses = 0u32;
    let mut tsv = String::from("change\tservice\tendpoint\tname\tms\n");
    let limit = Duration::from_millis(args.change_timeout_ms);
    for k in 0..args.changes {
        // Spread the changes over services and namespaces, deterministically.
        let i = (k.wrapping_mul(7919).wrapping_add(13)) % args.services.max(1);
        let j = k % args.endpoints_per_service.max(1);
        cluster.addresses[i as usize][j as usize] = changed_ip(k);
        let (name, ip) = cluster.endpoint_name(i, j);
        let slice = cluster.slice(i);
        let t0 = Instant::now();
        api.apply(slice).map_err(|e| format!("apisim: {e}"))?;
        let served = loop {
            if resolver.answers(&name, ip) {
                break Some(t0.elapsed());
            }
            if t0.elapsed() > limit {
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        match served {
            Some(d) => {
                let ms = d.as_secs_f64() * 1e3;
                latencies.push(ms);
                let _ = writeln!(tsv, "{k}\t{i}\t{j}\t{name}\t{ms:.3}");
            }
            None => {
                misses += 1;
                let _ = writeln!(tsv, "{k}\t{i}\t{j}\t{name}\tmiss");
            }
        }
        std::thread::sleep(Duration::from_millis(args.gap_ms));
    }
    std::thread::sleep(Duration::from_millis(500));
    let after_changes = memory(cairn.pid()).ok_or("cannot read Cairn's /proc status")?;
    // Cairn gives freed memory back once changes pause (its next quiet second).
    std::thread::sleep(Duration::from_secs(2));
    let after_changes_settled = memory(cairn.pid()).ok_or("cannot read Cairn's /proc status")?;
    if args.hold_s > 0 {
        eprintln!(
            "api_bench: holding for {} s; cairn pid {}",
            args.hold_s,
            cairn.pid()
        );
        std::thread::sleep(Duration::from_secs(args.hold_s));
    }
    let programming = cairn.programming_ms(log_mark);
    let _ = std::fs::write(dir.join("latencies.tsv"), tsv);

    let _ = writeln!(
        out,
        "\npropagation (apply at apisim -> new answer from Cairn over UDP, 1 ms polling):"
    );
    let _ = writeln!(out, "  apply->answer  {}", distribution(&latencies));
    let _ = writeln!(
        out,
        "  cairn programming (change arrival -> index published, from its log)\n                 {}",
        distribution(&programming)
    );
    if misses > 0 {
        let _ = writeln!(
            out,
            "  MISSES: {misses} changes not served within {limit:?}"
        );
    }

    let _ = writeln!(
        out,
        "\nmemory of the cairn process (MiB = 1024 KiB; ratios against CoreDNS's MB figure):"
    );
    if let Some((m, sync)) = &small {
        let _ = writeln!(
            out,
            "  small example ({}), idle, synced in {:.2} s:",
            args.small.display(),
            sync.as_secs_f64()
        );
        memory_row(&mut out, "  idle", m, coredns);
    }
    memory_row(&mut out, "at first sync", &after_sync, coredns);
    memory_row(&mut out, "2 s after sync", &settled, coredns);
    memory_row(&mut out, "0.5 s after the changes", &after_changes, coredns);
    memory_row(
        &mut out,
        "2.5 s after the changes",
        &after_changes_settled,
        coredns,
    );
    let _ = writeln!(
        out,
        "  CoreDNS guide: {coredns:.0} MB; goal for Cairn: <= 55 MB"
    );
    result_line(
        &mut out,
        args,
        sync,
        &latencies,
        misses,
        [
            &after_sync,
            &settled,
            &after_changes,
            &after_changes_settled,
        ],
        small.as_ref().map(|(m, _)| m),
    );
    Ok(out)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if !args.cairn.exists() {
        eprintln!(
            "api_bench: {} not found; build it (cargo build --release) or pass --cairn PATH",
            args.cairn.display()
        );
        return std::process::ExitCode::FAILURE;
    }
    if args.services == 0 || args.endpoints_per_service == 0 {
        eprintln!("api_bench: --services and --endpoints-per-service must be at least 1");
        return std::process::ExitCode::FAILURE;
    }
    let temp;
    let dir = match &args.out {
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("api_bench: {}: {e}", dir.display());
                return std::process::ExitCode::FAILURE;
            }
            dir.clone()
        }
        None => match tempfile::tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("api_bench: temp dir: {e}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    match run(&args, &dir) {
        Ok(summary) => {
            print!("{summary}");
            let _ = std::fs::write(dir.join("summary.txt"), summary);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("api_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
