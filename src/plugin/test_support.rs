//! What plugin tests share (test builds only): a plugin's options read from a Corefile snippet
//! (the typed value, or the error as a user sees it: `Corefile:LINE: message`), a Cairn server
//! started in-process from a Corefile on loopback, queries sent to it over real UDP and TCP
//! sockets, and a fake upstream answering from a function.
//!
//! Nothing here knows what any plugin should answer: the expectations live in each plugin's
//! `tests.rs`. Sockets are loopback only.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

use crate::cluster::model::ClusterState;
use crate::config::model::Config;
use crate::dns::Transport;
use crate::plugin::registry::Pick;
use crate::server::RunningServer;

/// Both transports, for tests that ask the same over each.
pub const TRANSPORTS: [Transport; 2] = [Transport::Udp, Transport::Tcp];

/// How long to wait for an answer that must come.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Parses `corefile` (no environment, the machine's files): the configuration, or the first
/// error as displayed to users.
pub fn parse(corefile: &str) -> Result<Config, String> {
    crate::config::parse_corefile(corefile, Path::new("Corefile"), &|_| None)
        .map_err(|e| e.to_string())
}

/// The options of plugin `T` in the first block of `corefile`, or the error text.
pub fn options<T: Pick + Clone>(corefile: &str) -> Result<T, String> {
    let config = parse(corefile)?;
    config
        .servers
        .first()
        .and_then(|b| b.get::<T>())
        .cloned()
        .ok_or_else(|| "the first block does not have the plugin".to_string())
}

/// A server answering on one loopback address (UDP and TCP on the same port).
pub struct Server {
    pub addr: SocketAddr,
    _running: RunningServer,
}

impl Server {
    /// The server's metrics in Prometheus text format (as `/metrics` serves them).
    pub fn metrics(&self) -> String {
        self._running.metrics().render()
    }
}

/// Starts a server from `corefile`, which must have one block listening on port 0 of a
/// loopback address (`.:0 { bind 127.0.0.1 ... }`).
pub fn serve(corefile: &str) -> Server {
    serve_state(corefile, ClusterState::default())
}

/// [`serve`], the `kubernetes` blocks answering from `state`.
pub fn serve_state(corefile: &str, state: ClusterState) -> Server {
    let config = parse(corefile).unwrap_or_else(|e| panic!("{e}\n{corefile}"));
    let running = crate::run::start(config, state)
        .unwrap_or_else(|e| panic!("the server does not start: {e}\n{corefile}"));
    let addr = running.local_addrs()[0];
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    Server {
        addr,
        _running: running,
    }
}

/// A standard query with RD set and no EDNS.
pub fn query(name: &str, qtype: RecordType) -> Message {
    let mut m = Message::new(fastrand::u16(..), MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    let name = Name::from_ascii(name).unwrap_or_else(|e| panic!("test name {name}: {e}"));
    m.add_query(Query::query(name, qtype));
    m
}

/// `m` with an OPT record advertising `size`.
pub fn with_edns(mut m: Message, size: u16) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(size);
    m.set_edns(edns);
    m
}

/// Sends `m` to `addr` over `transport` and decodes the answer; also returns the address the
/// query was sent from. Panics (failing the test) when no answer comes or it does not decode.
pub fn exchange(addr: SocketAddr, transport: Transport, m: &Message) -> (Message, SocketAddr) {
    let packet = m.to_vec().expect("the test query encodes");
    let sent = match transport {
        Transport::Udp => udp(addr, &packet),
        Transport::Tcp => tcp(addr, &packet),
    };
    let (bytes, from) = sent.unwrap_or_else(|e| panic!("{transport:?} exchange with {addr}: {e}"));
    let reply = Message::from_vec(&bytes)
        .unwrap_or_else(|e| panic!("the {transport:?} answer does not decode: {e}"));
    assert_eq!(
        reply.metadata.id, m.metadata.id,
        "the answer carries the query's ID"
    );
    (reply, from)
}

/// [`exchange`], the answer only.
pub fn ask(addr: SocketAddr, transport: Transport, m: &Message) -> Message {
    exchange(addr, transport, m).0
}

