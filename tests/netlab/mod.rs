//! A small network lab for the outage tests: a private network namespace for the test thread
//! (and every thread and process it starts), and a Service VIP in front of the API test server
//! that can be broken the way the incident broke it.
//!
//! The VIP is emulated for real where possible: `unshare(CLONE_NEWNET)` gives the test thread a
//! loopback of its own, and an nftables DNAT rule maps the VIP to the API server as a service
//! proxy would. Breaking it adds a drop rule on the connection-tracking original destination:
//! new connections time out at connect (the SYN is never answered) and established ones go
//! silent without being closed. Where namespaces or nftables are unavailable, a userspace proxy
//! stands in: once broken it accepts but never forwards, and goes silent on open connections.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

pub const BIN: &str = env!("CARGO_BIN_EXE_cairn");

/// Moves the calling thread into a network namespace of its own with loopback up. Threads
/// and processes it starts afterwards are in it too. `false` when that is not possible (not
/// root, no `ip`) or not wanted (`CAIRN_NETLAB_USERSPACE` set), and the test then runs on the
/// machine's loopback.
pub fn enter_private_network() -> bool {
    if std::env::var_os("CAIRN_NETLAB_USERSPACE").is_some() {
        eprintln!("netlab: CAIRN_NETLAB_USERSPACE set; using the machine's loopback");
        return false;
    }
    // SAFETY: unshare only changes the calling thread's namespace membership; it touches no
    // memory of ours.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 {
        eprintln!(
            "netlab: no private network namespace ({}); using the machine's loopback",
            std::io::Error::last_os_error()
        );
        return false;
    }
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .is_ok_and(|s| s.success());
    if !up {
        panic!("netlab: in a new network namespace but cannot bring loopback up with `ip`");
    }
    true
}

/// `nft`, installed from Debian's package when missing and possible (the test installs what
/// it needs, as the project's scripts do).
pub fn nft_available() -> bool {
    tool_available("nft", "nftables")
}

/// Whether `program --version` runs; when it does not, Debian's `package` is installed first
/// (with `apt-get`, updating the package lists once if the install fails without them).
///
/// Tests run in parallel threads and `cargo test` runs test binaries one after another, but
/// an install may still meet another process holding dpkg's lock (a fresh machine's own
/// package jobs): installs here take turns behind a process-wide lock, apt waits for dpkg's
/// lock, and a failed attempt is retried after looking again whether the program arrived.
pub fn tool_available(program: &str, package: &str) -> bool {
    static INSTALLS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let present = || {
        Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if present() {
        return true;
    }
    let _turn = INSTALLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    for attempt in 0..3 {
        if present() {
            return true;
        }
        eprintln!("netlab: installing {package} for `{program}` (apt-get, attempt {attempt})");
        if apt(&["install", "-y", "-q", package]) {
            break;
        }
        // A fresh machine may have no package lists yet.
        if apt(&["update", "-q"]) && apt(&["install", "-y", "-q", package]) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    present()
}

/// The Service VIP in front of the API server.
pub enum Vip {
    /// An nftables DNAT rule in the test's own network namespace.
    Nft { vip: SocketAddr },
    /// A userspace proxy on the machine's loopback.
    Userspace {
        vip: SocketAddr,
        broken: Arc<AtomicBool>,
    },
}

/// Runs an `nft -f -` script in the calling thread's network namespace; panics when it fails.
pub fn nft(script: &str) {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("nft runs");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(script.as_bytes())
        .expect("nft reads its script");
    let status = child.wait().expect("nft finishes");
    assert!(status.success(), "nft failed on:\n{script}");
}

impl Vip {
    /// `vip` forwards to `target`: with nftables when `private` (the test owns the namespace)
    /// and nft is there, else with a userspace proxy.
    pub fn start(private: bool, vip: SocketAddr, target: SocketAddr) -> Vip {
        if private && nft_available() {
            nft(&format!(
                "table ip vip {{\n  chain nat_out {{\n    type nat hook output priority -100;\n    \
                 ip daddr {} tcp dport {} dnat to {}\n  }}\n}}\n",
                vip.ip(),
                vip.port(),
                target
            ));
            return Vip::Nft { vip };
        }
        eprintln!("netlab: emulating the VIP {vip} with a userspace proxy");
        let listener = TcpListener::bind(vip).expect("the VIP address binds");
        let broken = Arc::new(AtomicBool::new(false));
        let flag = broken.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let flag = flag.clone();
                std::thread::spawn(move || proxy(client, target, flag));
            }
        });
        Vip::Userspace { vip, broken }
    }

    pub fn addr(&self) -> SocketAddr {
        match self {
            Vip::Nft { vip } | Vip::Userspace { vip, .. } => *vip,
        }
    }

    /// Black-holes the VIP: new connections time out, established ones go silent.
    pub fn break_it(&self) {
        match self {
            // Every flow towards the VIP address (only the VIP uses it in the test's namespace),
            // both directions, new and established.
            Vip::Nft { vip } => nft(&format!(
                "table ip blackhole {{\n  chain out {{\n    type filter hook output priority 0;\n    \
                 ct original ip daddr {} drop\n  }}\n}}\n",
                vip.ip()
            )),
            Vip::Userspace { broken, .. } => broken.store(true, Ordering::SeqCst),
        }
    }

    /// Forwards again.
    pub fn repair(&self) {
        match self {
            Vip::Nft { .. } => nft("delete table ip blackhole\n"),
            Vip::Userspace { broken, .. } => broken.store(false, Ordering::SeqCst),
        }
    }
}

