use std::collections::HashSet;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, RecordType};

use super::{default_authors, default_version, ChaosConfig};
use crate::plugin::test_support::{ask, options, query, serve, TRANSPORTS};

fn config(version: &str, authors: &[&str]) -> ChaosConfig {
    ChaosConfig {
        version: version.to_string(),
        authors: authors.iter().map(|a| a.to_string()).collect(),
    }
}

#[test]
fn options_table() {
    let long = "v".repeat(300);
    let defaults = ChaosConfig {
        version: default_version(),
        authors: default_authors(),
    };
    assert_eq!(defaults.version, format!("Cairn-{}", env!("CARGO_PKG_VERSION")));
    let cases: Vec<(String, Result<ChaosConfig, &str>)> = vec![
        ("chaos".into(), Ok(defaults.clone())),
        (
            "chaos v2".into(),
            Ok(ChaosConfig {
                version: "v2".into(),
                ..defaults.clone()
            }),
        ),
        (
            "chaos v3 \"Miek Gieben\"".into(),
            Ok(config("v3", &["Miek Gieben"])),
        ),
        ("chaos v4 bob alice bob".into(), Ok(config("v4", &["alice", "bob"]))),
        (
            format!("chaos {long} {long}é"),
            Ok(config(&long[..255], &[&long[..255]])),
        ),
        (
            format!("chaos {}é", &long[..254]),
            Ok(ChaosConfig {
                version: long[..254].to_string(),
                ..defaults.clone()
            }),
        ),
        (
            "chaos v2 {\n    unknown\n  }".into(),
            Err("Corefile:2: unexpected `{` after `chaos` in the server block: this takes no block"),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        let got = options::<ChaosConfig>(&corefile);
        assert_eq!(got, want.map_err(|e| e.to_string()), "for `{line}`");
    }
}

/// A CH TXT query.
fn chaos(name: &str) -> Message {
    let mut m = query(name, RecordType::TXT);
    m.queries[0].query_class = DNSClass::CH;
    m
}

/// The answer section as (owner, class, ttl, text) — one string per TXT record.
fn texts(m: &Message) -> Vec<(String, DNSClass, u32, String)> {
    m.answers
        .iter()
        .map(|r| {
            let text = match &r.data {
                RData::TXT(txt) => txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<Vec<_>>()
                    .join(""),
                other => panic!("not a TXT record: {other:?}"),
            };
            (r.name.to_ascii(), r.dns_class, r.ttl, text)
        })
        .collect()
}

const COREFILE: &str = ".:0 {\n  bind 127.0.0.1\n  chaos Cairn-test alice bob\n  whoami\n}\n";

#[test]
fn version_and_hostname_are_answered_in_ch_txt() {
    let server = serve(COREFILE);
    let host = crate::net::hostname();
    for transport in TRANSPORTS {
        for (name, want) in [
            ("version.bind.", "Cairn-test"),
            ("Version.Server.", "Cairn-test"),
            ("hostname.bind.", host.as_str()),
            ("ID.server.", host.as_str()),
        ] {
            let reply = ask(server.addr, transport, &chaos(name));
            let what = format!("CH TXT {name} over {transport:?}");
            assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{what}");
            assert!(!reply.metadata.authoritative, "no AA for {what}");
            assert_eq!(
                texts(&reply),
                vec![(name.to_string(), DNSClass::CH, 0, want.to_string())],
                "{what}"
            );
            assert!(reply.additionals.is_empty(), "{what}: not whoami's answer");
        }
    }
}

#[test]
fn authors_are_each_answered_in_a_changing_order() {
    let server = serve(".:0 {\n  bind 127.0.0.1\n  chaos v1 e d c b a\n}\n");
    for transport in TRANSPORTS {
        let mut orders = HashSet::new();
        for _ in 0..40 {
            let reply = ask(server.addr, transport, &chaos("authors.bind."));
            let got: Vec<String> = texts(&reply).into_iter().map(|(_, _, _, t)| t).collect();
            let mut sorted = got.clone();
            sorted.sort();
            assert_eq!(sorted, ["a", "b", "c", "d", "e"], "{transport:?}");
            orders.insert(got);
        }
        // 40 shuffles of 5 give about 34 orders; an answer kept by each UDP worker, one per
        // core, would give at most that many.
        assert!(orders.len() > 20, "{} orders over {transport:?}", orders.len());
    }
}

#[test]
fn other_names_types_and_classes_pass_to_the_next_plugin() {
    let server = serve(COREFILE);
    let mut in_class = query("version.bind.", RecordType::TXT);
    in_class.queries[0].query_class = DNSClass::IN;
    let mut ch_a = chaos("version.bind.");
    ch_a.queries[0].query_type = RecordType::A;
    for transport in TRANSPORTS {
        for (what, q) in [
            ("IN TXT version.bind", &in_class),
            ("CH A version.bind", &ch_a),
            ("CH TXT authors.server", &chaos("authors.server.")),
            ("CH TXT x.version.bind", &chaos("x.version.bind.")),
        ] {
            let reply = ask(server.addr, transport, q);
            assert!(reply.answers.is_empty(), "{what} over {transport:?}");
            assert_eq!(
                reply.additionals.len(),
                2,
                "{what} over {transport:?}: whoami answers"
            );
        }
    }
}
