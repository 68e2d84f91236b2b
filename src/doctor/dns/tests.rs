use std::net::Ipv4Addr;
use std::time::Duration;

use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record};

use super::*;

const NAME: &str = "kubernetes.default.svc.cluster.local.";

fn answer_to(query: &Message, rcode: ResponseCode, truncated: bool) -> Message {
    let mut m = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    m.metadata.response_code = rcode;
    m.metadata.truncation = truncated;
    m.add_query(query.queries[0].clone());
    if rcode == ResponseCode::NoError && !truncated {
        let name = query.queries[0].name().clone();
        m.add_answer(Record::from_rdata(
            name,
            5,
            RData::A(A(Ipv4Addr::new(10, 96, 0, 1))),
        ));
    }
    m
}

#[test]
fn rcodes_are_told_apart() {
    let q = query(&Name::from_ascii(NAME).unwrap());
    let cases = [
        (ResponseCode::NoError, false, DnsOutcome::Ok),
        (ResponseCode::NoError, true, DnsOutcome::NoData),
        (ResponseCode::NXDomain, false, DnsOutcome::Nxdomain),
        (ResponseCode::ServFail, false, DnsOutcome::Servfail),
        (ResponseCode::Refused, false, DnsOutcome::OtherRcode),
    ];
    for (rcode, empty, want) in cases {
        let m = answer_to(&q, rcode, empty);
        let (outcome, text, answers) = classify(&m);
        assert_eq!(outcome, want, "{rcode}");
        assert_eq!(text, format!("{rcode:?}").to_ascii_uppercase());
        if want == DnsOutcome::Ok {
            assert_eq!(answers, ["10.96.0.1"]);
        }
    }
}

#[test]
fn rcodes_read_as_dig_prints_them() {
    assert_eq!(mnemonic(ResponseCode::NoError), "NOERROR");
    assert_eq!(mnemonic(ResponseCode::NXDomain), "NXDOMAIN");
    assert_eq!(mnemonic(ResponseCode::ServFail), "SERVFAIL");
    assert_eq!(mnemonic(ResponseCode::Unknown(3841)), "RCODE3841");
}

#[test]
fn only_the_answer_to_the_query_matches() {
    let q = query(&Name::from_ascii(NAME).unwrap());
    let good = answer_to(&q, ResponseCode::NoError, false);
    assert!(matches(&good, &q));
    let mut other_id = good.clone();
    other_id.metadata.id = q.metadata.id.wrapping_add(1);
    assert!(!matches(&other_id, &q));
    let other = query(&Name::from_ascii("other.cluster.local.").unwrap());
    let mut other_question = answer_to(&other, ResponseCode::NoError, false);
    other_question.metadata.id = q.metadata.id;
    assert!(!matches(&other_question, &q));
    assert!(!matches(&q, &q), "a query is not a response");
}

/// A UDP server on loopback that ignores the first `drop` queries, then answers each
/// (truncated when `truncate`); and, with `truncate`, a TCP listener on the same port answering
/// in full.
async fn fake_server(drop: usize, truncate: bool) -> SocketAddr {
    // The TCP listener is bound first, on the UDP socket's port, so that a port some other
    // test's TCP socket already holds is skipped rather than failing the test.
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
            break (udp, tcp);
        }
    };
    let addr = udp.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        let mut seen = 0;
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            seen += 1;
            if seen <= drop {
                continue;
            }
            let q = Message::from_vec(&buf[..n]).unwrap();
            let a = answer_to(&q, ResponseCode::NoError, truncate);
            let _ = udp.send_to(&a.to_vec().unwrap(), from).await;
        }
    });
    if truncate {
        tokio::spawn(async move {
            while let Ok((mut s, _)) = tcp.accept().await {
                let mut len = [0u8; 2];
                s.read_exact(&mut len).await.unwrap();
                let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
                s.read_exact(&mut q).await.unwrap();
                let q = Message::from_vec(&q).unwrap();
                let a = answer_to(&q, ResponseCode::NoError, false)
                    .to_vec()
                    .unwrap();
                let mut framed = (a.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&a);
                s.write_all(&framed).await.unwrap();
            }
        });
    }
    addr
}

#[tokio::test]
async fn a_lost_query_is_sent_again() {
    let server = fake_server(1, false).await;
    let c = check(server, NAME, Duration::from_millis(600)).await;
    assert_eq!(c.outcome, DnsOutcome::Ok, "{c:?}");
    assert_eq!(c.transport.as_deref(), Some("udp"));
    assert!(c.latency_ms >= 300.0, "answered after the resend: {c:?}");
}

#[tokio::test]
async fn a_truncated_answer_is_asked_again_over_tcp() {
    let server = fake_server(0, true).await;
    let c = check(server, NAME, Duration::from_secs(2)).await;
    assert_eq!(c.outcome, DnsOutcome::Ok, "{c:?}");
    assert_eq!(c.transport.as_deref(), Some("tcp"));
    assert_eq!(c.answers, ["10.96.0.1"]);
}

#[tokio::test]
async fn silence_times_out_and_a_closed_port_is_refused() {
    let silent = fake_server(usize::MAX, false).await;
    let c = check(silent, NAME, Duration::from_millis(300)).await;
    assert_eq!(c.outcome, DnsOutcome::Timeout, "{c:?}");
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let c = check(closed, NAME, Duration::from_secs(2)).await;
    assert_eq!(c.outcome, DnsOutcome::Refused, "{c:?}");
    assert!(
        c.phrase().contains("ICMP port unreachable"),
        "{}",
        c.phrase()
    );
}
