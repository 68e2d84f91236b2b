use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};

use super::AnyConfig;
use crate::plugin::test_support::{ask, options, query, response_to, serve, Upstream, TRANSPORTS};

#[test]
fn options_table() {
    let cases: &[(&str, Result<AnyConfig, &str>)] = &[
        ("any", Ok(AnyConfig)),
        (
            "any all",
            Err("Corefile:2: `any` takes no arguments (`any`), got 1"),
        ),
        (
            "any {\n    unknown\n  }",
            Err("Corefile:2: unexpected `{` after `any` in the server block: this takes no block"),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        let got = options::<AnyConfig>(&corefile);
        assert_eq!(got, want.clone().map_err(|e| e.to_string()), "for `{line}`");
    }
}

/// The one HINFO record of an answer as (owner, ttl, class, cpu, os).
fn hinfo(m: &Message) -> Vec<(String, u32, DNSClass, String, String)> {
    m.answers
        .iter()
        .map(|r| match &r.data {
            RData::HINFO(h) => (
                r.name.to_ascii(),
                r.ttl,
                r.dns_class,
                String::from_utf8_lossy(&h.cpu).into_owned(),
                String::from_utf8_lossy(&h.os).into_owned(),
            ),
            other => panic!("not an HINFO record: {other:?}"),
        })
        .collect()
}

#[test]
fn any_queries_get_one_hinfo_and_other_types_pass_on() {
    let server = serve(".:0 {\n  bind 127.0.0.1\n  any\n  whoami\n}\n");
    let mut chaos_any = query("version.bind.", RecordType::ANY);
    chaos_any.queries[0].query_class = DNSClass::CH;
    for transport in TRANSPORTS {
        for (name, q) in [
            ("ExAmple.ORG.", query("ExAmple.ORG.", RecordType::ANY)),
            (".", query(".", RecordType::ANY)),
            ("version.bind.", chaos_any.clone()),
        ] {
            let reply = ask(server.addr, transport, &q);
            let what = format!("ANY {name} over {transport:?}");
            assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{what}");
            assert!(!reply.metadata.authoritative, "no AA for {what}");
            assert_eq!(
                hinfo(&reply),
                vec![(
                    name.to_string(),
                    8482,
                    DNSClass::IN,
                    "ANY obsoleted".to_string(),
                    "See RFC 8482".to_string()
                )],
                "{what}"
            );
            assert!(reply.additionals.is_empty(), "{what}: not whoami's answer");
        }
        let reply = ask(server.addr, transport, &query("example.org.", RecordType::A));
        assert!(reply.answers.is_empty(), "A over {transport:?}");
        assert_eq!(reply.additionals.len(), 2, "A over {transport:?}: whoami answers");
    }
}

#[test]
fn any_is_never_forwarded() {
    let asked_any = Arc::new(AtomicUsize::new(0));
    let counter = asked_any.clone();
    let upstream = Upstream::start(move |q| {
        let mut m = response_to(q);
        if q.queries[0].query_type() == RecordType::ANY {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let a = RData::A(A::new(192, 0, 2, 1));
        m.answers
            .push(Record::from_rdata(q.queries[0].name().clone(), 60, a));
        m
    });
    let server = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  forward . {}\n  any\n}}\n",
        upstream.addr
    ));
    for transport in TRANSPORTS {
        let reply = ask(server.addr, transport, &query("example.org.", RecordType::ANY));
        assert_eq!(hinfo(&reply).len(), 1, "{transport:?}");
        let reply = ask(server.addr, transport, &query("example.org.", RecordType::A));
        assert_eq!(reply.answers.len(), 1, "A is forwarded over {transport:?}");
    }
    assert_eq!(asked_any.load(Ordering::Relaxed), 0, "the upstream saw ANY");
}
