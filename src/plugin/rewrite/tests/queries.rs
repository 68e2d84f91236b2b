//! `rewrite` in a running server, asked over UDP and TCP: what the plugins after it (a fake
//! upstream through `forward`, `whoami`) are asked, and what the client gets back.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::rdata::{A, CNAME, NS, SRV};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::dns::Transport;
use crate::plugin::test_support::{
    ask, exchange, query, response_to, serve, with_edns, Server, Upstream, TRANSPORTS,
};

fn name(s: &str) -> Name {
    Name::from_str(s).expect("a test name")
}

fn rr(owner: &str, ttl: u32, data: RData) -> Record {
    Record::from_rdata(name(owner), ttl, data)
}

fn a(owner: &str, ttl: u32) -> Record {
    rr(owner, ttl, RData::A(A::new(10, 0, 0, 1)))
}

/// The queries an upstream was asked.
type Seen = Arc<Mutex<Vec<Message>>>;

/// A fake upstream answering with `answer(question name, query)`, noting every query but
/// `forward`'s health checks (`. NS`).
fn upstream(answer: fn(&str, &Message) -> Message) -> (Upstream, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let upstream = Upstream::start(move |q| {
        let qname = q.queries[0].name().to_ascii();
        if qname == "." {
            return response_to(q);
        }
        record.lock().expect("not poisoned").push(q.clone());
        answer(&qname, q)
    });
    (upstream, seen)
}

/// Every name: a CNAME to `www.NAME` and an A record for that.
fn cname_answer(qname: &str, q: &Message) -> Message {
    let mut m = response_to(q);
    let target = format!("www.{qname}");
    m.answers = vec![
        rr(qname, 30, RData::CNAME(CNAME(name(&target)))),
        a(&target, 30),
    ];
    m
}

/// Every name: two A records.
fn two_addresses(qname: &str, q: &Message) -> Message {
    let mut m = response_to(q);
    m.answers = vec![a(qname, 30), a(qname, 30)];
    m
}

/// Every name: one A record.
fn one_address(qname: &str, q: &Message) -> Message {
    let mut m = response_to(q);
    m.answers = vec![a(qname, 30)];
    m
}

/// A server with `plugins` forwarding to its own fake upstream answering with `answer` (the
/// fake serves one TCP connection at a time, so servers do not share one).
fn forwarding_to(plugins: &str, answer: fn(&str, &Message) -> Message) -> (Server, Upstream, Seen) {
    let (up, seen) = upstream(answer);
    (serve(&forwarding(plugins, up.addr)), up, seen)
}

/// What the upstream was asked, as `NAME TYPE CLASS`, and forgets it.
fn asked(seen: &Seen) -> Vec<String> {
    let mut seen = seen.lock().expect("not poisoned");
    let out = seen
        .iter()
        .map(|m| {
            let q = &m.queries[0];
            format!("{} {} {}", q.name().to_ascii(), q.query_type(), q.query_class())
        })
        .collect();
    seen.clear();
    out
}

