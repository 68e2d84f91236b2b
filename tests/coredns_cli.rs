//! CoreDNS's command line, as a CoreDNS Deployment runs the image (`args: ["-conf",
//! "/etc/coredns/Corefile"]`): the Corefile `-conf` names is served, `-dns.port` gives the port
//! of keys without one, `-pidfile` holds the process id while serving, the banner goes to
//! stdout unless `-quiet`, `-version` and `-plugins` print and exit, a bad flag exits 2.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

/// A `cairn` started with CoreDNS's flags: its stdout lines and its log lines as they come.
struct Coredns {
    child: Child,
    stdout: mpsc::Receiver<String>,
    log: mpsc::Receiver<String>,
}

impl Drop for Coredns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(pipe: impl Read + Send + 'static, tag: &'static str) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            eprintln!("{tag}: {line}");
            let _ = tx.send(line);
        }
    });
    rx
}

fn start(args: &[&str], dir: &Path) -> Coredns {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cairn starts");
    let stdout = lines(child.stdout.take().expect("piped"), "stdout");
    let log = lines(child.stderr.take().expect("piped"), "log");
    Coredns { child, stdout, log }
}

/// Waits for the log's `serving addr=` line: the DNS address.
fn serving(c: &Coredns) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Ok(line) = c
        .log
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if let Some(addr) = line.split(" serving addr=").nth(1) {
            let addr = addr.split_whitespace().next().unwrap_or("");
            return addr.parse().expect("a socket address");
        }
    }
    panic!("cairn never logged the address it serves on");
}

/// The stdout lines written within `wait`.
fn stdout_lines(c: &Coredns, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while let Ok(line) = c
        .stdout
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        out.push(line);
    }
    out
}

/// A port free on 127.0.0.1 for UDP and TCP at the moment of asking.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("a UDP port");
        let port = udp.local_addr().expect("bound").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The additional section of a whoami answer for `name` over UDP from `addr`.
fn whoami(addr: SocketAddr, name: &str) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut m = Message::query();
    m.metadata.id = 7;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    socket.send_to(&m.to_vec().unwrap(), addr).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer");
    Message::from_vec(&buf[..n]).unwrap()
}

fn sigterm(child: &Child) {
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
}

#[test]
fn conf_dns_port_and_pidfile_run_a_coredns_corefile() {
    let dir = tempfile::tempdir().unwrap();
    let corefile = dir.path().join("Corefile.coredns");
    // No port in the key: `-dns.port` decides it.
    std::fs::write(
        &corefile,
        "example.org {\n    bind 127.0.0.1\n    whoami\n}\n",
    )
    .unwrap();
    let pidfile = dir.path().join("coredns.pid");
    let port = free_port();
    let c = start(
        &[
            "-conf",
            corefile.to_str().unwrap(),
            "-dns.port",
            &port.to_string(),
            "-pidfile",
            pidfile.to_str().unwrap(),
        ],
        dir.path(),
    );
    let addr = serving(&c);
    assert_eq!(addr, SocketAddr::from(([127, 0, 0, 1], port)));
    let reply = whoami(addr, "example.org.");
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        reply.additionals.first().map(|r| r.data.to_string()),
        Some("127.0.0.1".to_string()),
        "whoami from the Corefile -conf names: {reply:?}"
    );
    // The banner, as CoreDNS prints it: the server, then the name and version.
    let banner = stdout_lines(&c, Duration::from_millis(500));
    assert_eq!(
        banner.first(),
        Some(&format!("example.org.:{port}")),
        "{banner:?}"
    );
    assert!(
        banner
            .get(1)
            .is_some_and(|l| l == &format!("Cairn-{}", env!("CARGO_PKG_VERSION"))),
        "{banner:?}"
    );
    let pid = std::fs::read_to_string(&pidfile).expect("the pid file is written");
    assert_eq!(pid, format!("{}\n", c.child.id()));
    sigterm(&c.child);
    let mut c = c;
    let status = c.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!pidfile.exists(), "the pid file is removed at a clean stop");
}

#[test]
fn quiet_prints_no_banner_and_a_corefile_here_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("Corefile"),
        format!(".:{port} {{\n    bind 127.0.0.1\n    whoami\n}}\n"),
    )
    .unwrap();
    let c = start(&["-quiet"], dir.path());
    let addr = serving(&c);
    assert_eq!(addr.port(), port, "the Corefile of the working directory");
    assert_eq!(
        whoami(addr, "a.test.").metadata.response_code,
        ResponseCode::NoError
    );
    assert_eq!(
        stdout_lines(&c, Duration::from_millis(500)),
        Vec::<String>::new()
    );
}

#[test]
fn without_any_corefile_it_serves_whoami_as_coredns_does() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // `-dns.port` on the default `.` block; bound on every address, asked on loopback.
    let c = start(&["-dns.port", &port.to_string(), "-quiet"], dir.path());
    let addr = serving(&c);
    assert_eq!(addr.port(), port);
    let reply = whoami(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "anything.example.",
    );
    assert_eq!(
        reply.additionals.first().map(|r| r.data.to_string()),
        Some("127.0.0.1".to_string()),
        "{reply:?}"
    );
}

#[test]
fn version_plugins_and_bad_flags_answer_as_coredns_does() {
    let run = |args: &[&str]| Command::new(BIN).args(args).output().unwrap();
    let out = run(&["-version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("Cairn-{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let platform = format!(
        "{}/{}, rust, ",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    assert!(
        lines.next().is_some_and(|l| l.starts_with(&platform)),
        "{text}"
    );

    let out = run(&["-plugins"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.starts_with("Server types:\n  dns\n"), "{text}");
    for plugin in ["kubernetes", "forward", "cache", "health", "nodelocal"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("dns.{plugin} "))),
            "{plugin} in {text}"
        );
    }
    assert!(
        !text.contains("dns.dnssec"),
        "not supported: not listed as installed: {text}"
    );

    for (args, message) in [
        (&["-conf"][..], "flag needs an argument: -conf"),
        (
            &["-conf", "c", "-cpu", "50%"][..],
            "flag provided but not defined: -cpu",
        ),
        (
            &["-dns.port", "x"][..],
            "invalid value \"x\" for flag -dns.port",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(message), "{args:?}: {err}");
        assert!(err.contains("-dns.port string"), "the usage follows: {err}");
    }

    let out = run(&["-conf", "/nonexistent/Corefile"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/Corefile"), "{err}");
}

#[test]
fn cairn_plugins_and_validate_list_every_plugin_with_its_status() {
    for args in [&["plugins"][..], &["validate", "--plugins"][..]] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let status = |name: &str| {
            text.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .map(|l| l[name.len()..].trim().to_string())
        };
        assert_eq!(status("kubernetes").as_deref(), Some("supported"), "{text}");
        assert_eq!(
            status("dnssec").as_deref(),
            Some("not supported yet"),
            "{text}"
        );
        assert_eq!(
            status("nodelocal").as_deref(),
            Some("supported (Cairn only)"),
            "{text}"
        );
        // CoreDNS's plugin.cfg order: cache before kubernetes before forward.
        let at = |name: &str| {
            text.lines()
                .position(|l| l.starts_with(&format!("{name} ")))
        };
        assert!(
            at("cache") < at("kubernetes") && at("kubernetes") < at("forward"),
            "{text}"
        );
    }
}
