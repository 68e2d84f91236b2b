use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{Name, RecordType};

use super::policy::{Action, Net, Policy};
use super::{AclConfig, Rule};
use crate::dns::Transport;
use crate::plugin::test_support::{exchange_from, options, query, serve, with_edns, TRANSPORTS};

fn net(text: &str) -> Net {
    Net::parse(text).unwrap()
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

#[test]
fn options_table() {
    let all = |action| Policy {
        action,
        types: None,
        nets: None,
    };
    let cases: &[(&str, Result<AclConfig, &str>)] = &[
        (
            "acl {\n    block type A net 192.168.0.0/16\n  }",
            Ok(AclConfig {
                rules: vec![Rule {
                    zones: vec![name("example.org.")],
                    policies: vec![Policy {
                        action: Action::Block,
                        types: Some(vec![RecordType::A]),
                        nets: Some(vec![net("192.168.0.0/16")]),
                    }],
                }],
            }),
        ),
        (
            "acl a.example.org {\n    allow net 192.168.1.0/24 10.0.0.1 ::1\n    drop\n  }",
            Ok(AclConfig {
                rules: vec![Rule {
                    zones: vec![name("a.example.org.")],
                    policies: vec![
                        Policy {
                            action: Action::Allow,
                            types: None,
                            nets: Some(vec![net("192.168.1.0/24"), net("10.0.0.1/32"), net("::1/128")]),
                        },
                        all(Action::Drop),
                    ],
                }],
            }),
        ),
        (
            // `*` is everything; a host address is masked as Go's ParseCIDR does.
            "acl {\n    filter type * net * \n    block net 10.1.2.3/8\n  }\n  acl b.example.org {\n    allow type AAAA MX\n  }",
            Ok(AclConfig {
                rules: vec![
                    Rule {
                        zones: vec![name("example.org.")],
                        policies: vec![
                            all(Action::Filter),
                            Policy {
                                action: Action::Block,
                                types: None,
                                nets: Some(vec![net("10.0.0.0/8")]),
                            },
                        ],
                    },
                    Rule {
                        zones: vec![name("b.example.org.")],
                        policies: vec![Policy {
                            action: Action::Allow,
                            types: Some(vec![RecordType::AAAA, RecordType::MX]),
                            nets: None,
                        }],
                    },
                ],
            }),
        ),
        ("acl", Err("Corefile:2: acl needs a block of policies: `acl [ZONES...] { allow|block|filter|drop [type QTYPE...] [net SOURCE...] }`")),
        ("acl {\n    deny net 10.0.0.0/8\n  }", Err("Corefile:3: acl: unexpected `deny`: expected `allow`, `block`, `filter` or `drop`")),
        ("acl {\n    block 10.0.0.0/8\n  }", Err("Corefile:3: acl: unexpected `10.0.0.0/8`: expected `type QTYPE...` or `net SOURCE...`")),
        ("acl {\n    block type\n  }", Err("Corefile:3: acl: `type` names nothing")),
        ("acl {\n    block type AAAAA\n  }", Err("Corefile:3: acl: unexpected `AAAAA`: expected a query type such as A or AAAA, or `*`")),
        ("acl {\n    block net 10.0.0.0/33\n  }", Err("Corefile:3: acl: `10.0.0.0/33` is not an address or a CIDR such as 192.168.0.0/16")),
        ("acl {\n    block net example.org\n  }", Err("Corefile:3: acl: `example.org` is not an address or a CIDR such as 192.168.0.0/16")),
    ];
    for (lines, want) in cases {
        let corefile = format!("example.org {{\n  {lines}\n}}\n");
        let got = options::<AclConfig>(&corefile);
        assert_eq!(got, want.clone().map_err(|e| e.to_string()), "for `{lines}`");
    }
}

#[test]
fn networks_contain_what_their_prefix_says() {
    let n = net("192.168.0.0/16");
    assert!(n.contains(IpAddr::V4(Ipv4Addr::new(192, 168, 255, 1))));
    assert!(!n.contains(IpAddr::V4(Ipv4Addr::new(192, 169, 0, 1))));
    assert!(!n.contains("::ffff:192.168.0.1".parse().unwrap()), "families never mix");
    assert!(net("0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
    assert!(net("fd00::/8").contains("fd12::1".parse().unwrap()));
    assert!(!net("fd00::/8").contains("fe80::1".parse().unwrap()));
}

/// What a client at `source` gets for `qname`/`qtype` (EDNS on, so EDE can be seen); `None`
/// when nothing came back.
fn ask_as(server: std::net::SocketAddr, source: &str, t: Transport, qname: &str, qtype: RecordType) -> Option<Message> {
    let m = with_edns(query(qname, qtype), 1232);
    let wait = Duration::from_millis(700);
    exchange_from(source.parse().unwrap(), server, t, &m, wait).ok()
}

fn ede(m: &Message) -> Option<Vec<u8>> {
    m.edns
        .as_ref()?
        .options()
        .get_all(EdnsCode::Unknown(15))
        .into_iter()
        .find_map(|o| match o {
            EdnsOption::Unknown(15, data) => Some(data.clone()),
            _ => None,
        })
}

#[test]
fn sources_and_types_are_allowed_blocked_filtered_or_dropped() {
    // Different loopback addresses are different clients to the server.
    let server = serve(
        ".:0 {\n  bind 127.0.0.1\n  acl example.org {\n    allow net 127.0.0.2\n    block net 127.0.0.0/24\n  }\n  acl {\n    filter type AAAA net 127.0.1.0/24\n    drop net 127.0.2.0/24\n  }\n  whoami\n}\n",
    );
    for t in TRANSPORTS {
        let what = |who: &str| format!("{who} over {t:?}");
        // Allowed by the first rule's first policy: whoami answers with the client's address.
        let m = ask_as(server.addr, "127.0.0.2", t, "a.example.org.", RecordType::A).expect("an answer");
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{}", what("127.0.0.2"));
        assert_eq!(m.additionals[0].data.to_string(), "127.0.0.2");
        // Blocked: REFUSED with EDE 15 (Blocked).
        let m = ask_as(server.addr, "127.0.0.3", t, "a.example.org.", RecordType::A).expect("an answer");
        assert_eq!(m.metadata.response_code, ResponseCode::Refused, "{}", what("127.0.0.3"));
        assert_eq!(ede(&m), Some(vec![0, 15]), "{}", what("127.0.0.3"));
        assert!(m.additionals.is_empty());
        // Outside example.org the first rule does not apply, the second lets A through ...
        let m = ask_as(server.addr, "127.0.0.3", t, "a.example.net.", RecordType::A).expect("an answer");
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{}", what("127.0.0.3"));
        assert_eq!(m.additionals[0].data.to_string(), "127.0.0.3");
        // ... filters AAAA from 127.0.1.0/24: an empty NOERROR with EDE 17 (Filtered) ...
        let m = ask_as(server.addr, "127.0.1.9", t, "a.example.net.", RecordType::AAAA).expect("an answer");
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{}", what("127.0.1.9"));
        assert!(m.answers.is_empty() && m.additionals.is_empty(), "{m:?}");
        assert_eq!(ede(&m), Some(vec![0, 17]));
        let m = ask_as(server.addr, "127.0.1.9", t, "a.example.net.", RecordType::A).expect("an answer");
        assert_eq!(m.additionals[0].data.to_string(), "127.0.1.9", "A is not filtered");
        // ... and drops everything from 127.0.2.0/24: no reply at all.
        assert!(
            ask_as(server.addr, "127.0.2.1", t, "a.example.net.", RecordType::A).is_none(),
            "{}",
            what("127.0.2.1")
        );
    }
}

#[test]
fn an_allowed_answer_is_not_sent_again_to_a_blocked_client() {
    // The listener may keep an encoded answer for the same query bytes; a blocked client asking
    // the very same question right after an allowed one must still be refused.
    let server = serve(
        ".:0 {\n  bind 127.0.0.1\n  acl {\n    block net 127.0.0.5\n  }\n  any\n}\n",
    );
    // `any`'s answer is the same for everyone, so the listener would keep it.
    let m = with_edns(query("same.example.", RecordType::ANY), 1232);
    let wait = Duration::from_millis(700);
    for _ in 0..3 {
        let allowed = exchange_from("127.0.0.4".parse().unwrap(), server.addr, Transport::Udp, &m, wait).unwrap();
        assert_eq!(allowed.metadata.response_code, ResponseCode::NoError);
        let blocked = exchange_from("127.0.0.5".parse().unwrap(), server.addr, Transport::Udp, &m, wait).unwrap();
        assert_eq!(blocked.metadata.response_code, ResponseCode::Refused);
    }
}