/// Copies bytes both ways until either side closes; while `broken`, nothing is forwarded
/// and nothing is closed.
fn proxy(client: TcpStream, target: SocketAddr, broken: Arc<AtomicBool>) {
    if broken.load(Ordering::SeqCst) {
        // Accepted but never answered: the caller's timeout is all it gets.
        std::thread::sleep(Duration::from_secs(600));
        return;
    }
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    let pump = |mut from: TcpStream, mut to: TcpStream, broken: Arc<AtomicBool>| {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(std::net::Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    if broken.load(Ordering::SeqCst) {
                        // Silent: swallow, and hold both sockets open.
                        continue;
                    }
                    if to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    };
    let (c2, s2) = match (client.try_clone(), server.try_clone()) {
        (Ok(c), Ok(s)) => (c, s),
        _ => return,
    };
    let b2 = broken.clone();
    std::thread::spawn(move || pump(s2, c2, b2));
    pump(client, server, broken);
}

/// A port nothing listens on right now (the kernel's pick).
pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `cairn serve`, killed on drop.
pub struct Cairn {
    pub child: Child,
    pub started: Instant,
    /// Every line it logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Cairn {
    /// Starts `cairn serve --corefile PATH` (logs go to the test's stderr, prefixed).
    pub fn start(corefile: &std::path::Path, tag: &'static str) -> Cairn {
        let mut command = Command::new(BIN);
        command.args(["serve", "--corefile"]).arg(corefile);
        Cairn::spawn(command, tag)
    }

    /// Starts `command` (a `cairn serve` with whatever arguments and environment it has); its
    /// log goes to the test's stderr prefixed with `tag`, and is kept in [`Cairn::log`].
    pub fn spawn(mut command: Command, tag: impl Into<String>) -> Cairn {
        let tag = tag.into();
        let started = Instant::now();
        let mut child = command
            .env("RUST_LOG", "info,kube_client::client::builder=off")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cairn starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("{tag}: {line}");
                    log.lock().expect("no panics hold it").push(line);
                }
            });
        }
        Cairn {
            child,
            started,
            log,
        }
    }

    /// The logged lines containing `text`.
    pub fn logged(&self, text: &str) -> Vec<String> {
        let log = self.log.lock().expect("no panics hold it");
        log.iter().filter(|l| l.contains(text)).cloned().collect()
    }

    /// `kill -9`.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Cairn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one UDP query got: the addresses of A answers, or why it failed.
pub fn lookup(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<String>, String> {
    // The unspecified address: the kernel picks the source that routes to `server` (loopback
    // for a loopback server, the interface's address in a lab of network namespaces).
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut m = Message::query();
    m.metadata.id = fastrand::u16(..);
    m.add_query(Query::query(
        Name::from_ascii(name).map_err(|e| e.to_string())?,
        RecordType::A,
    ));
    let bytes = m.to_vec().map_err(|e| e.to_string())?;
    // Connected, so a port nobody listens on yet fails at once (ICMP) instead of timing out.
    socket.connect(server).map_err(|e| e.to_string())?;
    socket.send(&bytes).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 4096];
    let n = socket
        .recv(&mut buf)
        .map_err(|e| format!("no answer: {e}"))?;
    let reply = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
    a_answers(&reply)
}

/// The addresses of a reply's A answers, or its response code when that is not NOERROR.
pub fn a_answers(reply: &Message) -> Result<Vec<String>, String> {
    if reply.metadata.response_code != ResponseCode::NoError {
        return Err(format!("{:?}", reply.metadata.response_code));
    }
    Ok(reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect())
}

/// `GET path` over plain HTTP/1.0: (status code, body), or why not.
pub fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not HTTP: {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

/// Polls `check` every 20 ms until it returns `Ok`, at most `limit`; returns how long it
/// took, or the last complaint.
pub fn within<T>(
    limit: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> Result<(Duration, T), String> {
    let started = Instant::now();
    loop {
        match check() {
            Ok(v) => return Ok((started.elapsed(), v)),
            Err(why) if started.elapsed() > limit => {
                return Err(format!("not within {limit:?}: {why}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
