//! A fake upstream DNS server on 127.0.0.1 (UDP and TCP on one port) for the drop-in tests:
//! answers from a table of zone-file lines, counts what it was asked, and can be silenced to
//! play a dead upstream. Tests never send anything to the machine's real resolver.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// Records the fake upstream knows, as (name, type, rdata text) with a TTL.
pub struct Upstream {
    pub addr: SocketAddr,
    silent: Arc<AtomicBool>,
    asked: Arc<Mutex<Vec<(String, RecordType)>>>,
    queries: Arc<AtomicUsize>,
}

fn record(name: &str, ttl: u32, rtype: &str, data: &str) -> Record {
    let owner = Name::from_str(name).expect("test owner");
    let rdata = match rtype {
        "A" => RData::A(A::from_str(data).expect("test address")),
        "PTR" => RData::PTR(PTR(Name::from_str(data).expect("test name"))),
        "CNAME" => RData::CNAME(CNAME(Name::from_str(data).expect("test name"))),
        other => panic!("the fake upstream does not serve {other}"),
    };
    Record::from_rdata(owner, ttl, rdata)
}

/// The answer to `query` from `table` (lines `NAME TTL TYPE DATA`).
fn answer(table: &[(&str, u32, &str, &str)], query: &Message) -> Message {
    let mut m = Message::new(
        query.metadata.id,
        MessageType::Response,
        query.metadata.op_code,
    );
    m.metadata.recursion_desired = query.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.queries = query.queries.clone();
    m.edns = query.edns.clone();
    let Some(q) = query.queries.first() else {
        m.metadata.response_code = ResponseCode::FormErr;
        return m;
    };
    let qname = q.name().to_ascii().to_ascii_lowercase();
    let mut known = false;
    for (name, ttl, rtype, data) in table {
        if name.eq_ignore_ascii_case(&qname) {
            known = true;
            if RecordType::from_str(rtype).ok() == Some(q.query_type()) {
                m.answers.push(record(name, *ttl, rtype, data));
            }
        }
    }
    if !known {
        m.metadata.response_code = ResponseCode::NXDomain;
    }
    m
}

/// A UDP socket and a TCP listener on the same loopback port. The kernel picks the UDP port;
/// a TCP socket (another test's connection, say) may already hold it, so a taken port is
/// given back and another tried.
fn bind_pair() -> (UdpSocket, TcpListener) {
    let mut last = None;
    for _ in 0..64 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind fake upstream UDP");
        let addr = udp.local_addr().expect("fake upstream UDP address");
        match TcpListener::bind(addr) {
            Ok(tcp) => return (udp, tcp),
            Err(e) => last = Some(e),
        }
    }
    panic!("no loopback port free for both UDP and TCP: {last:?}");
}

impl Upstream {
    /// Starts answering from `table`.
    pub fn start(table: Vec<(&'static str, u32, &'static str, &'static str)>) -> Upstream {
        let (udp, tcp) = bind_pair();
        let addr = udp.local_addr().expect("fake upstream UDP address");
        let silent = Arc::new(AtomicBool::new(false));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let queries = Arc::new(AtomicUsize::new(0));
        let table = Arc::new(table);
        {
            let (silent, asked, queries, table) = (
                silent.clone(),
                asked.clone(),
                queries.clone(),
                table.clone(),
            );
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok((n, peer)) = udp.recv_from(&mut buf) {
                    let Ok(q) = Message::from_vec(&buf[..n]) else {
                        continue;
                    };
                    if let Some(first) = q.queries.first() {
                        asked
                            .lock()
                            .unwrap()
                            .push((first.name().to_ascii(), first.query_type()));
                    }
                    queries.fetch_add(1, Ordering::Relaxed);
                    if silent.load(Ordering::Relaxed) {
                        continue;
                    }
                    if let Ok(bytes) = answer(&table, &q).to_vec() {
                        let _ = udp.send_to(&bytes, peer);
                    }
                }
            });
        }
        {
            let (silent, table) = (silent.clone(), table.clone());
            std::thread::spawn(move || {
                for stream in tcp.incoming().flatten() {
                    let (silent, table) = (silent.clone(), table.clone());
                    std::thread::spawn(move || {
                        let mut stream = stream;
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        loop {
                            let mut len = [0u8; 2];
                            if stream.read_exact(&mut len).is_err() {
                                return;
                            }
                            let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
                            if stream.read_exact(&mut body).is_err() {
                                return;
                            }
                            if silent.load(Ordering::Relaxed) {
                                continue;
                            }
                            let Ok(q) = Message::from_vec(&body) else {
                                return;
                            };
                            let Ok(bytes) = answer(&table, &q).to_vec() else {
                                return;
                            };
                            let _ = stream.write_all(&(bytes.len() as u16).to_be_bytes());
                            let _ = stream.write_all(&bytes);
                        }
                    });
                }
            });
        }
        Upstream {
            addr,
            silent,
            asked,
            queries,
        }
    }

    /// Stop (or resume) answering: queries are still read and counted.
    pub fn silence(&self, silent: bool) {
        self.silent.store(silent, Ordering::Relaxed);
    }

    /// How many times `name` (any case, FQDN) was asked over UDP.
    pub fn asked(&self, name: &str) -> usize {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
}
