use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::{Peer, Rule, TransferConfig};
use crate::config::model::Location;
use crate::dns::Transport;
use crate::plugin::acl::policy::Net;
use crate::plugin::test_support::{ask, exchange_from, options, query, serve};

fn n(name: &str) -> Name {
    Name::from_ascii(name).unwrap()
}

fn net(text: &str) -> Peer {
    Peer::Net(Net::parse(text).unwrap())
}

#[test]
fn options_table() {
    let rule = |zones: &[&str], to: Vec<Peer>, line: usize| Rule {
        location: Location {
            file: "Corefile".into(),
            line,
        },
        zones: zones.iter().map(|z| n(z)).collect(),
        to,
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, Result<TransferConfig, String>)> = vec![
        ("example.org {\n transfer {\n  to *\n }\n}",
         Ok(TransferConfig { rules: vec![rule(&["example.org."], vec![Peer::Any], 2)] })),
        (". {\n transfer example.org example.net {\n  to 10.0.0.1 10.1.0.0/16 [fd00::1]:5300\n  to 192.0.2.1:53\n  source 10.0.0.9\n }\n transfer other.org {\n  to *\n }\n}",
         Ok(TransferConfig { rules: vec![
             rule(&["example.org.", "example.net."], vec![net("10.0.0.1"), net("10.1.0.0/16"), net("fd00::1"), net("192.0.2.1")], 2),
             rule(&["other.org."], vec![Peer::Any], 7),
         ] })),
        ("example.org {\n transfer\n}",
         Err("Corefile:2: transfer: `to` is required (`transfer [ZONE...] { to ADDRESS... }`)".into())),
        ("example.org {\n transfer {\n  to\n }\n}",
         Err("Corefile:3: `to` takes at least 1 argument (`to ADDRESS...`), got 0".into())),
        ("example.org {\n transfer {\n  to secondary.example\n }\n}",
         Err("Corefile:3: transfer: `to` address `secondary.example` is not `*`, an IP address (with or without a port) or a CIDR network".into())),
        ("example.org {\n transfer {\n  to *\n  notify 10.0.0.1\n }\n}",
         Err("Corefile:4: unknown transfer option `notify`: expected `to` or `source`".into())),
        ("example.org {\n transfer {\n  to *\n  source eth0\n }\n}",
         Err("Corefile:4: transfer: invalid source address `eth0`".into())),
    ];
    for (corefile, want) in cases {
        assert_eq!(options::<TransferConfig>(corefile), want, "{corefile}");
    }
}

/// A zone large enough to take several messages.
fn zone_text(serial: u32, extra: usize) -> String {
    let mut text = format!(
        "$ORIGIN example.org.\n$TTL 300\n@ IN SOA ns1 hostmaster {serial} 7200 3600 1209600 60\n  IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.1\n"
    );
    for i in 0..extra {
        text.push_str(&format!(
            "host{i} IN TXT \"padding padding padding padding padding padding {i}\"\n"
        ));
    }
    text
}

const EXTRA: usize = 3000;

fn start(to: &str) -> (crate::plugin::test_support::Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.example.org");
    std::fs::write(&db, zone_text(7, EXTRA)).unwrap();
    let server = serve(&format!(
        ".:0 {{\n bind 127.0.0.1\n file {} example.org\n transfer example.org {{\n  to {to}\n }}\n}}",
        db.display()
    ));
    (server, dir)
}

/// Sends `m` over TCP from 127.0.0.1 and reads messages until the transfer ends: the second
/// SOA, a message that is not a NOERROR transfer message, or a lone SOA (IXFR up to date).
fn transfer(addr: SocketAddr, m: &Message) -> Vec<Message> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let packet = m.to_vec().unwrap();
    let mut framed = u16::try_from(packet.len()).unwrap().to_be_bytes().to_vec();
    framed.extend_from_slice(&packet);
    s.write_all(&framed).unwrap();
    let mut messages = Vec::new();
    let mut soas = 0;
    loop {
        let mut len = [0u8; 2];
        s.read_exact(&mut len).expect("another message of the transfer");
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut buf).unwrap();
        let reply = Message::from_vec(&buf).unwrap();
        assert_eq!(reply.metadata.id, m.metadata.id, "every message has the query's ID");
        soas += reply
            .answers
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .count();
        let done = reply.metadata.response_code != ResponseCode::NoError
            || soas >= 2
            || (messages.is_empty() && reply.answers.len() == 1 && soas == 1);
        messages.push(reply);
        if done {
            return messages;
        }
    }
}

