use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::WhoamiConfig;
use crate::dns::Transport;
use crate::plugin::test_support::{ask, exchange, options, query, serve, with_edns, TRANSPORTS};

#[test]
fn options_table() {
    let cases: &[(&str, Result<WhoamiConfig, &str>)] = &[
        ("whoami", Ok(WhoamiConfig)),
        (
            "whoami example.org",
            Err("Corefile:2: `whoami` takes no arguments (`whoami`), got 1"),
        ),
        (
            "whoami {\n  }",
            Err("Corefile:2: unexpected `{` after `whoami` in the server block: this takes no block"),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        let got = options::<WhoamiConfig>(&corefile);
        assert_eq!(got, want.clone().map_err(|e| e.to_string()), "for `{line}`");
    }
}

/// The additional section as zone-file lines.
fn additionals(m: &hickory_proto::op::Message) -> Vec<String> {
    m.additionals.iter().map(|r| r.to_string()).collect()
}

#[test]
fn every_query_is_told_its_address_port_and_transport() {
    for bind in ["127.0.0.1", "::1"] {
        let server = serve(&format!(".:0 {{\n  bind {bind}\n  whoami\n}}\n"));
        for transport in TRANSPORTS {
            for (name, qtype) in [("Example.ORG.", RecordType::A), ("x.test.", RecordType::MX)] {
                let (reply, client) = exchange(server.addr, transport, &query(name, qtype));
                let what = format!("{name} {qtype} over {transport:?} to {bind}");
                assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{what}");
                assert!(reply.metadata.authoritative, "AA for {what}");
                assert!(reply.answers.is_empty(), "{what}: {:?}", reply.answers);
                assert!(reply.authorities.is_empty(), "{what}");
                let family = if bind == "::1" { "AAAA" } else { "A" };
                let proto = transport.as_str();
                assert_eq!(
                    additionals(&reply),
                    vec![
                        format!("{name} 0 IN {family} {bind}"),
                        format!("_{proto}.{name} 0 IN SRV 0 0 {} .", client.port()),
                    ],
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn the_root_gets_a_transport_label_alone_and_edns_is_answered() {
    let server = serve(".:0 {\n  bind 127.0.0.1\n  whoami\n}\n");
    for transport in TRANSPORTS {
        let (reply, client) = exchange(
            server.addr,
            transport,
            &with_edns(query(".", RecordType::NS), 1232),
        );
        assert_eq!(
            additionals(&reply),
            vec![
                ". 0 IN A 127.0.0.1".to_string(),
                format!("_{}. 0 IN SRV 0 0 {} .", transport.as_str(), client.port()),
            ],
            "{transport:?}"
        );
        assert!(reply.edns.is_some(), "an EDNS query gets an OPT back");
    }
}

#[test]
fn each_client_is_told_its_own_port_even_for_the_same_query_bytes_and_with_cache() {
    let server = serve(".:0 {\n  bind 127.0.0.1\n  cache 30\n  whoami\n}\n");
    // The very same bytes (same ID) from two sockets: neither the listener's copy of encoded
    // answers nor `cache` may hand the first client's port to the second.
    let q = query("example.org.", RecordType::A);
    for transport in [Transport::Udp, Transport::Udp, Transport::Tcp] {
        let (reply, client) = exchange(server.addr, transport, &q);
        let srv = additionals(&reply).pop().unwrap_or_default();
        assert!(
            srv.ends_with(&format!(" SRV 0 0 {} .", client.port())),
            "{transport:?} from {client}: {srv}"
        );
    }
    let again = ask(server.addr, Transport::Tcp, &q);
    assert_eq!(again.additionals.len(), 2);
}
