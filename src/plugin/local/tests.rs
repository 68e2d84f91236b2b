use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType::{self, A, AAAA, MX, NS, PTR, SOA};

use super::LocalConfig;
use crate::plugin::test_support::{ask, options, query, serve, TRANSPORTS};

#[test]
fn options_table() {
    let cases: &[(&str, Result<LocalConfig, &str>)] = &[
        ("local", Ok(LocalConfig { localhost_prefix: true })),
        ("local {\n    localhost_prefix off\n  }", Ok(LocalConfig { localhost_prefix: false })),
        ("local {\n    localhost_prefix on\n  }", Ok(LocalConfig { localhost_prefix: true })),
        ("local example.org", Err("Corefile:2: `local` takes no arguments (`local [{ localhost_prefix on|off }]`), got 1")),
        ("local {\n    localhost_prefix maybe\n  }", Err("Corefile:3: local: expected `localhost_prefix on` or `localhost_prefix off`")),
        ("local {\n    prefix off\n  }", Err("Corefile:3: local: unknown option `prefix`: expected `localhost_prefix`")),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        let got = options::<LocalConfig>(&corefile);
        assert_eq!(got, want.clone().map_err(|e| e.to_string()), "for `{line}`");
    }
}

/// An answer as (rcode, answer lines, authority lines).
type Seen = (ResponseCode, Vec<String>, Vec<String>);

const SOA_LOCALHOST: &str = "604800 IN SOA localhost. root.localhost. 1 0 0 0 604800";

/// (rcode, answer lines, authority lines) for one question, over each transport.
fn asked(server: &crate::plugin::test_support::Server, name: &str, qtype: RecordType) -> Seen {
    let mut seen = Vec::new();
    for t in TRANSPORTS {
        let m = ask(server.addr, t, &query(name, qtype));
        let lines = |rs: &[hickory_proto::rr::Record]| rs.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        seen.push((m.metadata.response_code, lines(&m.answers), lines(&m.authorities)));
    }
    assert_eq!(seen[0], seen[1], "UDP and TCP agree for {name} {qtype}");
    seen.remove(0)
}

#[test]
fn local_names_are_answered_and_never_passed_on() {
    // `whoami` after `local` answers everything else (with no answer records).
    let server = serve(".:0 {\n  bind 127.0.0.1\n  local\n  whoami\n}\n");
    let ok = ResponseCode::NoError;
    let s = |owner: &str| vec![format!("{owner} {SOA_LOCALHOST}")];
    let cases: Vec<(&str, RecordType, Seen)> = vec![
        ("localhost.", A, (ok, vec!["localhost. 604800 IN A 127.0.0.1".into()], vec![])),
        ("LocalHost.", AAAA, (ok, vec!["LocalHost. 604800 IN AAAA ::1".into()], vec![])),
        ("localhost.", MX, (ok, vec![], s("localhost."))),
        ("localhost.", SOA, (ok, s("localhost."), vec![])),
        ("localhost.", NS, (ok, vec!["localhost. 604800 IN NS localhost.".into()], vec![])),
        // RFC 6761: every name under .localhost.
        ("app.localhost.", A, (ok, vec!["app.localhost. 604800 IN A 127.0.0.1".into()], vec![])),
        ("a.b.localhost.", MX, (ok, vec![], s("a.b.localhost."))),
        // The legacy prefix, on by default.
        ("localhost.example.org.", AAAA, (ok, vec!["localhost.example.org. 604800 IN AAAA ::1".into()], vec![])),
        // Reverse zones.
        ("1.0.0.127.in-addr.arpa.", PTR, (ok, vec!["1.0.0.127.in-addr.arpa. 604800 IN PTR localhost.".into()], vec![])),
        ("1.0.0.127.in-addr.arpa.", A, (ok, vec![], s("127.in-addr.arpa."))),
        ("2.0.0.127.in-addr.arpa.", PTR, (ResponseCode::NXDomain, vec![], s("127.in-addr.arpa."))),
        ("9.9.255.IN-ADDR.arpa.", PTR, (ResponseCode::NXDomain, vec![], s("255.IN-ADDR.arpa."))),
        ("0.in-addr.arpa.", A, (ok, vec![], s("0.in-addr.arpa."))),
        ("127.in-addr.arpa.", NS, (ok, vec!["127.in-addr.arpa. 604800 IN NS localhost.".into()], vec![])),
    ];
    for (name, qtype, want) in cases {
        assert_eq!(asked(&server, name, qtype), want, "{name} {qtype}");
    }
    // Anything else goes on to whoami, which answers NOERROR with nothing in the answer or
    // authority sections.
    assert_eq!(asked(&server, "example.org.", A), (ok, vec![], vec![]));
    assert_eq!(asked(&server, "1.0.0.10.in-addr.arpa.", PTR), (ok, vec![], vec![]));
    // Three non-apex localhost names above, each asked over UDP and TCP, and once more.
    asked(&server, "app.localhost.", A);
    let metrics = server.metrics();
    assert!(
        metrics.lines().any(|l| l == "coredns_local_localhost_requests_total 8"),
        "{metrics}"
    );
}

#[test]
fn localhost_prefix_off_keeps_only_the_rfc_names() {
    let server = serve(".:0 {\n  bind 127.0.0.1\n  local {\n    localhost_prefix off\n  }\n  whoami\n}\n");
    let ok = ResponseCode::NoError;
    assert_eq!(asked(&server, "localhost.example.org.", A), (ok, vec![], vec![]), "passed on to whoami");
    assert_eq!(
        asked(&server, "x.localhost.", A),
        (ok, vec!["x.localhost. 604800 IN A 127.0.0.1".into()], vec![])
    );
}
