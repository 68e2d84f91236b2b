use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption, NSIDPayload};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};

use super::NsidConfig;
use crate::plugin::test_support::{
    ask, options, query, response_to, serve, with_edns, Upstream, TRANSPORTS,
};

#[test]
fn options_table() {
    let data = |d: &str| {
        Ok(NsidConfig {
            data: d.to_string(),
        })
    };
    let host = crate::net::hostname();
    let cases: Vec<(&str, Result<NsidConfig, String>)> = vec![
        ("nsid", data(&host)),
        ("nsid cairn-1", data("cairn-1")),
        ("nsid Use The Force", data("Use The Force")),
        ("nsid \"Use  The\" Force", data("Use  The Force")),
        (
            "nsid {\n    id\n  }",
            Err("Corefile:2: unexpected `{` after `nsid` in the server block: this takes no block".into()),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        assert_eq!(options::<NsidConfig>(&corefile), want, "for `{line}`");
    }
}

/// An EDNS query for `name`, with an NSID option carrying `nsid` when given.
fn asking(name: &str, nsid: Option<&[u8]>) -> Message {
    let mut m = with_edns(query(name, RecordType::A), 1232);
    if let (Some(data), Some(edns)) = (nsid, m.edns.as_mut()) {
        let payload = NSIDPayload::new(data).expect("a short payload");
        edns.options_mut().insert(EdnsOption::NSID(payload));
    }
    m
}

/// The NSID options of an answer's OPT record, as text.
fn nsid_of(m: &Message) -> Vec<String> {
    m.edns
        .iter()
        .flat_map(|e| e.options().get_all(EdnsCode::NSID))
        .map(|o| match o {
            EdnsOption::NSID(p) => String::from_utf8_lossy(p.as_ref()).into_owned(),
            other => panic!("not an NSID option: {other:?}"),
        })
        .collect()
}

#[test]
fn a_query_asking_for_nsid_gets_it_and_others_do_not() {
    let server = serve(".:0 {\n  bind 127.0.0.1\n  nsid cairn-1\n  whoami\n}\n");
    for transport in TRANSPORTS {
        // Twice each: the listener may send an encoded copy the second time.
        for _ in 0..2 {
            let reply = ask(server.addr, transport, &asking("a.test.", Some(b"")));
            assert_eq!(nsid_of(&reply), ["cairn-1"], "{transport:?}");
            assert_eq!(reply.additionals.len(), 2, "whoami's answer over {transport:?}");
            let reply = ask(server.addr, transport, &asking("a.test.", Some(b"x")));
            assert_eq!(nsid_of(&reply), ["cairn-1"], "a non-empty NSID over {transport:?}");
            let reply = ask(server.addr, transport, &asking("a.test.", None));
            assert!(reply.edns.is_some(), "{transport:?}");
            assert!(nsid_of(&reply).is_empty(), "no NSID asked over {transport:?}");
            let reply = ask(server.addr, transport, &query("a.test.", RecordType::A));
            assert!(reply.edns.is_none(), "no EDNS, no OPT over {transport:?}");
        }
    }
}

#[test]
fn forwarded_cached_and_refused_answers_carry_it_too() {
    let upstream = Upstream::start(|q| {
        let mut m = response_to(q);
        let a = RData::A(A::new(192, 0, 2, 7));
        m.answers
            .push(Record::from_rdata(q.queries[0].name().clone(), 60, a));
        m
    });
    let forwarding = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  nsid\n  cache 30\n  forward . {}\n}}\n",
        upstream.addr
    ));
    let host = crate::net::hostname();
    for transport in TRANSPORTS {
        for round in ["forwarded", "cached"] {
            let reply = ask(forwarding.addr, transport, &asking("up.test.", Some(b"")));
            assert_eq!(reply.answers.len(), 1, "{round} over {transport:?}");
            assert_eq!(nsid_of(&reply), [host.as_str()], "{round} over {transport:?}");
        }
    }
    // Nothing in the block answers: REFUSED, still through nsid.
    let refusing = serve(".:0 {\n  bind 127.0.0.1\n  nsid cairn-2\n}\n");
    for transport in TRANSPORTS {
        let reply = ask(refusing.addr, transport, &asking("a.test.", Some(b"")));
        assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
        assert_eq!(nsid_of(&reply), ["cairn-2"], "REFUSED over {transport:?}");
    }
}