/// One exchange from a client socket bound to `source` (any 127.0.0.0/8 address is the
/// machine's loopback, so tests can ask as different clients), waiting at most `wait`: the
/// answer, or the error (a timeout when the server sent nothing).
pub fn exchange_from(
    source: std::net::IpAddr,
    addr: SocketAddr,
    transport: Transport,
    m: &Message,
    wait: Duration,
) -> io::Result<Message> {
    let packet = m.to_vec().map_err(io::Error::other)?;
    let bytes = match transport {
        Transport::Udp => {
            let sock = UdpSocket::bind(SocketAddr::new(source, 0))?;
            sock.connect(addr)?;
            sock.set_read_timeout(Some(wait))?;
            sock.send(&packet)?;
            let mut buf = vec![0u8; 65535];
            let n = sock.recv(&mut buf)?;
            buf.truncate(n);
            buf
        }
        Transport::Tcp => {
            let domain = socket2::Domain::for_address(addr);
            let sock = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
            sock.bind(&SocketAddr::new(source, 0).into())?;
            sock.connect_timeout(&addr.into(), wait)?;
            let mut s: TcpStream = sock.into();
            s.set_read_timeout(Some(wait))?;
            write_framed(&mut s, &packet)?;
            read_framed(&mut s)?
        }
    };
    Message::from_vec(&bytes).map_err(io::Error::other)
}

fn udp(addr: SocketAddr, packet: &[u8]) -> io::Result<(Vec<u8>, SocketAddr)> {
    let sock = UdpSocket::bind(crate::net::loopback_client_for(addr))?;
    sock.connect(addr)?;
    sock.set_read_timeout(Some(TIMEOUT))?;
    sock.send(packet)?;
    let mut buf = vec![0u8; 65535];
    let n = sock.recv(&mut buf)?;
    buf.truncate(n);
    Ok((buf, sock.local_addr()?))
}

fn tcp(addr: SocketAddr, packet: &[u8]) -> io::Result<(Vec<u8>, SocketAddr)> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    write_framed(&mut s, packet)?;
    Ok((read_framed(&mut s)?, s.local_addr()?))
}

fn write_framed(s: &mut TcpStream, packet: &[u8]) -> io::Result<()> {
    let len = u16::try_from(packet.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(packet);
    s.write_all(&framed)
}

fn read_framed(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

/// The response a fake upstream sends to a query.
pub type Respond = dyn Fn(&Message) -> Message + Send + Sync;

/// A DNS server on 127.0.0.1 (UDP and TCP on one port) answering every query with
/// `respond(query)`, the query's ID patched in. Stops when dropped.
pub struct Upstream {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    pub fn start(respond: impl Fn(&Message) -> Message + Send + Sync + 'static) -> Upstream {
        let respond: Arc<Respond> = Arc::new(respond);
        let (udp, tcp) = bind_pair();
        let addr = udp.local_addr().expect("the fake upstream's address");
        let stop = Arc::new(AtomicBool::new(false));
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("a read timeout");
        tcp.set_nonblocking(true).expect("a non-blocking listener");
        let (s, r) = (stop.clone(), respond.clone());
        std::thread::spawn(move || serve_udp(&udp, &s, &*r));
        let s = stop.clone();
        std::thread::spawn(move || serve_tcp(&tcp, &s, &*respond));
        Upstream { addr, stop }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A UDP socket and a TCP listener on the same loopback port (another test's TCP socket may
/// hold the port the kernel picked for UDP: then another is tried).
fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..64 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind the fake upstream's UDP");
        let addr = udp.local_addr().expect("the fake upstream's UDP address");
        if let Ok(tcp) = TcpListener::bind(addr) {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

fn reply(respond: &Respond, packet: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(packet).ok()?;
    let mut response = respond(&query);
    response.metadata.id = query.metadata.id;
    response.to_vec().ok()
}

fn serve_udp(sock: &UdpSocket, stop: &AtomicBool, respond: &Respond) {
    let mut buf = vec![0u8; 65535];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if let Some(out) = reply(respond, &buf[..n]) {
            let _ = sock.send_to(&out, from);
        }
    }
}

fn serve_tcp(listener: &TcpListener, stop: &AtomicBool, respond: &Respond) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut s, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(TIMEOUT));
        while let Ok(packet) = read_framed(&mut s) {
            match reply(respond, &packet) {
                Some(out) if write_framed(&mut s, &out).is_ok() => {}
                _ => break,
            }
        }
    }
}

/// A response to `query`: its question, RD echoed, RA set, NOERROR, no records yet.
pub fn response_to(query: &Message) -> Message {
    let mut m = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    m.metadata.recursion_desired = query.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.queries = query.queries.clone();
    m.edns = query.edns.clone();
    m
}
