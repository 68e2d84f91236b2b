//! Shared harness for the socket-level DNS tests (`tests/conformance.rs`, `tests/protocol.rs`).
//!
//! Starts the real server (`cairn::run::start`) from a Corefile string and the conformance
//! fixture (`tests/fixtures/conformance.yaml`), sends queries over real UDP and TCP sockets with
//! `std::net`, and renders answers as zone-file lines (hickory's `Record` Display:
//! `{name} {ttl} {class} {type} {rdata}`), with the opaque SOA serial replaced by `SERIAL`.
//! Owner names are compared case-exactly: the server must echo the query's spelling.
//!
//! Nothing here knows what the server *should* answer: expectations live in the tables.

#![allow(dead_code)] // each test crate uses a different part of the harness

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, Record, RecordType};

use cairn::cluster::model::ClusterState;
use cairn::server::RunningServer;

pub mod table;

/// How long to wait for an answer that must come.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for an answer that may legitimately never come (malformed input).
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(400);

pub const FIXTURE: &str = "tests/fixtures/conformance.yaml";

/// The conformance fixture as cluster state.
pub fn fixture_state() -> ClusterState {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match cairn::source::file::parse_dump(&text, FIXTURE) {
        Ok(dump) => dump.state,
        Err(e) => panic!("{FIXTURE} does not load: {e}"),
    }
}

/// A started server and the one address (UDP and TCP) it listens on.
pub struct Server {
    pub addr: SocketAddr,
    _running: RunningServer,
}

/// Parses `corefile`, loads the fixture and starts the server. The Corefile must have exactly
/// one server block listening on port 0.
pub fn start(corefile: &str) -> Server {
    let config =
        match cairn::config::parse_corefile(corefile, Path::new("Corefile"), &|_: &str| None) {
            Ok(c) => c,
            Err(e) => panic!("Corefile does not parse: {e}\n{corefile}"),
        };
    let running = match cairn::run::start(config, fixture_state()) {
        Ok(r) => r,
        Err(e) => panic!("server does not start: {e}\n{corefile}"),
    };
    let addrs = running.local_addrs();
    assert_eq!(
        addrs.len(),
        1,
        "expected one listener, got {addrs:?} for\n{corefile}"
    );
    let addr = addrs[0];
    assert_ne!(addr.port(), 0, "local_addrs() must report the bound port");
    Server {
        addr,
        _running: running,
    }
}

/// A fresh message ID for every query of the process, so answers cannot be mixed up.
pub fn next_id() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = (std::process::id() as u16).wrapping_mul(7919);
    NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(seed)
}

/// A standard query with RD set; `edns` is the advertised UDP payload size, `None` for no OPT.
pub fn query(name: &str, qtype: RecordType, edns: Option<u16>) -> Message {
    let mut m = Message::new(next_id(), MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    let name = Name::from_ascii(name).unwrap_or_else(|e| panic!("bad test qname {name}: {e}"));
    m.add_query(Query::query(name, qtype));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        m.set_edns(e);
    }
    m
}

pub fn encode(m: &Message) -> Vec<u8> {
    m.to_vec().expect("test query encodes")
}

/// Sends one datagram and waits `timeout` for one back. `Ok(None)` when nothing came.
pub fn udp_exchange(
    addr: SocketAddr,
    packet: &[u8],
    timeout: Duration,
) -> io::Result<Option<Vec<u8>>> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(addr)?;
    sock.set_read_timeout(Some(timeout))?;
    sock.send(packet)?;
    let mut buf = vec![0u8; 65535];
    match sock.recv(&mut buf) {
        Ok(n) => {
            buf.truncate(n);
            Ok(Some(buf))
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub fn tcp_connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Writes one length-prefixed DNS message.
pub fn tcp_write(s: &mut TcpStream, packet: &[u8]) -> io::Result<()> {
    let mut framed = Vec::with_capacity(packet.len() + 2);
    framed.extend_from_slice(&(packet.len() as u16).to_be_bytes());
    framed.extend_from_slice(packet);
    s.write_all(&framed)
}

/// Reads one length-prefixed DNS message.
pub fn tcp_read(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

/// One query over a fresh TCP connection.
pub fn tcp_exchange(addr: SocketAddr, packet: &[u8]) -> io::Result<Vec<u8>> {
    let mut s = tcp_connect(addr)?;
    tcp_write(&mut s, packet)?;
    tcp_read(&mut s)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

pub const TRANSPORTS: [Transport; 2] = [Transport::Udp, Transport::Tcp];

/// Sends `m` over `t` and decodes the answer; `Err` describes what went wrong.
pub fn exchange(addr: SocketAddr, t: Transport, m: &Message) -> Result<Message, String> {
    let packet = encode(m);
    let bytes = match t {
        Transport::Udp => match udp_exchange(addr, &packet, TIMEOUT) {
            Ok(Some(b)) => b,
            Ok(None) => return Err(format!("no UDP answer within {TIMEOUT:?}")),
            Err(e) => return Err(format!("UDP error: {e}")),
        },
        Transport::Tcp => tcp_exchange(addr, &packet).map_err(|e| format!("TCP error: {e}"))?,
    };
    Message::from_vec(&bytes).map_err(|e| format!("answer does not decode: {e}"))
}

/// A record as a zone-file line; the SOA serial (opaque) becomes `SERIAL`.
pub fn render(r: &Record) -> String {
    let line = r.to_string();
    if r.record_type() != RecordType::SOA {
        return line;
    }
    // name ttl class SOA mname rname serial refresh retry expire minimum
    let mut fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() == 11 {
        fields[6] = "SERIAL";
    }
    fields.join(" ")
}

pub fn render_all(rs: &[Record]) -> Vec<String> {
    rs.iter().map(render).collect()
}

/// The SOA line the kubernetes plugin puts in negative answers and answers at the apex:
/// owner and names in the spelling given, TTL min(ttl, 300), minimum = ttl (checklist C.2).
pub fn soa(zone: &str, ttl: u32) -> String {
    format!(
        "{zone} {} IN SOA ns.dns.{zone} hostmaster.{zone} SERIAL 7200 1800 86400 {ttl}",
        ttl.min(300)
    )
}
