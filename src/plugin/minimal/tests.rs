use std::str::FromStr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, NS, NULL, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::typify::{typify, valid_at, Type};
use super::MinimalConfig;
use crate::dns::request::Request;
use crate::dns::response::Sections;
use crate::dns::Transport;
use crate::plugin::test_support::{ask, options, query, response_to, serve, with_edns, Upstream};
use crate::plugin::Query;

#[test]
fn options_table() {
    let cases: &[(&str, Result<MinimalConfig, &str>)] = &[
        ("minimal", Ok(MinimalConfig)),
        (
            "minimal yes",
            Err("Corefile:2: `minimal` takes no arguments (`minimal`), got 1"),
        ),
        (
            "minimal {\n  }",
            Err("Corefile:2: unexpected `{` after `minimal` in the server block: this takes no block"),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        let got = options::<MinimalConfig>(&corefile);
        assert_eq!(got, want.clone().map_err(|e| e.to_string()), "for `{line}`");
    }
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("a test name")
}

fn a(owner: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A::new(192, 0, 2, 1)))
}

fn ns(owner: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::NS(NS(name("ns.test."))))
}

fn soa(owner: &str) -> Record {
    let data = SOA::new(name("ns.test."), name("h.test."), 1, 2, 3, 4, 5);
    Record::from_rdata(name(owner), 60, RData::SOA(data))
}

fn cname(owner: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::CNAME(CNAME(name("x.test."))))
}

fn srv(owner: &str) -> Record {
    let data = SRV::new(0, 0, 80, name("target.test."));
    Record::from_rdata(name(owner), 60, RData::SRV(data))
}

/// An RRSIG over A valid from `now + from` to `now + until` seconds, as hickory decodes one
/// (an unknown type: raw RDATA).
fn rrsig(owner: &str, from: i64, until: i64) -> Record {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let at = |d: i64| u32::try_from(now + d).expect("fits 32 bits").to_be_bytes();
    let mut rdata = vec![0, 1, 13, 2, 0, 0, 0, 60];
    rdata.extend_from_slice(&at(until));
    rdata.extend_from_slice(&at(from));
    rdata.extend_from_slice(&[0, 1, 0]); // key tag, signer `.`
    rdata.extend_from_slice(&[0xAB; 64]); // signature
    let data = RData::Unknown {
        code: RecordType::RRSIG,
        rdata: NULL::with(rdata),
    };
    Record::from_rdata(name(owner), 60, data)
}

/// The query for `qtype` with DO set or not.
fn query_for(qtype: RecordType, dnssec_ok: bool) -> Query {
    let mut m = with_edns(query("q.test.", qtype), 1232);
    if let Some(e) = m.edns.as_mut() {
        e.set_dnssec_ok(dnssec_ok);
    }
    let client = "127.0.0.1:5353".parse().expect("an address");
    Query::new(Request { message: m }, client, Transport::Udp, 40, Instant::now())
}

fn sections(rcode: ResponseCode, answers: Vec<Record>, authorities: Vec<Record>) -> Sections {
    Sections {
        rcode,
        answers,
        authorities,
        additionals: vec![a("glue.test.")],
        ..Sections::default()
    }
}

#[test]
fn responses_are_typed_as_coredns_types_them() {
    use ResponseCode::*;
    let q = |t| query_for(t, false);
    let cases: Vec<(&str, Query, Sections, Type)> = vec![
        ("answer", q(RecordType::A), sections(NoError, vec![a("q.test.")], vec![ns("test.")]), Type::NoError),
        ("answer and SOA", q(RecordType::A), sections(NoError, vec![a("q.test.")], vec![soa("test.")]), Type::NoError),
        ("nothing at all", q(RecordType::A), sections(NoError, vec![], vec![]), Type::NoError),
        ("authority without SOA or NS", q(RecordType::A), sections(NoError, vec![], vec![a("x.test.")]), Type::NoError),
        ("nodata", q(RecordType::A), sections(NoError, vec![], vec![soa("test.")]), Type::NoData),
        ("nodata with NS", q(RecordType::A), sections(NoError, vec![], vec![ns("test."), soa("test.")]), Type::NoData),
        ("delegation", q(RecordType::A), sections(NoError, vec![], vec![ns("q.test.")]), Type::Delegation),
        ("nxdomain", q(RecordType::A), sections(NXDomain, vec![], vec![soa("test.")]), Type::NameError),
        ("bare nxdomain", q(RecordType::A), sections(NXDomain, vec![], vec![]), Type::NameError),
        ("nxdomain with a CNAME", q(RecordType::A), sections(NXDomain, vec![cname("q.test.")], vec![soa("test.")]), Type::OtherError),
        ("servfail", q(RecordType::A), sections(ServFail, vec![], vec![]), Type::ServerError),
        ("notimp", q(RecordType::A), sections(NotImp, vec![], vec![]), Type::ServerError),
        ("refused", q(RecordType::A), sections(Refused, vec![], vec![]), Type::OtherError),
        ("servfail with records", q(RecordType::A), sections(ServFail, vec![a("q.test.")], vec![]), Type::OtherError),
        ("axfr", q(RecordType::AXFR), sections(NoError, vec![soa("test.")], vec![]), Type::Meta),
        ("ixfr", q(RecordType::IXFR), sections(NoError, vec![soa("test.")], vec![]), Type::Meta),
        (
            "expired signature, DO",
            query_for(RecordType::A, true),
            sections(NoError, vec![a("q.test."), rrsig("q.test.", -20, -10)], vec![]),
            Type::OtherError,
        ),
        (
            "signature not yet valid in authority, DO",
            query_for(RecordType::A, true),
            sections(NoError, vec![a("q.test.")], vec![rrsig("test.", 10, 20)]),
            Type::OtherError,
        ),
        (
            "expired signature, no DO",
            q(RecordType::A),
            sections(NoError, vec![a("q.test."), rrsig("q.test.", -20, -10)], vec![]),
            Type::NoError,
        ),
        (
            "valid signature, DO",
            query_for(RecordType::A, true),
            sections(NoError, vec![a("q.test."), rrsig("q.test.", -10, 10)], vec![]),
            Type::NoError,
        ),
    ];
    for (what, query, answer, want) in cases {
        assert_eq!(typify(&query, &answer, SystemTime::now()), want, "{what}");
    }
}

