//! Protocol behaviour over real sockets: EDNS0 and truncation, FORMERR / NOTIMP / REFUSED,
//! malformed packets (the server must survive them), TCP framing and pipelining.
//!
//! Expectations: RFC 1035 / RFC 6891 / RFC 7766 and the brief's Cairn decisions (the response OPT
//! advertises 1232; malformed input gets FORMERR or no answer; names outside the served zones
//! are REFUSED).

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use common::{
    encode, exchange, next_id, query, render_all, start, tcp_connect, tcp_read, tcp_write,
    udp_exchange, Server, Transport, SHORT_TIMEOUT, TIMEOUT, TRANSPORTS,
};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

const COREFILE: &str = "\
.:0 {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa ip6.arpa
}
";

/// `big` is a headless service with 40 ready IPv4 endpoints: 40 A records, ~700 bytes.
const BIG: &str = "big.testns.svc.cluster.local.";
const BIG_COUNT: usize = 40;

fn server() -> Server {
    start(COREFILE)
}

/// The raw header of a response: (id, QR, opcode, rcode low bits, TC).
fn raw_header(b: &[u8]) -> (u16, bool, u8, u8, bool) {
    assert!(b.len() >= 12, "response shorter than a header: {b:?}");
    (
        u16::from_be_bytes([b[0], b[1]]),
        b[2] & 0x80 != 0,
        (b[2] >> 3) & 0x0f,
        b[3] & 0x0f,
        b[2] & 0x02 != 0,
    )
}

