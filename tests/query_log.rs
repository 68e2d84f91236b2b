//! The `log` plugin as an operator reads it: `cairn serve` writes one line per answer, in the
//! FORMAT the Corefile gives (CoreDNS's placeholders) or CoreDNS's common format, for the
//! classes of answers asked for (a NODATA answer is a denial).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;
use hickory_proto::op::Query;
use hickory_proto::rr::{Name, RecordType};

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

struct Server {
    child: Child,
    addr: SocketAddr,
    log: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(corefile: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Corefile");
    std::fs::write(&path, corefile).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--corefile", path.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, log) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("cairn: {line}");
            let _ = tx.send(line);
        }
    });
    // Killed on drop from here on, even when it never says where it serves.
    let mut server = Server {
        child,
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = server
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("cairn logs the address it serves on");
        if let Some(addr) = line.split(" serving addr=").nth(1) {
            server.addr = addr.split_whitespace().next().unwrap().parse().unwrap();
            drop(dir);
            return server;
        }
    }
}

fn ask(addr: SocketAddr, name: &str, qtype: RecordType) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut m = Message::query();
    m.metadata.id = 99;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    socket.send_to(&m.to_vec().unwrap(), addr).unwrap();
    let mut buf = [0u8; 1500];
    socket.recv_from(&mut buf).expect("an answer");
}

/// The query log lines (target `cairn::log`) written within `wait`, their message only.
fn query_lines(s: &Server, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while let Ok(line) = s
        .log
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if let Some(msg) = line.split("cairn::log: ").nth(1) {
            out.push(msg.to_string());
        }
    }
    out
}

#[test]
fn a_custom_format_and_the_denial_class_are_applied() {
    let s = start(
        ".:0 {\n  bind 127.0.0.1\n  log . \"{proto} {name} {type} {rcode} {/log/type} {/log/class} from {remote}\" {\n    class denial\n  }\n  local\n}\n",
    );
    ask(s.addr, "LocalHost.", RecordType::A); // success: not logged
    ask(s.addr, "localhost.", RecordType::MX); // NODATA: a denial
    ask(s.addr, "2.0.0.127.in-addr.arpa.", RecordType::PTR); // NXDOMAIN
    assert_eq!(
        query_lines(&s, Duration::from_millis(800)),
        vec![
            "udp localhost. MX NOERROR NODATA denial from 127.0.0.1".to_string(),
            "udp 2.0.0.127.in-addr.arpa. PTR NXDOMAIN NXDOMAIN denial from 127.0.0.1".to_string(),
        ]
    );
}

#[test]
fn without_a_format_lines_are_coredns_common_format() {
    let s = start(".:0 {\n  bind 127.0.0.1\n  log\n  local\n}\n");
    ask(s.addr, "2.0.0.127.in-addr.arpa.", RecordType::PTR);
    let lines = query_lines(&s, Duration::from_millis(800));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    let prefix = "127.0.0.1:";
    let rest = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line}"));
    let (_, rest) = rest.split_once(' ').unwrap();
    assert!(
        rest.starts_with("- 99 \"PTR IN 2.0.0.127.in-addr.arpa. udp 40 false 512\" NXDOMAIN qr "),
        "{line}"
    );
    assert!(line.ends_with('s'), "{line}");
}

/// A loopback port nothing listens on (UDP and TCP), at the moment of asking.
fn closed_port() -> u16 {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.local_addr().unwrap().port()
}

/// The `plugin/errors` lines written within `wait`, their message only.
fn error_lines(s: &Server, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while let Ok(line) = s
        .log
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        if let Some(msg) = line.split("plugin/errors: ").nth(1) {
            out.push(msg.to_string());
        }
    }
    out
}

#[test]
fn failed_upstream_answers_are_logged_or_consolidated() {
    let port = closed_port();
    let s = start(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  errors\n  forward . 127.0.0.1:{port}\n}}\n"
    ));
    ask(s.addr, "a.example.", RecordType::A);
    let lines = error_lines(&s, Duration::from_millis(800));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("2 a.example. A: "), "{lines:?}");

    let s = start(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  errors {{\n    consolidate 1500ms \".*\" warning\n  }}\n  forward . 127.0.0.1:{port}\n}}\n"
    ));
    for name in ["a.example.", "b.example.", "c.example."] {
        ask(s.addr, name, RecordType::A);
    }
    let lines = error_lines(&s, Duration::from_millis(2500));
    assert_eq!(
        lines,
        vec!["3 errors like '.*' occurred in last 1.5s".to_string()]
    );
}