#[test]
fn validity_periods_compare_as_serial_numbers() {
    let now: i64 = 1_800_000_000;
    let t = |d: i64| u32::try_from(now + d).expect("fits 32 bits");
    assert!(valid_at(t(-10), t(10), now));
    assert!(valid_at(t(0), t(0), now), "both ends count");
    assert!(!valid_at(t(-20), t(-10), now), "expired");
    assert!(!valid_at(t(10), t(20), now), "not yet valid");
}

/// The fake upstream's answer to each name: every one carries authority and additional
/// records, so what `minimal` strips shows.
fn upstream_answer(q: &Message) -> Message {
    let mut m = response_to(q);
    let qname = q.queries[0].name().to_ascii();
    let glue = a("ns.test.");
    let (rcode, answers, authorities) = match qname.as_str() {
        "answer.test." => (ResponseCode::NoError, vec![a(&qname)], vec![ns("test.")]),
        "srv.test." => (ResponseCode::NoError, vec![srv(&qname)], vec![]),
        "nodata.test." => (ResponseCode::NoError, vec![], vec![soa("test.")]),
        "nx.test." => (ResponseCode::NXDomain, vec![], vec![soa("test.")]),
        "referral.test." => (ResponseCode::NoError, vec![], vec![ns(&qname)]),
        "nxcname.test." => (ResponseCode::NXDomain, vec![cname(&qname)], vec![soa("test.")]),
        "expired.test." => (
            ResponseCode::NoError,
            vec![a(&qname), rrsig(&qname, -20, -10)],
            vec![ns("test.")],
        ),
        _ => (ResponseCode::NoError, vec![], vec![]),
    };
    m.metadata.response_code = rcode;
    m.answers = answers;
    m.authorities = authorities;
    m.additionals = vec![glue];
    m
}

#[test]
fn only_successful_answers_lose_authority_and_additional() {
    let upstream = Upstream::start(upstream_answer);
    let server = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  minimal\n  forward . {}\n}}\n",
        upstream.addr
    ));
    // (name, DO, records in authority, in additional)
    let cases: &[(&str, bool, usize, usize)] = &[
        ("answer.test.", false, 0, 0),
        ("srv.test.", false, 0, 0),
        ("empty.test.", false, 0, 0),
        ("expired.test.", false, 0, 0),
        ("nodata.test.", false, 1, 1),
        ("nx.test.", false, 1, 1),
        ("referral.test.", false, 1, 1),
        ("nxcname.test.", false, 1, 1),
        ("expired.test.", true, 1, 1),
    ];
    for transport in [Transport::Udp, Transport::Tcp] {
        for (qname, dnssec_ok, authority, additional) in cases {
            let mut q = with_edns(query(qname, RecordType::A), 1232);
            if let Some(e) = q.edns.as_mut() {
                e.set_dnssec_ok(*dnssec_ok);
            }
            let reply = ask(server.addr, transport, &q);
            let what = format!("{qname} (DO {dnssec_ok}) over {transport:?}");
            assert_eq!(reply.authorities.len(), *authority, "authority of {what}");
            assert_eq!(reply.additionals.len(), *additional, "additional of {what}");
            assert!(reply.edns.is_some(), "{what} keeps its OPT");
        }
    }
}

#[test]
fn without_minimal_the_sections_are_sent_and_with_cache_the_minimal_answer_is_kept() {
    let upstream = Upstream::start(upstream_answer);
    let plain = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  forward . {}\n}}\n",
        upstream.addr
    ));
    let reply = ask(plain.addr, Transport::Udp, &query("answer.test.", RecordType::A));
    assert_eq!((reply.authorities.len(), reply.additionals.len()), (1, 1));

    let cached = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  cache 30\n  minimal\n  forward . {}\n}}\n",
        upstream.addr
    ));
    for transport in [Transport::Udp, Transport::Tcp, Transport::Udp] {
        let reply = ask(cached.addr, transport, &query("answer.test.", RecordType::A));
        assert_eq!(reply.answers.len(), 1, "{transport:?}");
        assert!(reply.authorities.is_empty(), "{transport:?}");
        assert!(reply.additionals.is_empty(), "{transport:?}");
    }
}
