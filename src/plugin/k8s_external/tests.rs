//! `k8s_external`'s options table, and its answers over real UDP and TCP from a server started
//! on the cluster in `fixture.yaml` (read through the dump reader, so `externalIPs` and load
//! balancer status are read end to end). Expected records are zone-file lines; the SOA serial
//! is `SERIAL`.

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};

use super::K8sExternalConfig;
use crate::cluster::model::ClusterState;
use crate::corefile::Location;
use crate::plugin::test_support::{ask, options, query, response_to, Upstream, TRANSPORTS};
use crate::server::RunningServer;

use RecordType::{A, AAAA, NS, SOA, SRV, TXT};

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn config(zones: &[&str]) -> K8sExternalConfig {
    K8sExternalConfig {
        zones: zones.iter().map(|z| name(z)).collect(),
        apex: name("dns"),
        ttl: 5,
        headless: false,
        fallthrough: None,
        location: Location {
            file: "Corefile".into(),
            line: 2,
        },
    }
}

#[test]
fn options_table() {
    let full = K8sExternalConfig {
        apex: name("ext"),
        ttl: 30,
        headless: true,
        fallthrough: Some(vec![name("a.org.")]),
        ..config(&["example.org.", "example.com."])
    };
    let cases: Vec<(&str, Result<K8sExternalConfig, &str>)> = vec![
        ("k8s_external", Ok(config(&["example.org."]))),
        ("k8s_external example.org Example.COM", Ok(config(&["example.org.", "example.com."]))),
        (
            "k8s_external example.org example.com {\n apex EXT.\n ttl 30\n headless\n fallthrough a.org\n }",
            Ok(full),
        ),
        (
            "k8s_external {\n fallthrough\n }",
            Ok(K8sExternalConfig {
                fallthrough: Some(vec![]),
                ..config(&["example.org."])
            }),
        ),
        (
            "k8s_external {\n ttl 3601\n }",
            Err("Corefile:3: invalid `ttl` `3601`: expected an integer from 0 to 3600"),
        ),
        (
            "k8s_external {\n ttl -1\n }",
            Err("Corefile:3: invalid `ttl` `-1`: expected an integer from 0 to 3600"),
        ),
        (
            "k8s_external {\n ttl\n }",
            Err("Corefile:3: `ttl` takes exactly 1 argument (`ttl TTL`), got 0"),
        ),
        (
            "k8s_external {\n apex\n }",
            Err("Corefile:3: `apex` takes exactly 1 argument (`apex APEX`), got 0"),
        ),
        (
            "k8s_external {\n apex a..b\n }",
            Err("Corefile:3: invalid `apex` `a..b`: expected a DNS name such as dns"),
        ),
        (
            "k8s_external {\n headless yes\n }",
            Err("Corefile:3: `headless` takes no arguments (`headless`), got 1"),
        ),
        (
            "k8s_external {\n resync 5m\n }",
            Err("Corefile:3: unknown property `resync` in k8s_external block: expected apex, ttl, headless or fallthrough"),
        ),
        (
            "k8s_external {\n headless {\n }\n }",
            Err("Corefile:3: unexpected `{` after `headless` in k8s_external block: this option takes no block"),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!("example.org:53 {{\n  {line}\n  kubernetes\n}}\n");
        let got = options::<K8sExternalConfig>(&corefile);
        assert_eq!(got, want.map_err(|e| e.to_string()), "for `{line}`");
    }
}

/// The fixture cluster, through the dump reader.
fn fixture() -> ClusterState {
    match crate::source::file::parse_dump(include_str!("fixture.yaml"), "fixture.yaml") {
        Ok(dump) => dump.state,
        Err(e) => panic!("fixture.yaml does not load: {e}"),
    }
}

fn start(corefile: &str) -> RunningServer {
    let config = crate::plugin::test_support::parse(corefile)
        .unwrap_or_else(|e| panic!("{e}\n{corefile}"));
    crate::run::start(config, fixture())
        .unwrap_or_else(|e| panic!("the server does not start: {e}\n{corefile}"))
}

fn corefile(bind: &str, k8s_external: &str, after: &str) -> String {
    format!(
        ".:0 {{\n  bind {bind}\n  kubernetes cluster.local\n  k8s_external {k8s_external}\n{after}}}\n"
    )
}

/// Zone-file lines, the SOA serial as `SERIAL`.
fn lines(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            let mut fields: Vec<String> = r.to_string().split_whitespace().map(String::from).collect();
            if fields.get(3).map(String::as_str) == Some("SOA") && fields.len() > 6 {
                fields[6] = "SERIAL".into();
            }
            fields.join(" ")
        })
        .collect()
}