/// The server still answers a normal query correctly, over UDP and TCP.
fn assert_still_answers(addr: SocketAddr, after: &str) {
    for t in TRANSPORTS {
        let q = query("svc1.testns.svc.cluster.local.", RecordType::A, None);
        let r = exchange(addr, t, &q)
            .unwrap_or_else(|e| panic!("after {after}: normal query over {t:?} failed: {e}"));
        assert_eq!(r.metadata.id, q.metadata.id, "after {after} over {t:?}");
        assert_eq!(
            r.metadata.response_code,
            ResponseCode::NoError,
            "after {after} over {t:?}"
        );
        assert_eq!(
            render_all(&r.answers),
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1".to_string()],
            "after {after} over {t:?}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// EDNS0 and truncation

#[test]
fn edns_response_advertises_1232() {
    let s = server();
    for t in TRANSPORTS {
        let q = query("svc1.testns.svc.cluster.local.", RecordType::A, Some(4096));
        let r = exchange(s.addr, t, &q).unwrap();
        let edns = r
            .edns
            .as_ref()
            .unwrap_or_else(|| panic!("no OPT in the response to an EDNS query over {t:?}"));
        assert_eq!(edns.max_payload(), 1232, "over {t:?}");
        assert_eq!(edns.version(), 0, "over {t:?}");
        assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    }
}

#[test]
fn no_opt_in_response_without_edns() {
    let s = server();
    for t in TRANSPORTS {
        let q = query("svc1.testns.svc.cluster.local.", RecordType::A, None);
        let r = exchange(s.addr, t, &q).unwrap();
        assert!(
            r.edns.is_none(),
            "RFC 6891 6.1.1: OPT only in answers to OPT queries ({t:?})"
        );
        assert_eq!(r.answers.len(), 1, "over {t:?}");
    }
}

#[test]
fn large_answer_over_udp_without_edns_is_truncated() {
    let s = server();
    let q = query(BIG, RecordType::A, None);
    let bytes = udp_exchange(s.addr, &encode(&q), TIMEOUT)
        .unwrap()
        .expect("no UDP answer");
    assert!(
        bytes.len() <= 512,
        "UDP answer without EDNS is {} bytes (> 512)",
        bytes.len()
    );
    let (id, qr, _, _, tc) = raw_header(&bytes);
    assert_eq!(id, q.metadata.id);
    assert!(qr);
    assert!(
        tc,
        "answer of {BIG_COUNT} A records must be truncated at 512 bytes"
    );
    if let Ok(r) = Message::from_vec(&bytes) {
        assert!(r.answers.len() < BIG_COUNT);
    }
}

#[test]
fn large_answer_honours_small_edns_size() {
    let s = server();
    // A client advertising 512 gets the same limit as one without EDNS.
    let q = query(BIG, RecordType::A, Some(512));
    let bytes = udp_exchange(s.addr, &encode(&q), TIMEOUT)
        .unwrap()
        .expect("no UDP answer");
    assert!(bytes.len() <= 512, "answer is {} bytes", bytes.len());
    let (id, _, _, _, tc) = raw_header(&bytes);
    assert_eq!(id, q.metadata.id);
    assert!(tc, "TC must be set");
}

#[test]
fn large_answer_fits_with_edns_1232() {
    let s = server();
    let q = query(BIG, RecordType::A, Some(1232));
    let bytes = udp_exchange(s.addr, &encode(&q), TIMEOUT)
        .unwrap()
        .expect("no UDP answer");
    assert!(bytes.len() <= 1232, "answer is {} bytes", bytes.len());
    let r = Message::from_vec(&bytes).unwrap();
    assert!(!r.metadata.truncation, "a ~700 byte answer fits in 1232");
    assert_eq!(r.answers.len(), BIG_COUNT);
}

#[test]
fn large_answer_over_tcp_is_complete() {
    let s = server();
    let q = query(BIG, RecordType::A, None);
    let r = exchange(s.addr, Transport::Tcp, &q).unwrap();
    assert!(!r.metadata.truncation, "TC set over TCP");
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    let mut got = render_all(&r.answers);
    got.sort();
    let mut want: Vec<String> = (1..=BIG_COUNT)
        .map(|i| format!("{BIG} 5 IN A 172.0.10.{i}"))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

// ------------------------------------------------------------------------------------------------
// FORMERR / NOTIMP / REFUSED

/// Sends raw bytes over `t` and expects a response with `rcode` and the query's ID.
fn expect_rcode(addr: SocketAddr, t: Transport, packet: &[u8], rcode: ResponseCode, what: &str) {
    let bytes = match t {
        Transport::Udp => udp_exchange(addr, packet, TIMEOUT)
            .unwrap()
            .unwrap_or_else(|| panic!("{what}: no UDP answer")),
        Transport::Tcp => common::tcp_exchange(addr, packet)
            .unwrap_or_else(|e| panic!("{what}: no TCP answer: {e}")),
    };
    let (id, qr, _, rc, _) = raw_header(&bytes);
    assert_eq!(
        id,
        u16::from_be_bytes([packet[0], packet[1]]),
        "{what} over {t:?}: ID"
    );
    assert!(qr, "{what} over {t:?}: QR");
    assert_eq!(
        rc,
        u16::from(rcode) as u8,
        "{what} over {t:?}: rcode {rc}, expected {rcode:?}"
    );
}

#[test]
fn two_questions_get_formerr() {
    let s = server();
    let mut q = query("svc1.testns.svc.cluster.local.", RecordType::A, None);
    q.add_query(Query::query(
        Name::from_ascii("svc2.testns2.svc.cluster.local.").unwrap(),
        RecordType::A,
    ));
    let packet = encode(&q);
    assert_eq!(&packet[4..6], &[0, 2], "QDCOUNT 2");
    for t in TRANSPORTS {
        expect_rcode(s.addr, t, &packet, ResponseCode::FormErr, "QDCOUNT 2");
    }
    assert_still_answers(s.addr, "QDCOUNT 2");
}

#[test]
fn truncated_question_gets_formerr() {
    let s = server();
    let full = encode(&query(
        "svc1.testns.svc.cluster.local.",
        RecordType::A,
        None,
    ));
    // Cut inside QTYPE/QCLASS, and in the middle of the name.
    for (cut, what) in [(full.len() - 3, "cut in QCLASS"), (20, "cut in QNAME")] {
        for t in TRANSPORTS {
            expect_rcode(s.addr, t, &full[..cut], ResponseCode::FormErr, what);
        }
    }
    assert_still_answers(s.addr, "truncated question");
}

#[test]
fn unsupported_opcodes_get_notimp() {
    let s = server();
    for op in [OpCode::Status, OpCode::Notify, OpCode::Update] {
        for t in TRANSPORTS {
            let mut m = Message::new(next_id(), MessageType::Query, op);
            m.add_query(Query::query(
                Name::from_ascii("cluster.local.").unwrap(),
                RecordType::SOA,
            ));
            let packet = encode(&m);
            expect_rcode(
                s.addr,
                t,
                &packet,
                ResponseCode::NotImp,
                &format!("opcode {op:?}"),
            );
            let bytes = match t {
                Transport::Udp => udp_exchange(s.addr, &packet, TIMEOUT).unwrap().unwrap(),
                Transport::Tcp => common::tcp_exchange(s.addr, &packet).unwrap(),
            };
            let (_, _, opcode, _, _) = raw_header(&bytes);
            assert_eq!(opcode, u8::from(op), "opcode {op:?} echoed over {t:?}");
        }
    }
    assert_still_answers(s.addr, "NOTIMP opcodes");
}

#[test]
fn names_outside_served_zones_are_refused() {
    let s = server();
    for name in ["example.org.", "www.example.org.", "local."] {
        for t in TRANSPORTS {
            let q = query(name, RecordType::A, None);
            let r = exchange(s.addr, t, &q).unwrap();
            assert_eq!(r.metadata.id, q.metadata.id);
            assert_eq!(
                r.metadata.response_code,
                ResponseCode::Refused,
                "{name} over {t:?}"
            );
            assert!(r.answers.is_empty(), "{name} over {t:?}");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Malformed packets: FORMERR or silence, never a crash or a normal answer.

/// A deterministic pseudo-random byte stream (no rand dependency needed).
fn garbage(len: usize, mut seed: u32) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        })
        .collect()
}

fn header(id: u16, flags: u16, qd: u16, an: u16) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&qd.to_be_bytes());
    h.extend_from_slice(&an.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

fn malformed_packets() -> Vec<(&'static str, Vec<u8>)> {
    let valid = encode(&query(
        "svc1.testns.svc.cluster.local.",
        RecordType::A,
        None,
    ));

    let mut pointer_loop = header(0x1111, 0x0100, 1, 0);
    pointer_loop.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]); // qname -> itself

    let mut pointer_out = header(0x1112, 0x0100, 1, 0);
    pointer_out.extend_from_slice(&[0xc0, 0xff, 0x00, 0x01, 0x00, 0x01]); // beyond the end

    let mut many_answers = valid.clone();
    many_answers[0..2].copy_from_slice(&0x1113u16.to_be_bytes());
    many_answers[6..8].copy_from_slice(&[0xff, 0xff]); // ANCOUNT 65535, no records follow

    let mut long_label = header(0x1114, 0x0100, 1, 0);
    long_label.push(64); // label length 64 (> 63)
    long_label.extend_from_slice(&[b'a'; 64]);
    long_label.extend_from_slice(&[0, 0, 1, 0, 1]);

    let mut response = valid.clone();
    response[0..2].copy_from_slice(&0x1115u16.to_be_bytes());
    response[2] |= 0x80; // QR = 1

    let mut junk = garbage(4096, 0xdead_beef);
    junk[0..2].copy_from_slice(&0x1116u16.to_be_bytes());

    vec![
        ("empty datagram", vec![]),
        ("5 bytes", vec![0x11, 0x17, 0x01, 0x00, 0x00]),
        ("11 bytes", header(0x1118, 0x0100, 1, 0)[..11].to_vec()),
        ("compression pointer loop in QNAME", pointer_loop),
        ("compression pointer past the end", pointer_out),
        ("ANCOUNT 65535 without records", many_answers),
        ("label of 64 bytes", long_label),
        ("response packet (QR=1)", response),
        ("4 KiB of garbage", junk),
    ]
}

/// The only acceptable reaction to `packet`: nothing, or FORMERR with the packet's ID.
fn check_formerr_or_silence(what: &str, packet: &[u8], answer: Option<Vec<u8>>) {
    let Some(bytes) = answer else { return };
    if what.starts_with("response packet") {
        panic!(
            "{what}: the server answered a response ({} bytes)",
            bytes.len()
        );
    }
    let (id, qr, _, rc, _) = raw_header(&bytes);
    assert!(qr, "{what}: answer without QR");
    assert_eq!(
        rc,
        u16::from(ResponseCode::FormErr) as u8,
        "{what}: got rcode {rc}, expected FORMERR or no answer"
    );
    if packet.len() >= 2 {
        assert_eq!(id, u16::from_be_bytes([packet[0], packet[1]]), "{what}: ID");
    }
}

#[test]
fn malformed_udp_packets_get_formerr_or_nothing() {
    let s = server();
    for (what, packet) in malformed_packets() {
        let answer = udp_exchange(s.addr, &packet, SHORT_TIMEOUT).unwrap();
        check_formerr_or_silence(what, &packet, answer);
        assert_still_answers(s.addr, what);
    }
}

#[test]
fn malformed_tcp_messages_get_formerr_or_nothing() {
    let s = server();
    for (what, packet) in malformed_packets() {
        let mut c = tcp_connect(s.addr).unwrap();
        c.set_read_timeout(Some(SHORT_TIMEOUT)).unwrap();
        tcp_write(&mut c, &packet).unwrap();
        // A FORMERR frame, a closed connection and silence are all acceptable.
        let answer = tcp_read(&mut c).ok();
        check_formerr_or_silence(what, &packet, answer);
        drop(c);
        assert_still_answers(s.addr, what);
    }
}

#[test]
fn tcp_connection_closed_mid_frame_does_not_hurt() {
    let s = server();
    let mut c = tcp_connect(s.addr).unwrap();
    c.write_all(&[0x00, 0x40, 0x12]).unwrap(); // promises 64 bytes, sends 1
    drop(c);
    let mut c = tcp_connect(s.addr).unwrap();
    c.write_all(&[0x00]).unwrap(); // half a length prefix
    drop(c);
    assert_still_answers(s.addr, "TCP connections closed mid-frame");
}

// ------------------------------------------------------------------------------------------------
// TCP framing

#[test]
fn tcp_pipelined_queries_all_answered() {
    let s = server();
    let names = [
        (
            "svc1.testns.svc.cluster.local.",
            RecordType::A,
            ResponseCode::NoError,
        ),
        (
            "dual.testns.svc.cluster.local.",
            RecordType::AAAA,
            ResponseCode::NoError,
        ),
        (
            "nosvc.testns.svc.cluster.local.",
            RecordType::A,
            ResponseCode::NXDomain,
        ),
        (
            "hdls1.testns.svc.cluster.local.",
            RecordType::A,
            ResponseCode::NoError,
        ),
        (
            "_http._tcp.svc1.testns.svc.cluster.local.",
            RecordType::SRV,
            ResponseCode::NoError,
        ),
        (
            "dns-version.cluster.local.",
            RecordType::TXT,
            ResponseCode::NoError,
        ),
        (BIG, RecordType::A, ResponseCode::NoError),
        ("example.org.", RecordType::A, ResponseCode::Refused),
    ];
    let mut wire = Vec::new();
    let mut pending: BTreeMap<u16, (&str, RecordType, ResponseCode)> = BTreeMap::new();
    for (name, qtype, rcode) in names {
        let q = query(name, qtype, None);
        let p = encode(&q);
        wire.extend_from_slice(&(p.len() as u16).to_be_bytes());
        wire.extend_from_slice(&p);
        pending.insert(q.metadata.id, (name, qtype, rcode));
    }
    assert_eq!(pending.len(), names.len(), "IDs must differ");
    let mut c = tcp_connect(s.addr).unwrap();
    c.write_all(&wire).unwrap(); // all queries in one write
    for _ in 0..names.len() {
        let bytes = tcp_read(&mut c).unwrap_or_else(|e| {
            panic!("pipelined answers missing for {:?}: {e}", pending.values())
        });
        let r = Message::from_vec(&bytes).unwrap();
        let Some((name, qtype, rcode)) = pending.remove(&r.metadata.id) else {
            panic!("answer with unknown or repeated ID {}", r.metadata.id);
        };
        assert_eq!(r.metadata.response_code, rcode, "{name} {qtype}");
        let rq = &r.queries[0];
        assert_eq!(rq.name().to_string(), name, "question echoed");
        assert_eq!(rq.query_type(), qtype);
        if rcode == ResponseCode::NoError {
            assert!(!r.answers.is_empty(), "{name} {qtype}: empty answer");
        }
        if name == BIG {
            assert_eq!(r.answers.len(), BIG_COUNT, "complete over TCP");
        }
    }
    assert!(pending.is_empty());
}

#[test]
fn tcp_message_split_across_writes() {
    let s = server();
    let q = query("svc1.testns.svc.cluster.local.", RecordType::A, None);
    let p = encode(&q);
    let mut c = tcp_connect(s.addr).unwrap();
    c.write_all(&(p.len() as u16).to_be_bytes()[..1]).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    c.write_all(&(p.len() as u16).to_be_bytes()[1..]).unwrap();
    c.write_all(&p[..7]).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    c.write_all(&p[7..]).unwrap();
    let r = Message::from_vec(&tcp_read(&mut c).unwrap()).unwrap();
    assert_eq!(r.metadata.id, q.metadata.id);
    assert_eq!(
        render_all(&r.answers),
        vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1".to_string()]
    );
}

#[test]
fn tcp_connection_serves_sequential_queries() {
    let s = server();
    let mut c = tcp_connect(s.addr).unwrap();
    for name in [
        "svc1.testns.svc.cluster.local.",
        "svc2.testns2.svc.cluster.local.",
        "kubernetes.default.svc.cluster.local.",
    ] {
        let q = query(name, RecordType::A, None);
        tcp_write(&mut c, &encode(&q)).unwrap();
        let r = Message::from_vec(&tcp_read(&mut c).unwrap()).unwrap();
        assert_eq!(r.metadata.id, q.metadata.id, "{name}");
        assert_eq!(r.answers.len(), 1, "{name}");
    }
    // The connection is still open and idle: the server must not have closed it yet.
    c.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 1];
    match c.read(&mut buf) {
        Ok(0) => panic!("server closed an idle connection after 3 queries immediately"),
        Ok(_) => panic!("unsolicited data on the connection"),
        Err(_) => {}
    }
}