fn records(messages: &[Message]) -> Vec<Record> {
    messages.iter().flat_map(|m| m.answers.clone()).collect()
}

#[test]
fn axfr_over_tcp_sends_every_record_between_two_soas_in_several_messages() {
    let (server, _dir) = start("127.0.0.1");
    let messages = transfer(server.addr, &query("example.org.", RecordType::AXFR));
    assert!(messages.len() > 1, "{} messages", messages.len());
    assert!(messages.iter().all(|m| m.metadata.authoritative));
    let all = records(&messages);
    let soa = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 7 7200 3600 1209600 60";
    assert_eq!(all.first().map(|r| r.to_string()).as_deref(), Some(soa));
    assert_eq!(all.last().map(|r| r.to_string()).as_deref(), Some(soa));
    // SOA, NS, ns1 A, www A, the TXTs, SOA.
    assert_eq!(all.len(), 3 + EXTRA + 2);
    let lines: Vec<String> = all.iter().map(|r| r.to_string()).collect();
    for want in [
        "example.org. 300 IN NS ns1.example.org.",
        "www.example.org. 300 IN A 192.0.2.1",
        // (hickory writes TXT strings unquoted)
        "host2999.example.org. 300 IN TXT padding padding padding padding padding padding 2999",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} missing");
    }
}

fn ixfr(serial: u32) -> Message {
    let mut m = query("example.org.", RecordType::IXFR);
    let soa = SOA::new(n("ns1.example.org."), n("hostmaster.example.org."), serial, 0, 0, 0, 0);
    m.authorities
        .push(Record::from_rdata(n("example.org."), 0, RData::SOA(soa)));
    m
}

#[test]
fn ixfr_is_the_soa_alone_when_current_and_a_full_transfer_otherwise() {
    let (server, _dir) = start("*");
    let current = transfer(server.addr, &ixfr(7));
    assert_eq!(current.len(), 1);
    assert_eq!(
        records(&current).iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        ["example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 7 7200 3600 1209600 60"]
    );
    let behind = records(&transfer(server.addr, &ixfr(6)));
    assert_eq!(behind.len(), 3 + EXTRA + 2);
    assert_eq!(behind.first().map(|r| r.record_type()), Some(RecordType::SOA));
    assert_eq!(behind.last().map(|r| r.record_type()), Some(RecordType::SOA));
}

#[test]
fn transfers_are_refused_to_others_over_udp_and_for_names_that_are_no_zone() {
    let (server, _dir) = start("127.0.0.2 10.0.0.0/8");
    let wait = Duration::from_secs(3);
    let axfr = query("example.org.", RecordType::AXFR);
    let from = |ip: &str| {
        exchange_from(ip.parse::<IpAddr>().unwrap(), server.addr, Transport::Tcp, &axfr, wait)
            .unwrap()
    };
    // Another loopback address than the one allowed.
    let refused = from("127.0.0.3");
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
    assert!(refused.answers.is_empty());
    let allowed = from("127.0.0.2");
    assert_eq!(allowed.metadata.response_code, ResponseCode::NoError);
    assert_eq!(allowed.answers.first().map(|r| r.record_type()), Some(RecordType::SOA));
    // Over UDP, never.
    let udp = exchange_from("127.0.0.2".parse().unwrap(), server.addr, Transport::Udp, &axfr, wait)
        .unwrap();
    assert_eq!(udp.metadata.response_code, ResponseCode::Refused);
    // A name below the zone's origin is no zone: `file` refuses it.
    let below = ask(server.addr, Transport::Tcp, &query("www.example.org.", RecordType::AXFR));
    assert_eq!(below.metadata.response_code, ResponseCode::Refused);
    // Other questions are answered as ever.
    let www = ask(server.addr, Transport::Tcp, &query("www.example.org.", RecordType::A));
    assert_eq!(www.answers.len(), 1);
}