/// One expected answer: rcode, answer lines, additional lines, and whether the authority
/// section holds the zone's SOA.
struct Case {
    qname: &'static str,
    qtype: RecordType,
    rcode: ResponseCode,
    answers: Vec<String>,
    additionals: Vec<String>,
    soa: Option<String>,
}

fn ok(qname: &'static str, qtype: RecordType, answers: &[&str], additionals: &[&str]) -> Case {
    Case {
        qname,
        qtype,
        rcode: ResponseCode::NoError,
        answers: answers.iter().map(|s| s.to_string()).collect(),
        additionals: additionals.iter().map(|s| s.to_string()).collect(),
        soa: None,
    }
}

fn negative(qname: &'static str, qtype: RecordType, rcode: ResponseCode, soa: &str) -> Case {
    Case {
        qname,
        qtype,
        rcode,
        answers: vec![],
        additionals: vec![],
        soa: Some(soa.to_string()),
    }
}

const SOA5: &str = "example.org. 5 IN SOA ns1.dns.example.org. hostmaster.dns.example.org. SERIAL 7200 1800 86400 5";

fn nx(qname: &'static str, qtype: RecordType) -> Case {
    negative(qname, qtype, ResponseCode::NXDomain, SOA5)
}

fn nodata(qname: &'static str, qtype: RecordType) -> Case {
    negative(qname, qtype, ResponseCode::NoError, SOA5)
}

fn check(server: &RunningServer, cases: &[Case]) {
    let addr = server.local_addrs()[0];
    for case in cases {
        for transport in TRANSPORTS {
            let reply = ask(addr, transport, &query(case.qname, case.qtype));
            let what = format!("{} {} over {transport:?}", case.qname, case.qtype);
            assert_eq!(reply.metadata.response_code, case.rcode, "{what}");
            assert!(reply.metadata.authoritative, "AA for {what}");
            assert_eq!(lines(&reply.answers), case.answers, "answers of {what}");
            assert_eq!(lines(&reply.additionals), case.additionals, "additionals of {what}");
            let soa: Vec<String> = case.soa.iter().cloned().collect();
            assert_eq!(lines(&reply.authorities), soa, "authority of {what}");
        }
    }
}