fn lines(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

/// A block on loopback with `plugins` and a `forward` to `to`.
fn forwarding(plugins: &str, to: SocketAddr) -> String {
    format!(".:0 {{\n  bind 127.0.0.1\n{plugins}\n  forward . {to}\n}}\n")
}

/// The question of a reply, as `NAME TYPE CLASS` with the name as spelled.
fn question(m: &Message) -> String {
    let q = &m.queries[0];
    format!("{} {} {}", q.name().to_ascii(), q.query_type(), q.query_class())
}

#[test]
fn an_exact_rewrite_asks_the_new_name_and_answers_with_the_clients_own() {
    let (server, _up, seen) =
        forwarding_to("  rewrite name exact old.example new.example.", cname_answer);
    for transport in TRANSPORTS {
        let reply = ask(server.addr, transport, &query("OLD.Example.", RecordType::A));
        assert_eq!(asked(&seen), ["new.example. A IN"], "{transport:?}");
        assert_eq!(question(&reply), "OLD.Example. A IN", "{transport:?}");
        assert_eq!(
            lines(&reply.answers),
            [
                "OLD.Example. 30 IN CNAME www.OLD.Example.",
                "www.OLD.Example. 30 IN A 10.0.0.1"
            ],
            "names and values at or below the new name get the client's back, over {transport:?}"
        );
        let other = ask(server.addr, transport, &query("other.example.", RecordType::A));
        assert_eq!(asked(&seen), ["other.example. A IN"]);
        assert_eq!(other.answers[0].name.to_ascii(), "other.example.");
    }
}

#[test]
fn an_answer_made_in_the_chain_is_rewritten_back_too() {
    let server = serve(
        ".:0 {\n  bind 127.0.0.1\n  rewrite name who.example whoami.internal\n  whoami\n}\n",
    );
    for transport in TRANSPORTS {
        let (reply, client) = exchange(server.addr, transport, &query("who.example.", RecordType::A));
        assert_eq!(question(&reply), "who.example. A IN");
        assert_eq!(
            lines(&reply.additionals),
            [
                "who.example. 0 IN A 127.0.0.1".to_string(),
                format!("_{}.who.example. 0 IN SRV 0 0 {} .", transport.as_str(), client.port()),
            ],
            "{transport:?}"
        );
    }
}

#[test]
fn regex_groups_build_the_new_name_and_answer_options_map_it_back() {
    let rule = r"(.*)-(us-west-1)\.example\.org {1}.service.{2}.consul";
    let auto = forwarding_to(&format!("  rewrite name regex {rule} answer auto"), two_addresses);
    let explicit = forwarding_to(
        &format!(
            "  rewrite stop {{\n    name regex {rule}\n    answer name (.*)\\.service\\.(us-west-1)\\.consul {{1}}-{{2}}.example.org\n  }}"
        ),
        two_addresses,
    );
    let bare = forwarding_to(&format!("  rewrite name regex {rule}"), two_addresses);
    for transport in TRANSPORTS {
        for ((server, _up, seen), owner) in [
            (&auto, "ftp-us-west-1.example.org."),
            (&explicit, "ftp-us-west-1.example.org."),
            // Without an answer option only the question is put back.
            (&bare, "ftp.service.us-west-1.consul."),
        ] {
            let reply = ask(server.addr, transport, &query("ftp-us-west-1.example.org.", RecordType::A));
            assert_eq!(asked(seen), ["ftp.service.us-west-1.consul. A IN"]);
            assert_eq!(question(&reply), "ftp-us-west-1.example.org. A IN");
            assert_eq!(
                lines(&reply.answers),
                [format!("{owner} 30 IN A 10.0.0.1"), format!("{owner} 30 IN A 10.0.0.1")],
                "{transport:?}"
            );
        }
        let (server, _up, seen) = &auto;
        let reply = ask(server.addr, transport, &query("ftp.example.org.", RecordType::A));
        assert_eq!(asked(seen), ["ftp.example.org. A IN"], "no match, no rewrite");
        assert_eq!(reply.answers[0].name.to_ascii(), "ftp.example.org.");
    }
}

/// For `*.svc.cluster.local.`: an SRV answer pointing at `web.ns.svc.cluster.local.` with its
/// address as glue, and an authority NS.
fn service_answer(qname: &str, q: &Message) -> Message {
    let mut m = response_to(q);
    let target = "web.ns.svc.cluster.local.";
    m.answers = vec![rr(qname, 5, RData::SRV(SRV::new(0, 100, 80, name(target))))];
    m.authorities = vec![rr(
        "cluster.local.",
        5,
        RData::NS(NS(name("ns.dns.cluster.local."))),
    )];
    m.additionals = vec![a(target, 5)];
    m
}

#[test]
fn a_suffix_rewrite_with_answer_auto_maps_owners_and_targets_back() {
    let (auto, _up, seen) = forwarding_to(
        "  rewrite name suffix .svc.example. .svc.cluster.local. answer auto",
        service_answer,
    );
    let (values, _up2, seen2) = forwarding_to(
        r"  rewrite name suffix .svc.example .svc.cluster.local answer value (.*)\.cluster\.local\. {1}.example.",
        service_answer,
    );
    let srv = query("_http._tcp.web.ns.svc.example.", RecordType::SRV);
    for transport in TRANSPORTS {
        let reply = ask(auto.addr, transport, &srv);
        assert_eq!(asked(&seen), ["_http._tcp.web.ns.svc.cluster.local. SRV IN"]);
        assert_eq!(question(&reply), "_http._tcp.web.ns.svc.example. SRV IN");
        assert_eq!(
            lines(&reply.answers),
            ["_http._tcp.web.ns.svc.example. 5 IN SRV 0 100 80 web.ns.svc.example."],
            "{transport:?}"
        );
        assert_eq!(lines(&reply.additionals), ["web.ns.svc.example. 5 IN A 10.0.0.1"]);
        assert_eq!(
            lines(&reply.authorities),
            ["cluster.local. 5 IN NS ns.dns.cluster.local."],
            "names without the new suffix stay"
        );
        let reply = ask(values.addr, transport, &srv);
        assert_eq!(asked(&seen2), ["_http._tcp.web.ns.svc.cluster.local. SRV IN"]);
        assert_eq!(
            lines(&reply.answers),
            ["_http._tcp.web.ns.svc.cluster.local. 5 IN SRV 0 100 80 web.ns.svc.example."],
            "`answer value` rewrites values only, over {transport:?}"
        );
        assert_eq!(
            lines(&reply.authorities),
            ["cluster.local. 5 IN NS ns.dns.example."]
        );
    }
}

#[test]
fn type_and_class_rewrites_ask_the_new_ones_and_echo_the_clients() {
    let (server, _up, seen) =
        forwarding_to("  rewrite continue type AAAA A\n  rewrite class CH IN", one_address);
    for transport in TRANSPORTS {
        let reply = ask(server.addr, transport, &query("t.example.", RecordType::AAAA));
        assert_eq!(asked(&seen), ["t.example. A IN"]);
        assert_eq!(question(&reply), "t.example. AAAA IN", "{transport:?}");
        assert_eq!(lines(&reply.answers), ["t.example. 30 IN A 10.0.0.1"]);
        let mut ch = query("t.example.", RecordType::AAAA);
        ch.queries[0].set_query_class(DNSClass::CH);
        let reply = ask(server.addr, transport, &ch);
        assert_eq!(asked(&seen), ["t.example. A IN"], "continue: both rules");
        assert_eq!(question(&reply), "t.example. AAAA CH", "{transport:?}");
        let reply = ask(server.addr, transport, &query("t.example.", RecordType::TXT));
        assert_eq!(asked(&seen), ["t.example. TXT IN"]);
        assert_eq!(question(&reply), "t.example. TXT IN");
    }
}

/// Every name: A records with TTLs 5, 100 and 9999, glue with TTL 1.
fn ttl_answer(qname: &str, q: &Message) -> Message {
    let mut m = response_to(q);
    m.answers = vec![a(qname, 5), a(qname, 100), a(qname, 9999)];
    m.additionals = vec![a("glue.test.", 1)];
    m
}

#[test]
fn ttl_rules_keep_the_answers_ttls_in_range_for_matching_names() {
    let (server, _up, _seen) = forwarding_to("  rewrite ttl suffix .example. 30-300", ttl_answer);
    for transport in TRANSPORTS {
        let reply = ask(server.addr, transport, &query("ttl.example.", RecordType::A));
        let ttls: Vec<u32> = reply.answers.iter().map(|r| r.ttl).collect();
        assert_eq!(ttls, [30, 100, 300], "{transport:?}");
        assert_eq!(reply.additionals[0].ttl, 30, "every section");
        let reply = ask(server.addr, transport, &query("ttl.test.", RecordType::A));
        let ttls: Vec<u32> = reply.answers.iter().map(|r| r.ttl).collect();
        assert_eq!(ttls, [5, 100, 9999], "other names keep theirs");
    }
}

/// The EDNS options of the last query an upstream saw, as `(code, data)`, and forgets it.
fn options_seen(seen: &Seen) -> Vec<(u16, Vec<u8>)> {
    let mut seen = seen.lock().expect("not poisoned");
    let last = seen.pop();
    seen.clear();
    let Some(edns) = last.and_then(|m| m.edns) else {
        return Vec::new();
    };
    edns.options()
        .options
        .iter()
        .map(|(code, option)| {
            let data = match option {
                EdnsOption::Subnet(s) => format!("{}/{}", s.addr(), s.source_prefix()).into_bytes(),
                other => Vec::<u8>::try_from(other).unwrap_or_default(),
            };
            (u16::from(*code), data)
        })
        .collect()
}

#[test]
fn edns0_rules_add_options_the_upstream_sees_and_the_client_does_not() {
    let (server, _up, seen) = forwarding_to(
        "  rewrite continue edns0 local set 0xffee 0x61626364\n  rewrite continue edns0 local append 0xfff0 {client_port}\n  rewrite continue edns0 local replace 0xfff1 nothing-to-replace\n  rewrite edns0 subnet set 24 56",
        one_address,
    );
    for transport in TRANSPORTS {
        for edns in [true, false] {
            let q = query("e.example.", RecordType::A);
            let q = if edns { with_edns(q, 1232) } else { q };
            let (reply, client) = exchange(server.addr, transport, &q);
            assert_eq!(
                options_seen(&seen),
                [
                    (0xffee, b"abcd".to_vec()),
                    (0xfff0, client.port().to_be_bytes().to_vec()),
                    (8, b"127.0.0.0/24".to_vec()),
                ],
                "EDNS from the client: {edns}, over {transport:?}"
            );
            assert_eq!(reply.edns.is_some(), edns, "an OPT back only for an OPT asked");
            if let Some(e) = &reply.edns {
                assert_eq!(e.options().get(EdnsCode::Unknown(0xffee)), None);
            }
            assert_eq!(lines(&reply.answers), ["e.example. 30 IN A 10.0.0.1"]);
        }
    }
}

#[test]
fn stop_ends_at_the_first_rule_that_matched_and_continue_goes_on() {
    let (chained, _up, seen) = forwarding_to(
        "  rewrite continue name a.example b.example\n  rewrite name b.example c.example",
        cname_answer,
    );
    let (stopped, _up2, seen2) = forwarding_to(
        "  rewrite stop name a.example b.example\n  rewrite name b.example c.example",
        cname_answer,
    );
    for transport in TRANSPORTS {
        let reply = ask(chained.addr, transport, &query("a.example.", RecordType::A));
        assert_eq!(asked(&seen), ["c.example. A IN"], "{transport:?}");
        assert_eq!(
            lines(&reply.answers),
            ["a.example. 30 IN CNAME www.a.example.", "www.a.example. 30 IN A 10.0.0.1"],
            "undone from the last rule back"
        );
        let reply = ask(stopped.addr, transport, &query("a.example.", RecordType::A));
        assert_eq!(asked(&seen2), ["b.example. A IN"], "{transport:?}");
        assert_eq!(reply.answers[0].name.to_ascii(), "a.example.");
        ask(stopped.addr, transport, &query("b.example.", RecordType::A));
        assert_eq!(asked(&seen2), ["c.example. A IN"], "a rule that did not match does not stop");
    }
}

#[test]
fn a_name_that_is_no_name_after_the_rewrite_fails_without_asking() {
    let (server, _up, seen) =
        forwarding_to(r"  rewrite name regex ^(.*)\.bad\.$ {1}..x", cname_answer);
    for transport in TRANSPORTS {
        let reply = ask(server.addr, transport, &query("a.bad.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail, "{transport:?}");
        assert_eq!(question(&reply), "a.bad. A IN");
        assert!(asked(&seen).is_empty());
    }
}

fn nxdomain(_: &str, q: &Message) -> Message {
    let mut m = response_to(q);
    m.metadata.response_code = ResponseCode::NXDomain;
    m
}

#[test]
fn rcode_rules_change_the_rcode_of_matching_names() {
    let (server, _up, _seen) =
        forwarding_to("  rewrite rcode exact nx.example NXDOMAIN NOERROR", nxdomain);
    for transport in TRANSPORTS {
        let reply = ask(server.addr, transport, &query("nx.example.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{transport:?}");
        let reply = ask(server.addr, transport, &query("other.example.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain, "{transport:?}");
    }
}

#[test]
fn the_cache_before_keeps_the_answer_under_the_clients_question() {
    let (server, _up, seen) =
        forwarding_to("  cache 30\n  rewrite name exact old.example new.example", cname_answer);
    for transport in [Transport::Udp, Transport::Tcp, Transport::Udp] {
        let reply = ask(server.addr, transport, &query("old.example.", RecordType::A));
        assert_eq!(
            lines(&reply.answers)[0],
            "old.example. 30 IN CNAME www.old.example.",
            "{transport:?}"
        );
    }
    assert_eq!(asked(&seen), ["new.example. A IN"], "asked once, then cached");
    let reply = ask(server.addr, Transport::Udp, &query("new.example.", RecordType::A));
    assert_eq!(asked(&seen), ["new.example. A IN"], "the new name is not the cached one");
    assert_eq!(reply.answers[0].name.to_ascii(), "new.example.");
}