/// The kind cluster of `tests/fixtures/kind-cluster.json`, through the dump reader.
fn kind_cluster() -> crate::cluster::model::ClusterState {
    let text = include_str!("../../../tests/fixtures/kind-cluster.json");
    match crate::source::file::parse_dump(text, "kind-cluster.json") {
        Ok(dump) => dump.state,
        Err(e) => panic!("the kind fixture does not load: {e}"),
    }
}

#[test]
fn the_cluster_zone_transfers_with_every_service_between_two_soas() {
    let server = crate::plugin::test_support::serve_state(
        ".:0 {\n  bind 127.0.0.1\n  transfer {\n    to 127.0.0.1\n  }\n  kubernetes cluster.local in-addr.arpa ip6.arpa\n}\n",
        kind_cluster(),
    );
    let messages = transfer(server.addr, &query("cluster.local.", RecordType::AXFR));
    let all = records(&messages);
    let lines: Vec<String> = all.iter().map(|r| r.to_string()).collect();
    let first = lines.first().cloned().unwrap_or_default();
    assert!(first.starts_with("cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. "), "{lines:#?}");
    assert_eq!(lines.last(), Some(&first), "SOA first and last");
    for want in [
        "cluster.local. 5 IN NS ns.dns.cluster.local.",
        "ns.dns.cluster.local. 5 IN A 127.0.0.1",
        "kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1",
        "_https._tcp.kubernetes.default.svc.cluster.local. 5 IN SRV 0 100 443 kubernetes.default.svc.cluster.local.",
        "kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.10",
        "_dns._udp.kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.",
        "web.shop.svc.cluster.local. 5 IN A 10.96.120.7",
        "db.shop.svc.cluster.local. 5 IN A 10.244.1.7",
        "db.shop.svc.cluster.local. 5 IN A 10.244.2.8",
        "db-0.db.shop.svc.cluster.local. 5 IN A 10.244.1.7",
        "db-1.db.shop.svc.cluster.local. 5 IN A 10.244.2.8",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} missing from {lines:#?}");
    }
    assert!(
        lines.iter().any(|l| l.starts_with("_postgres._tcp.db.shop.svc.cluster.local. 5 IN SRV ") && l.ends_with(" 5432 db-0.db.shop.svc.cluster.local.")),
        "{lines:#?}"
    );
    // No pods, no reverse names: CoreDNS transfers neither.
    assert!(!lines.iter().any(|l| l.contains(".pod.") || l.contains("in-addr.arpa")), "{lines:#?}");
    // The same index, the same transfer.
    let again: Vec<String> = records(&transfer(server.addr, &query("cluster.local.", RecordType::AXFR)))
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(again, lines);

    // IXFR with the current serial: the SOA alone; with an older one, everything.
    let serial = match &all[0].data {
        RData::SOA(soa) => soa.serial,
        other => panic!("not an SOA: {other:?}"),
    };
    let ixfr_at = |serial: u32| {
        let mut m = query("cluster.local.", RecordType::IXFR);
        let soa = SOA::new(n("ns.dns.cluster.local."), n("hostmaster.cluster.local."), serial, 0, 0, 0, 0);
        m.authorities
            .push(Record::from_rdata(n("cluster.local."), 0, RData::SOA(soa)));
        m
    };
    assert_eq!(records(&transfer(server.addr, &ixfr_at(serial))).len(), 1);
    assert_eq!(records(&transfer(server.addr, &ixfr_at(serial.wrapping_sub(1)))).len(), lines.len());
    // The reverse zones are not transferred.
    let reverse = transfer(server.addr, &query("in-addr.arpa.", RecordType::AXFR));
    assert_ne!(reverse[0].metadata.response_code, ResponseCode::NoError);
}