#[test]
fn external_ips_and_load_balancer_ingress_answer() {
    let server = start(&corefile("127.0.0.1", "example.org", ""));
    check(
        &server,
        &[
            ok("lb.testns.example.org.", A, &[
                "lb.testns.example.org. 5 IN A 198.51.100.1",
                "lb.testns.example.org. 5 IN CNAME lb.example.net.",
            ], &[]),
            ok("LB.TestNS.example.ORG.", AAAA, &[
                "LB.TestNS.example.ORG. 5 IN AAAA 2001:db8::1",
                "LB.TestNS.example.ORG. 5 IN CNAME lb.example.net.",
            ], &[]),
            ok("ext.testns.example.org.", A, &[
                "ext.testns.example.org. 5 IN A 192.0.2.10",
                "ext.testns.example.org. 5 IN A 192.0.2.11",
            ], &[]),
            nodata("ext.testns.example.org.", AAAA),
            nodata("ext.testns.example.org.", TXT),
            ok("_http._tcp.ext.testns.example.org.", SRV, &[
                "_http._tcp.ext.testns.example.org. 5 IN SRV 0 50 80 ext.testns.example.org.",
            ], &[
                "ext.testns.example.org. 5 IN A 192.0.2.10",
                "ext.testns.example.org. 5 IN A 192.0.2.11",
            ]),
            ok("_http._tcp.ext.testns.example.org.", A, &[
                "_http._tcp.ext.testns.example.org. 5 IN A 192.0.2.10",
                "_http._tcp.ext.testns.example.org. 5 IN A 192.0.2.11",
            ], &[]),
            ok("_https._tcp.lb.testns.example.org.", SRV, &[
                "_https._tcp.lb.testns.example.org. 5 IN SRV 0 33 443 lb.testns.example.org.",
                "_https._tcp.lb.testns.example.org. 5 IN SRV 0 33 443 lb.example.net.",
            ], &[
                "lb.testns.example.org. 5 IN A 198.51.100.1",
                "lb.testns.example.org. 5 IN AAAA 2001:db8::1",
            ]),
            ok("lb.testns.example.org.", SRV, &[
                "lb.testns.example.org. 5 IN SRV 0 16 80 lb.testns.example.org.",
                "lb.testns.example.org. 5 IN SRV 0 16 443 lb.testns.example.org.",
                "lb.testns.example.org. 5 IN SRV 0 16 80 lb.example.net.",
                "lb.testns.example.org. 5 IN SRV 0 16 443 lb.example.net.",
            ], &[
                "lb.testns.example.org. 5 IN A 198.51.100.1",
                "lb.testns.example.org. 5 IN AAAA 2001:db8::1",
            ]),
            nx("_nope._tcp.ext.testns.example.org.", SRV),
            nx("_http._udp.ext.testns.example.org.", SRV),
            ok("noports.testns.example.org.", A, &["noports.testns.example.org. 5 IN A 192.0.2.30"], &[]),
            nodata("noports.testns.example.org.", SRV),
            nx("internal.testns.example.org.", A),
            nx("hdls.testns.example.org.", A),
            nx("web-0.hdls.testns.example.org.", A),
            nx("x.ext.testns.example.org.", A),
            nx("a.b.c.ext.testns.example.org.", A),
            nx("nosvc.testns.example.org.", A),
            nx("ghost.example.org.", A),
            nodata("testns.example.org.", A),
            ok("hdlsext.testns.example.org.", A, &["hdlsext.testns.example.org. 5 IN A 192.0.2.20"], &[]),
            // The apex: the server is no Service's endpoint, so its own address.
            ok("example.org.", SOA, &[SOA5], &[]),
            ok("example.org.", NS, &["example.org. 5 IN NS ns1.dns.example.org."], &[
                "ns1.dns.example.org. 5 IN A 127.0.0.1",
            ]),
            nodata("example.org.", A),
            ok("ns1.dns.example.org.", A, &["ns1.dns.example.org. 5 IN A 127.0.0.1"], &[]),
            nodata("ns1.dns.example.org.", AAAA),
            nodata("dns.example.org.", A),
            nx("ns2.dns.example.org.", A),
            nx("a.ns1.dns.example.org.", A),
        ],
    );
    // The kubernetes zone is still the kubernetes plugin's.
    check(&server, &[ok("ext.testns.svc.cluster.local.", A, &["ext.testns.svc.cluster.local. 5 IN A 10.0.0.2"], &[])]);
}

#[test]
fn the_apex_is_kube_dns_external_ips_when_the_server_is_its_endpoint() {
    let server = start(&corefile("127.0.0.53", "example.org", ""));
    check(
        &server,
        &[
            ok("example.org.", NS, &["example.org. 5 IN NS ns1.dns.example.org."], &[
                "ns1.dns.example.org. 5 IN A 192.0.2.53",
                "ns1.dns.example.org. 5 IN AAAA 2001:db8::53",
            ]),
            ok("ns1.dns.example.org.", A, &["ns1.dns.example.org. 5 IN A 192.0.2.53"], &[]),
            ok("ns1.dns.example.org.", AAAA, &["ns1.dns.example.org. 5 IN AAAA 2001:db8::53"], &[]),
            // The kubernetes zone's own name server is kube-dns's ClusterIP.
            ok("ns.dns.cluster.local.", A, &["ns.dns.cluster.local. 5 IN A 10.0.0.10"], &[]),
        ],
    );
}

#[test]
fn headless_apex_and_ttl_options() {
    let options = "example.org {\n    headless\n    ttl 30\n    apex ext\n  }\n";
    let server = start(&corefile("127.0.0.1", options, ""));
    let soa = "example.org. 30 IN SOA ns1.ext.example.org. hostmaster.ext.example.org. SERIAL 7200 1800 86400 30";
    check(
        &server,
        &[
            ok("hdls.testns.example.org.", A, &[
                "hdls.testns.example.org. 30 IN A 172.0.0.1",
                "hdls.testns.example.org. 30 IN A 172.0.0.2",
            ], &[]),
            ok("web-0.hdls.testns.example.org.", A, &["web-0.hdls.testns.example.org. 30 IN A 172.0.0.1"], &[]),
            ok("172-0-0-2.hdls.testns.example.org.", A, &["172-0-0-2.hdls.testns.example.org. 30 IN A 172.0.0.2"], &[]),
            negative("nobody.hdls.testns.example.org.", A, ResponseCode::NXDomain, soa),
            ok("_http._tcp.hdls.testns.example.org.", SRV, &[
                "_http._tcp.hdls.testns.example.org. 30 IN SRV 0 50 80 web-0.hdls.testns.example.org.",
                "_http._tcp.hdls.testns.example.org. 30 IN SRV 0 50 80 172-0-0-2.hdls.testns.example.org.",
            ], &[
                "web-0.hdls.testns.example.org. 30 IN A 172.0.0.1",
                "172-0-0-2.hdls.testns.example.org. 30 IN A 172.0.0.2",
            ]),
            // External IPs win over endpoints.
            ok("hdlsext.testns.example.org.", A, &["hdlsext.testns.example.org. 30 IN A 192.0.2.20"], &[]),
            ok("ext.testns.example.org.", A, &[
                "ext.testns.example.org. 30 IN A 192.0.2.10",
                "ext.testns.example.org. 30 IN A 192.0.2.11",
            ], &[]),
            ok("example.org.", SOA, &[soa], &[]),
            ok("ns1.ext.example.org.", A, &["ns1.ext.example.org. 30 IN A 127.0.0.1"], &[]),
            negative("ns1.dns.example.org.", A, ResponseCode::NXDomain, soa),
        ],
    );
}

#[test]
fn fallthrough_passes_nxdomain_on() {
    let server = start(&corefile("127.0.0.1", "example.org {\n    fallthrough\n  }\n", "  whoami\n"));
    let addr = server.local_addrs()[0];
    for transport in TRANSPORTS {
        let reply = ask(addr, transport, &query("nosvc.testns.example.org.", A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{transport:?}");
        assert_eq!(lines(&reply.additionals)[0], "nosvc.testns.example.org. 0 IN A 127.0.0.1", "whoami answered");
        let reply = ask(addr, transport, &query("ext.testns.example.org.", AAAA));
        assert_eq!(lines(&reply.authorities), vec![SOA5.to_string()], "NODATA stays");
    }
    let server = start(&corefile("127.0.0.1", "example.org", "  whoami\n"));
    check(&server, &[nx("nosvc.testns.example.org.", A)]);
}

#[test]
fn an_ingress_hostname_is_chased_through_forward() {
    let upstream = Upstream::start(|q: &Message| {
        let mut m = response_to(q);
        let owner = q.queries[0].name().clone();
        let rdata = hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A([203, 0, 113, 9].into()));
        m.answers.push(Record::from_rdata(owner, 60, rdata));
        m
    });
    let forward = format!("  forward . {}\n", upstream.addr);
    let server = start(&corefile("127.0.0.1", "example.org", &forward));
    check(
        &server,
        &[ok("lb.testns.example.org.", A, &[
            "lb.testns.example.org. 5 IN A 198.51.100.1",
            "lb.testns.example.org. 5 IN CNAME lb.example.net.",
            "lb.example.net. 60 IN A 203.0.113.9",
        ], &[])],
    );
}

#[test]
fn without_kubernetes_the_corefile_is_refused() {
    let got = crate::plugin::test_support::parse(".:53 {\n  k8s_external example.org\n}\n").err();
    assert_eq!(
        got.as_deref(),
        Some(
            "Corefile:2: k8s_external needs the kubernetes plugin in the same server block: it \
             answers from its services"
        )
    );
}
