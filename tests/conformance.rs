//! DNS conformance suite: the real server over real UDP and TCP sockets, one table per Corefile,
//! expectations written from `docs/spec-checklist.md` (parts A, B, C) and the fixture
//! `tests/fixtures/conformance.yaml` (its header lists every object).
//!
//! Cairn decisions where the checklist leaves room (from the brief):
//! * ExternalName answers its CNAME for every qtype except SRV (NODATA); A/AAAA with an in-zone
//!   target append the target's records; an out-of-zone target is just the CNAME (no forwarding
//!   yet).
//! * `ns.dns.<zone>` with a type other than its address types is NODATA.
//! * RA is never set; AA is set on every answer from a served zone.
//! * A name outside every served zone is REFUSED.

mod common;

use common::soa;
use common::table::Table;
use hickory_proto::rr::RecordType::{A, AAAA, AXFR, CNAME, HINFO, MX, NS, PTR, SOA, SRV, TXT};

const ZONES: &[&str] = &["cluster.local.", "in-addr.arpa.", "ip6.arpa."];

fn corefile(options: &[&str]) -> String {
    corefile_with("cluster.local in-addr.arpa ip6.arpa", "127.0.0.1", options)
}

fn corefile_with(zones: &str, bind: &str, options: &[&str]) -> String {
    let mut s = format!(".:0 {{\n    bind {bind}\n    kubernetes {zones}");
    if options.is_empty() {
        s.push('\n');
    } else {
        s.push_str(" {\n");
        for o in options {
            s.push_str(&format!("        {o}\n"));
        }
        s.push_str("    }\n");
    }
    s.push_str("}\n");
    s
}

// Reverse names of the fixture's IPv6 addresses (32 nibbles under ip6.arpa.).
/// fd00:10::6 (ClusterIP of `dual`)
const R6_DUAL: &str = "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.d.f.ip6.arpa.";
/// fd00:10::2 (ClusterIP of `svc6`)
const R6_SVC6: &str = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.d.f.ip6.arpa.";
/// fd00:10::99 (nobody)
const R6_NONE: &str = "9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.d.f.ip6.arpa.";
/// 5678:abcd::1 (hdls1 endpoint without hostname)
const R6_EP1: &str = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa.";
/// 5678:abcd::5 (hdls1 endpoint host5)
const R6_EP5: &str = "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa.";
/// 2001:db8:3333:4444:5555:6666:: (hdls1 endpoint without hostname, trailing `::`)
const R6_EPZ: &str = "0.0.0.0.0.0.0.0.6.6.6.6.5.5.5.5.4.4.4.4.3.3.3.3.8.b.d.0.1.0.0.2.ip6.arpa.";

/// The pod names of svc1's endpoints 172.0.0.14 (63 chars, usable) and 172.0.0.12 (64 chars).
fn long63() -> String {
    format!("{}-0123456789", "p".repeat(52))
}
fn long64() -> String {
    format!("{}-0123456789", "q".repeat(53))
}

/// `_http._tcp.hdls1` SRV records for `owner` (7 ready addresses -> weight 14; the two
/// `dup-name` and the two `host5` entries collapse on (target, port)), with `first` as the
/// name of the 172.0.0.2 endpoint.
fn hdls1_srv(owner: &str, ttl: u32, first: &str) -> Vec<String> {
    [
        first,
        "dup-name",
        "host5",
        "5678-abcd--1",
        "2001-db8-3333-4444-5555-6666--0",
    ]
    .iter()
    .map(|t| format!("{owner} {ttl} IN SRV 0 14 80 {t}.hdls1.testns.svc.cluster.local."))
    .collect()
}

/// The additional section of an hdls1 SRV answer: A/AAAA of every target.
fn hdls1_srv_extra(ttl: u32, first: &str) -> Vec<String> {
    let h = "hdls1.testns.svc.cluster.local.";
    vec![
        format!("{first}.{h} {ttl} IN A 172.0.0.2"),
        format!("dup-name.{h} {ttl} IN A 172.0.0.3"),
        format!("dup-name.{h} {ttl} IN A 172.0.0.4"),
        format!("host5.{h} {ttl} IN A 172.0.0.5"),
        format!("host5.{h} {ttl} IN AAAA 5678:abcd::5"),
        format!("5678-abcd--1.{h} {ttl} IN AAAA 5678:abcd::1"),
        format!("2001-db8-3333-4444-5555-6666--0.{h} {ttl} IN AAAA 2001:db8:3333:4444:5555:6666::"),
    ]
}

// ------------------------------------------------------------------------------------------------
// Default options: `kubernetes cluster.local in-addr.arpa ip6.arpa` (pods disabled, ttl 5).

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn default_table() -> Table {
    let mut t = Table::new("default", &corefile(&[]), 5, ZONES);

    // A.4 / C.1: schema version, fixed TTL 28800.
    t.ok("dns-version.cluster.local.", TXT, &["dns-version.cluster.local. 28800 IN TXT 1.1.0"])
        .why("A.4");
    t.nx("dns-version.cluster.local.", A).why("C.4 dns-version with another type [C]");

    // A.5 / A.6: ClusterIP address records.
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"])
        .why("A.5");
    t.ok("dual.testns.svc.cluster.local.", A, &["dual.testns.svc.cluster.local. 5 IN A 10.0.0.6"])
        .why("A.6 dual-stack A");
    t.ok("dual.testns.svc.cluster.local.", AAAA, &["dual.testns.svc.cluster.local. 5 IN AAAA fd00:10::6"])
        .why("A.6 dual-stack AAAA");
    t.ok("svc6.testns.svc.cluster.local.", AAAA, &["svc6.testns.svc.cluster.local. 5 IN AAAA fd00:10::2"])
        .why("A.6");
    t.nodata("svc6.testns.svc.cluster.local.", A).why("C.4 A of a v6-only service");
    t.nodata("svc1.testns.svc.cluster.local.", AAAA).why("C.4 AAAA of a v4-only service");
    t.ok("svc2.testns2.svc.cluster.local.", A, &["svc2.testns2.svc.cluster.local. 5 IN A 10.0.1.2"]);
    t.ok("kubernetes.default.svc.cluster.local.", A, &["kubernetes.default.svc.cluster.local. 5 IN A 10.0.0.100"])
        .why("e2e DNS for the cluster");
    t.ok("multiport.testns.svc.cluster.local.", A, &["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.3"]);
    t.ok("svcempty.testns.svc.cluster.local.", A, &["svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.20"])
        .why("C.4 ClusterIP without endpoints answers");
    t.ok("svcunready.testns.svc.cluster.local.", A, &["svcunready.testns.svc.cluster.local. 5 IN A 10.0.0.21"])
        .why("C.4 ClusterIP without ready endpoints answers");

    // A.7 / C.8: ClusterIP SRV.
    t.ok("_http._tcp.svc1.testns.svc.cluster.local.", SRV, &["_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."])
        .additional(&["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"])
        .why("A.7");
    t.ok("svc1.testns.svc.cluster.local.", SRV, &["svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."])
        .additional(&["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"])
        .why("C.8 bare-name SRV");
    t.ok("_http._tcp.dual.testns.svc.cluster.local.", SRV, &["_http._tcp.dual.testns.svc.cluster.local. 5 IN SRV 0 50 80 dual.testns.svc.cluster.local."])
        .additional(&[
            "dual.testns.svc.cluster.local. 5 IN A 10.0.0.6",
            "dual.testns.svc.cluster.local. 5 IN AAAA fd00:10::6",
        ])
        .why("C.8 dual-stack -> 1 RR weight 50");
    t.ok("_http._tcp.multiport.testns.svc.cluster.local.", SRV, &["_http._tcp.multiport.testns.svc.cluster.local. 5 IN SRV 0 100 80 multiport.testns.svc.cluster.local."])
        .additional(&["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.3"]);
    t.ok("_dns._udp.multiport.testns.svc.cluster.local.", SRV, &["_dns._udp.multiport.testns.svc.cluster.local. 5 IN SRV 0 100 53 multiport.testns.svc.cluster.local."])
        .additional(&["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.3"])
        .why("A.7 UDP port");
    t.ok("multiport.testns.svc.cluster.local.", SRV, &[
        "multiport.testns.svc.cluster.local. 5 IN SRV 0 33 80 multiport.testns.svc.cluster.local.",
        "multiport.testns.svc.cluster.local. 5 IN SRV 0 33 53 multiport.testns.svc.cluster.local.",
        "multiport.testns.svc.cluster.local. 5 IN SRV 0 33 8080 multiport.testns.svc.cluster.local.",
    ])
    .additional(&["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.3"])
    .why("C.8 bare-name SRV: one per port, unnamed included");
    t.ok("kube-dns.kube-system.svc.cluster.local.", SRV, &["kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 50 53 kube-dns.kube-system.svc.cluster.local."])
        .additional(&["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.0.0.10"])
        .why("C.8 two entries (dns/UDP, dns-tcp/TCP, both 53) -> weight 50, one RR");
    t.ok("_https._tcp.kubernetes.default.svc.cluster.local.", SRV, &["_https._tcp.kubernetes.default.svc.cluster.local. 5 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."])
        .additional(&["kubernetes.default.svc.cluster.local. 5 IN A 10.0.0.100"]);
    t.ok("_http._tcp.svcempty.testns.svc.cluster.local.", SRV, &["_http._tcp.svcempty.testns.svc.cluster.local. 5 IN SRV 0 100 80 svcempty.testns.svc.cluster.local."])
        .additional(&["svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.20"]);
    t.ok("_HTTP._TCP.multiport.testns.svc.cluster.local.", SRV, &["_HTTP._TCP.multiport.testns.svc.cluster.local. 5 IN SRV 0 100 80 multiport.testns.svc.cluster.local."])
        .additional(&["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.3"])
        .why("C.8 _port/_proto matched case-insensitively");
    t.nx("_http._udp.multiport.testns.svc.cluster.local.", SRV).why("C.4 _port._proto that does not match");
    t.nx("_dns._tcp.multiport.testns.svc.cluster.local.", SRV).why("C.4 protocol mismatch");
    t.nx("_nope._tcp.svc1.testns.svc.cluster.local.", SRV).why("C.4 unknown port name");

    // A.13 / C.8: headless SRV.
    let h1 = hdls1_srv("_http._tcp.hdls1.testns.svc.cluster.local.", 5, "172-0-0-2");
    t.ok("_http._tcp.hdls1.testns.svc.cluster.local.", SRV, &h1)
        .additional(&hdls1_srv_extra(5, "172-0-0-2"))
        .why("A.13, C.8 weight 100/7, dedup on (target, port)");
    let h1 = hdls1_srv("hdls1.testns.svc.cluster.local.", 5, "172-0-0-2");
    t.ok("hdls1.testns.svc.cluster.local.", SRV, &h1)
        .additional(&hdls1_srv_extra(5, "172-0-0-2"))
        .why("C.8 bare-name headless SRV");
    t.ok("_http._tcp.hdlspnr.testns.svc.cluster.local.", SRV, &["_http._tcp.hdlspnr.testns.svc.cluster.local. 5 IN SRV 0 100 80 pnr1.hdlspnr.testns.svc.cluster.local."])
        .additional(&["pnr1.hdlspnr.testns.svc.cluster.local. 5 IN A 172.0.2.1"])
        .why("A.3 publishNotReadyAddresses");
    t.nx("_http._tcp.hdlsnone.testns.svc.cluster.local.", SRV).why("C.4 headless without ready endpoints");
    t.nodata("ext.testns.svc.cluster.local.", SRV).why("C.8 SRV on ExternalName: no records");

    // A.8 / A.9 / A.14 / C.9: PTR.
    t.ok("1.0.0.10.in-addr.arpa.", PTR, &["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."])
        .why("A.8");
    t.ok("6.0.0.10.in-addr.arpa.", PTR, &["6.0.0.10.in-addr.arpa. 5 IN PTR dual.testns.svc.cluster.local."]);
    t.ok("2.1.0.10.in-addr.arpa.", PTR, &["2.1.0.10.in-addr.arpa. 5 IN PTR svc2.testns2.svc.cluster.local."]);
    t.ok(R6_DUAL, PTR, &[format!("{R6_DUAL} 5 IN PTR dual.testns.svc.cluster.local.")])
        .why("A.9");
    t.ok(R6_SVC6, PTR, &[format!("{R6_SVC6} 5 IN PTR svc6.testns.svc.cluster.local.")])
        .why("A.9");
    t.ok("1.0.0.172.in-addr.arpa.", PTR, &[
        "1.0.0.172.in-addr.arpa. 5 IN PTR ep1a.svc1.testns.svc.cluster.local.",
        "1.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-1.multiport.testns.svc.cluster.local.",
    ])
    .why("C.9 one PTR per (Service, endpoint)");
    t.ok("2.0.0.172.in-addr.arpa.", PTR, &["2.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-2.hdls1.testns.svc.cluster.local."])
        .why("A.14 + C.6 dashed name");
    t.ok("3.0.0.172.in-addr.arpa.", PTR, &["3.0.0.172.in-addr.arpa. 5 IN PTR dup-name.hdls1.testns.svc.cluster.local."])
        .why("A.14");
    t.ok("11.0.0.172.in-addr.arpa.", PTR, &["11.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-11.svc1.testns.svc.cluster.local."])
        .why("C.6 endpoint of a ClusterIP service");
    t.ok("1.2.0.172.in-addr.arpa.", PTR, &["1.2.0.172.in-addr.arpa. 5 IN PTR pnr1.hdlspnr.testns.svc.cluster.local."])
        .why("A.3 publishNotReadyAddresses");
    t.ok(R6_EP1, PTR, &[format!("{R6_EP1} 5 IN PTR 5678-abcd--1.hdls1.testns.svc.cluster.local.")])
        .why("A.14 v6, C.6 dashed v6");
    t.ok(R6_EPZ, PTR, &[format!("{R6_EPZ} 5 IN PTR 2001-db8-3333-4444-5555-6666--0.hdls1.testns.svc.cluster.local.")])
        .why("C.6 trailing '-' gets '0'");
    t.ok(R6_EP5, PTR, &[format!("{R6_EP5} 5 IN PTR host5.hdls1.testns.svc.cluster.local.")]);
    t.nx("9.0.0.172.in-addr.arpa.", PTR).why("A.14 not-ready endpoint has no PTR");
    t.nx("13.0.0.172.in-addr.arpa.", PTR).why("not-ready endpoint of a ClusterIP service");
    t.nx("99.0.0.10.in-addr.arpa.", PTR).why("C.4 unknown IP in a served reverse zone");
    t.nx(R6_NONE, PTR).why("C.4 unknown IPv6 in ip6.arpa");
    t.nx("1.0.0.10.in-addr.arpa.", A).why("C.4 forward type in a reverse zone");
    t.ok("in-addr.arpa.", SOA, &[soa("in-addr.arpa.", 5)]).why("C.3 apex SOA of a reverse zone");

    // A.10 - A.12, C.6: headless A/AAAA and endpoint names.
    t.ok("hdls1.testns.svc.cluster.local.", A, &[
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2",
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4",
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5",
    ])
    .why("A.10 ready IPv4 endpoints only");
    t.ok("hdls1.testns.svc.cluster.local.", AAAA, &[
        "hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1",
        "hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::5",
        "hdls1.testns.svc.cluster.local. 5 IN AAAA 2001:db8:3333:4444:5555:6666::",
    ])
    .why("A.12");
    t.ok("dup-name.hdls1.testns.svc.cluster.local.", A, &[
        "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
        "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4",
    ])
    .why("A.11 / C.6 duplicate hostname -> several A");
    t.ok("host5.hdls1.testns.svc.cluster.local.", A, &["host5.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5"]);
    t.ok("host5.hdls1.testns.svc.cluster.local.", AAAA, &["host5.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::5"])
        .why("A.12 per-hostname AAAA");
    t.ok("172-0-0-2.hdls1.testns.svc.cluster.local.", A, &["172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2"])
        .why("C.6 dashed IPv4");
    t.ok("5678-abcd--1.hdls1.testns.svc.cluster.local.", AAAA, &["5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1"])
        .why("C.6 dashed IPv6");
    t.ok("2001-db8-3333-4444-5555-6666--0.hdls1.testns.svc.cluster.local.", AAAA, &["2001-db8-3333-4444-5555-6666--0.hdls1.testns.svc.cluster.local. 5 IN AAAA 2001:db8:3333:4444:5555:6666::"])
        .why("C.6 trailing --0");
    t.nodata("5678-abcd--1.hdls1.testns.svc.cluster.local.", A).why("C.4 existing endpoint name, no A");
    t.nx("notready.hdls1.testns.svc.cluster.local.", A).why("A.11 not-ready endpoint");
    t.nx("172-0-0-9.hdls1.testns.svc.cluster.local.", A).why("not-ready endpoint by dashed name");
    t.nx("nobody.hdls1.testns.svc.cluster.local.", A).why("C.4 unknown endpoint label");
    t.ok("hdlspnr.testns.svc.cluster.local.", A, &["hdlspnr.testns.svc.cluster.local. 5 IN A 172.0.2.1"])
        .why("A.3 publishNotReadyAddresses");
    t.ok("pnr1.hdlspnr.testns.svc.cluster.local.", A, &["pnr1.hdlspnr.testns.svc.cluster.local. 5 IN A 172.0.2.1"]);
    t.nx("hdlsnone.testns.svc.cluster.local.", A).why("A.10 no ready endpoints -> NXDOMAIN");
    t.nx("hdlsnone.testns.svc.cluster.local.", AAAA).why("A.12 no ready endpoints -> NXDOMAIN");
    t.nx("down1.hdlsnone.testns.svc.cluster.local.", A);
    t.nodata("hdls1.testns.svc.cluster.local.", TXT).why("C.4 existing name, TXT");

    // C.6: endpoint names under ClusterIP services.
    t.ok("ep1a.svc1.testns.svc.cluster.local.", A, &["ep1a.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.1"]);
    t.ok("172-0-0-11.svc1.testns.svc.cluster.local.", A, &["172-0-0-11.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.11"]);
    t.ok("172-0-0-1.multiport.testns.svc.cluster.local.", A, &["172-0-0-1.multiport.testns.svc.cluster.local. 5 IN A 172.0.0.1"]);
    t.ok("ep2.svc2.testns2.svc.cluster.local.", A, &["ep2.svc2.testns2.svc.cluster.local. 5 IN A 172.0.1.2"]);
    t.nx("172-0-0-13.svc1.testns.svc.cluster.local.", A).why("not-ready endpoint");
    t.nx("svc1-pod-b.svc1.testns.svc.cluster.local.", A).why("C.6 pod names only with endpoint_pod_names");

    // A.15 / C.10: ExternalName.
    t.ok("ext.testns.svc.cluster.local.", CNAME, &["ext.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."])
        .why("A.15");
    t.ok("ext.testns.svc.cluster.local.", A, &["ext.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."])
        .why("out-of-zone target: just the CNAME (no forwarding yet)");
    t.ok("ext.testns.svc.cluster.local.", AAAA, &["ext.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."]);
    t.ok("ext.testns.svc.cluster.local.", TXT, &["ext.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."])
        .why("CNAME for every qtype except SRV");
    t.ok("extin.testns.svc.cluster.local.", A, &[
        "extin.testns.svc.cluster.local. 5 IN CNAME dual.testns.svc.cluster.local.",
        "dual.testns.svc.cluster.local. 5 IN A 10.0.0.6",
    ])
    .ordered()
    .why("A.15 / C.10 in-zone chase, CNAME first");
    t.ok("extin.testns.svc.cluster.local.", AAAA, &[
        "extin.testns.svc.cluster.local. 5 IN CNAME dual.testns.svc.cluster.local.",
        "dual.testns.svc.cluster.local. 5 IN AAAA fd00:10::6",
    ])
    .ordered()
    .why("A.15 / C.10 in-zone chase, CNAME first");
    t.ok("extin.testns.svc.cluster.local.", CNAME, &["extin.testns.svc.cluster.local. 5 IN CNAME dual.testns.svc.cluster.local."]);
    t.nx("x.ext.testns.svc.cluster.local.", A).why("C.4 names below an ExternalName");
    t.no_records("extip.testns.svc.cluster.local.", A).why("C.10 externalName that is an IP: no record");

    // C.2 / C.3: apex.
    t.ok("cluster.local.", SOA, &[soa("cluster.local.", 5)]).why("C.3 apex SOA");
    t.ok("cluster.local.", NS, &["cluster.local. 5 IN NS ns.dns.cluster.local."])
        .additional(&["ns.dns.cluster.local. 5 IN A 127.0.0.1"])
        .why("C.3 NS + glue = bound address");
    t.nodata("cluster.local.", A).why("C.3");
    t.nodata("cluster.local.", AAAA).why("C.3");
    t.nodata("cluster.local.", SRV).why("C.3");
    t.nodata("cluster.local.", HINFO).why("C.3");
    t.ok("ns.dns.cluster.local.", A, &["ns.dns.cluster.local. 5 IN A 127.0.0.1"]).why("C.3");
    t.nodata("ns.dns.cluster.local.", AAAA).why("bound to IPv4 only");
    t.nodata("ns.dns.cluster.local.", TXT).why("Cairn: ns.dns with other types is NODATA");

    // C.4: NXDOMAIN vs NODATA, row by row.
    t.nodata("svc1.testns.svc.cluster.local.", TXT).why("C.4 row 1");
    t.nodata("svc1.testns.svc.cluster.local.", PTR).why("C.4 row 1");
    t.nodata("svc1.testns.svc.cluster.local.", SOA).why("C.4 row 1 / SOA for a non-apex name");
    t.nodata("svc1.testns.svc.cluster.local.", NS).why("C.4 row 1");
    t.nodata("svc1.testns.svc.cluster.local.", MX).why("C.4 unsupported qtype on an existing name");
    t.nodata("svc1.testns.svc.cluster.local.", HINFO).why("C.4 unsupported qtype on an existing name");
    t.nx("nosvc.testns.svc.cluster.local.", MX).why("C.4 unsupported qtype on a missing name");
    t.nodata("svc.cluster.local.", A).why("C.4 row 2");
    t.nodata("svc.cluster.local.", SRV).why("C.4 row 2");
    t.nodata("pod.cluster.local.", A).why("C.4 row 2");
    t.nodata("testns.svc.cluster.local.", A).why("C.4 row 3");
    t.nodata("testns2.svc.cluster.local.", AAAA).why("C.4 row 3");
    t.nx("testns.pod.cluster.local.", A).why("C.4 row 5: pods disabled");
    t.nx("ghost.svc.cluster.local.", A).why("C.4 row 4: namespace does not exist");
    t.nx("ghost.pod.cluster.local.", A).why("C.4 row 4");
    t.nx("nosvc.testns.svc.cluster.local.", A).why("C.4 unknown service");
    t.nx("nosvc.ghost.svc.cluster.local.", A).why("C.4 unknown namespace");
    t.nx("noep.svc1.testns.svc.cluster.local.", A).why("C.4 unknown endpoint");
    t.nx("ep1a.nosvc.testns.svc.cluster.local.", A).why("C.4 endpoint under missing service");
    t.nx("foo.cluster.local.", A).why("C.4 first label not svc/pod");
    t.nx("example.org.cluster.local.", A).why("C.4 first label not svc/pod");
    t.nx("a.b.svc1.testns.svc.cluster.local.", A).why("C.4 2 labels that are not _port._proto");
    t.nx("x.y.z.svc1.testns.svc.cluster.local.", A).why("C.4 3+ labels");
    t.nx("_http._tcp.dup-name.hdls1.testns.svc.cluster.local.", SRV).why("C.4 3+ labels");
    t.nx("*.testns.svc.cluster.local.", A).why("C.5 no wildcards");
    t.nx("any.testns.svc.cluster.local.", A).why("C.5 no wildcards");
    t.nx("*.svc1.testns.svc.cluster.local.", A).why("C.5 no wildcards");
    t.nx("1-2-3-4.testns.pod.cluster.local.", A).why("C.12 pods disabled");
    t.refused("cluster.local.", AXFR).why("C.4 AXFR to the kubernetes plugin");

    // B.2: search-path expansions must be clean NXDOMAIN.
    t.nx("kubernetes.default.testns.svc.cluster.local.", A).why("B.2");
    t.nx("kubernetes.default.svc.testns.svc.cluster.local.", A).why("B.2");
    t.nx("kubernetes.default.svc.svc.cluster.local.", A).why("B.2");
    t.nx("kubernetes.default.cluster.local.", A).why("B.2");
    t.nx("kubernetes.default.svc.cluster.local.cluster.local.", A).why("B.2");
    t.nx("svc2.testns2.testns.svc.cluster.local.", A).why("B.2 data.prod.test.svc");
    t.nx("svc2.testns2.testns.svc.cluster.local.", AAAA).why("B.2");
    t.nx("_http._tcp.svc1.testns.testns.svc.cluster.local.", SRV).why("B.2");
    t.nodata("kubernetes.default.svc.cluster.local.", AAAA).why("B.2 the final hit, other family");

    // C.11: case.
    t.ok("SVC1.TestNS.svc.cluster.local.", A, &["SVC1.TestNS.svc.cluster.local. 5 IN A 10.0.0.1"])
        .why("C.11 owner echoes the query");
    t.ok("svc1.testns.SVC.Cluster.Local.", A, &["svc1.testns.SVC.Cluster.Local. 5 IN A 10.0.0.1"])
        .why("C.11");
    t.ok("_HTTP._Tcp.svc1.testns.svc.CLUSTER.local.", SRV, &["_HTTP._Tcp.svc1.testns.svc.CLUSTER.local. 5 IN SRV 0 100 80 svc1.testns.svc.CLUSTER.local."])
        .additional(&["svc1.testns.svc.CLUSTER.local. 5 IN A 10.0.0.1"])
        .why("C.11 target keeps the query's zone spelling");
    t.ok("SVC1.TESTNS.SVC.CLUSTER.LOCAL.", SRV, &["SVC1.TESTNS.SVC.CLUSTER.LOCAL. 5 IN SRV 0 100 80 svc1.testns.svc.CLUSTER.LOCAL."])
        .additional(&["svc1.testns.svc.CLUSTER.LOCAL. 5 IN A 10.0.0.1"])
        .why("C.11 target lower-case object names + query zone");
    let h1 = hdls1_srv("_http._tcp.HDLS1.testns.svc.cluster.local.", 5, "172-0-0-2");
    t.ok("_http._tcp.HDLS1.testns.svc.cluster.local.", SRV, &h1)
        .additional(&hdls1_srv_extra(5, "172-0-0-2"))
        .why("C.11 targets built from object names are lower-case");
    t.nx("nosvc.testns.svc.CLUSTER.local.", A).why("C.11 SOA owner keeps the query's zone spelling");
    t.nodata("Svc1.testns.svc.cLuStEr.LoCaL.", AAAA).why("C.11 SOA owner keeps the query's zone spelling");
    t.ok("DUP-NAME.Hdls1.testns.svc.cluster.local.", A, &[
        "DUP-NAME.Hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
        "DUP-NAME.Hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4",
    ])
    .why("A.2 case-insensitive endpoint match");
    t.ok("Cluster.LOCAL.", NS, &["Cluster.LOCAL. 5 IN NS ns.dns.Cluster.LOCAL."])
        .additional(&["ns.dns.Cluster.LOCAL. 5 IN A 127.0.0.1"])
        .why("C.11 NS target keeps the query's zone spelling");
    t.ok("CLUSTER.local.", SOA, &[soa("CLUSTER.local.", 5)]).why("C.11 SOA owner/mname");
    t.ok("Ext.TestNS.svc.cluster.local.", CNAME, &["Ext.TestNS.svc.cluster.local. 5 IN CNAME ext.interwebs.test."]);
    t.ok("DNS-VERSION.Cluster.Local.", TXT, &["DNS-VERSION.Cluster.Local. 28800 IN TXT 1.1.0"]);
    t.ok("NS.dns.cluster.local.", A, &["NS.dns.cluster.local. 5 IN A 127.0.0.1"]).why("C.3 owner = qname");
    t.ok("1.0.0.10.IN-ADDR.ARPA.", PTR, &["1.0.0.10.IN-ADDR.ARPA. 5 IN PTR svc1.testns.svc.cluster.local."])
        .why("C.9 targets use the first non-reverse zone");
    t.ok("HDLS1.testns.svc.cluster.local.", AAAA, &[
        "HDLS1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1",
        "HDLS1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::5",
        "HDLS1.testns.svc.cluster.local. 5 IN AAAA 2001:db8:3333:4444:5555:6666::",
    ]);

    // Outside every served zone.
    t.refused("example.org.", A).why("not served");
    t
}

// ------------------------------------------------------------------------------------------------

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn pods_insecure_table() -> Table {
    let mut t = Table::new("pods insecure", &corefile(&["pods insecure"]), 5, ZONES);
    t.ok("172-0-0-1.testns.pod.cluster.local.", A, &["172-0-0-1.testns.pod.cluster.local. 5 IN A 172.0.0.1"])
        .why("C.12 answered from the name alone");
    t.ok("10-244-0-6.testns.pod.cluster.local.", A, &["10-244-0-6.testns.pod.cluster.local. 5 IN A 10.244.0.6"])
        .why("C.12 no pod check in insecure mode");
    t.ok("1-2-3-4.testns2.pod.cluster.local.", A, &["1-2-3-4.testns2.pod.cluster.local. 5 IN A 1.2.3.4"]);
    t.ok("fd00--5.testns.pod.cluster.local.", AAAA, &["fd00--5.testns.pod.cluster.local. 5 IN AAAA fd00::5"])
        .why("C.12 IPv6 label");
    t.ok("1-2-3-4.testns.pod.CLUSTER.local.", A, &["1-2-3-4.testns.pod.CLUSTER.local. 5 IN A 1.2.3.4"])
        .why("C.11");
    t.nodata("1-2-3-4.testns.pod.cluster.local.", AAAA).why("existing pod name, other family");
    t.nx("1-2-3-4.ghost.pod.cluster.local.", A).why("C.12 namespace must exist");
    t.nx("notanip.testns.pod.cluster.local.", A).why("C.12 non-IP label");
    t.nx("256-1-1-1.testns.pod.cluster.local.", A).why("C.12 non-IP label");
    t.nodata("testns.pod.cluster.local.", A).why("C.4 row 3");
    t.nodata("pod.cluster.local.", A).why("C.4 row 2");
    t.nx("ghost.pod.cluster.local.", A).why("C.4 row 4");
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn pods_verified_table() -> Table {
    let mut t = Table::new("pods verified", &corefile(&["pods verified"]), 5, ZONES);
    t.ok("10-244-0-5.testns.pod.cluster.local.", A, &["10-244-0-5.testns.pod.cluster.local. 5 IN A 10.244.0.5"])
        .why("C.12 Running pod");
    t.ok("10-244-0-8.testns.pod.cluster.local.", A, &["10-244-0-8.testns.pod.cluster.local. 5 IN A 10.244.0.8"])
        .why("C.12 Pending is not excluded");
    t.ok("10-244-1-5.testns2.pod.cluster.local.", A, &["10-244-1-5.testns2.pod.cluster.local. 5 IN A 10.244.1.5"]);
    t.nodata("10-244-0-5.testns.pod.cluster.local.", AAAA).why("existing pod name, other family");
    t.nx("10-244-0-6.testns.pod.cluster.local.", A).why("C.12 Succeeded pod ignored");
    t.nx("10-244-0-7.testns.pod.cluster.local.", A).why("C.12 terminating pod ignored");
    t.nx("fd00--5.testns.pod.cluster.local.", AAAA).why("C.12 primary IP only");
    t.nx("10-244-1-5.testns.pod.cluster.local.", A).why("C.12 pod is in another namespace");
    t.nx("1-2-3-4.testns.pod.cluster.local.", A).why("C.12 no such pod");
    t.nx("web-0.testns.pod.cluster.local.", A).why("B.5 no records for pod names");
    t.nodata("testns.pod.cluster.local.", A).why("C.4 row 3");
    t.nx("ghost.pod.cluster.local.", A).why("C.4 row 4");
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn namespaces_table() -> Table {
    let mut t = Table::new(
        "namespaces filter",
        &corefile(&["namespaces testns kube-system"]),
        5,
        ZONES,
    );
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t.ok("kube-dns.kube-system.svc.cluster.local.", A, &["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.0.0.10"]);
    t.nx("svc2.testns2.svc.cluster.local.", A).why("C.13 namespace not exposed");
    t.nx("ep2.svc2.testns2.svc.cluster.local.", A).why("C.13");
    t.nx("_http._tcp.svc2.testns2.svc.cluster.local.", SRV).why("C.13");
    t.nx("kubernetes.default.svc.cluster.local.", A).why("C.13");
    t.nx("testns2.svc.cluster.local.", A).why("C.4 row 4: ns not exposed");
    t.nodata("testns.svc.cluster.local.", A).why("C.4 row 3");
    t.nx("2.1.0.10.in-addr.arpa.", PTR).why("C.9 namespace filter applies to PTR");
    t.nx("2.1.0.172.in-addr.arpa.", PTR).why("C.9 namespace filter applies to endpoint PTR");
    t.ok("1.0.0.10.in-addr.arpa.", PTR, &["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."]);
    t.ok("cluster.local.", NS, &["cluster.local. 5 IN NS ns.dns.cluster.local."])
        .additional(&["ns.dns.cluster.local. 5 IN A 127.0.0.1"])
        .why("C.13 filter does not apply to apex NS");
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn labels_table() -> Table {
    let mut t = Table::new("labels filter", &corefile(&["labels env=prod"]), 5, ZONES);
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t.ok("_http._tcp.svc1.testns.svc.cluster.local.", SRV, &["_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."])
        .additional(&["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t.ok("hdls1.testns.svc.cluster.local.", A, &[
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2",
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4",
        "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5",
    ]);
    t.nx("multiport.testns.svc.cluster.local.", A).why("C.14 service without the label");
    t.nx("svc2.testns2.svc.cluster.local.", A).why("C.14 service with env=dev");
    t.nx("ext.testns.svc.cluster.local.", CNAME).why("C.14 service without labels");
    t.nx("kubernetes.default.svc.cluster.local.", A).why("C.14");
    t.nx("3.0.0.10.in-addr.arpa.", PTR).why("C.14 filtered service has no PTR");
    t.ok("1.0.0.10.in-addr.arpa.", PTR, &["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."]);
    t.ok("1.0.0.172.in-addr.arpa.", PTR, &["1.0.0.172.in-addr.arpa. 5 IN PTR ep1a.svc1.testns.svc.cluster.local."])
        .why("C.14 the multiport endpoint PTR is filtered out");
    t.nodata("testns.svc.cluster.local.", A).why("namespace still exists");
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn ignore_empty_table() -> Table {
    let mut t = Table::new(
        "ignore empty_service",
        &corefile(&["ignore empty_service"]),
        5,
        ZONES,
    );
    t.nx("svcempty.testns.svc.cluster.local.", A).why("C.14 no endpoints");
    t.nx("svcempty.testns.svc.cluster.local.", AAAA).why("C.14");
    t.nx("svcunready.testns.svc.cluster.local.", A).why("C.14 no ready endpoints");
    t.nx("_http._tcp.svcempty.testns.svc.cluster.local.", SRV).why("C.14");
    t.nx("dual.testns.svc.cluster.local.", A).why("C.14 dual has no EndpointSlice");
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t.ok("multiport.testns.svc.cluster.local.", A, &["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.3"]);
    t.ok("hdlspnr.testns.svc.cluster.local.", A, &["hdlspnr.testns.svc.cluster.local. 5 IN A 172.0.2.1"])
        .why("C.14 headless exempt");
    t.nx("hdlsnone.testns.svc.cluster.local.", A).why("A.10");
    t.ok("ext.testns.svc.cluster.local.", CNAME, &["ext.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."])
        .why("C.14 ExternalName exempt");
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn noendpoints_table() -> Table {
    let mut t = Table::new("noendpoints", &corefile(&["noendpoints"]), 5, ZONES);
    t.nx("hdls1.testns.svc.cluster.local.", A).why("C.14 headless NXDOMAIN");
    t.nx("hdlspnr.testns.svc.cluster.local.", A).why("C.14");
    t.nx("dup-name.hdls1.testns.svc.cluster.local.", A).why("C.14 endpoint names");
    t.nx("ep1a.svc1.testns.svc.cluster.local.", A).why("C.14 endpoint names");
    t.nx("_http._tcp.hdls1.testns.svc.cluster.local.", SRV).why("C.14");
    t.nx("2.0.0.172.in-addr.arpa.", PTR).why("no endpoint PTR without endpoints");
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t.ok("_http._tcp.svc1.testns.svc.cluster.local.", SRV, &["_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."])
        .additional(&["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t.ok("1.0.0.10.in-addr.arpa.", PTR, &["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."]);
    t.ok("ext.testns.svc.cluster.local.", CNAME, &["ext.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."]);
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn endpoint_pod_names_table() -> Table {
    let mut t = Table::new(
        "endpoint_pod_names",
        &corefile(&["endpoint_pod_names"]),
        5,
        ZONES,
    );
    let l63 = long63();
    t.ok("svc1-pod-b.svc1.testns.svc.cluster.local.", A, &["svc1-pod-b.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.11"])
        .why("C.6 targetRef pod name");
    t.nx("172-0-0-11.svc1.testns.svc.cluster.local.", A).why("C.6 the pod name replaces the dashed IP");
    t.ok("ep1a.svc1.testns.svc.cluster.local.", A, &["ep1a.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.1"])
        .why("C.6 hostname wins");
    t.nx("svc1-pod-a.svc1.testns.svc.cluster.local.", A).why("C.6 hostname wins over pod name");
    t.ok("172-0-0-12.svc1.testns.svc.cluster.local.", A, &["172-0-0-12.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.12"])
        .why("C.6 64-char pod name falls back to the dashed IP");
    let q63 = format!("{l63}.svc1.testns.svc.cluster.local.");
    t.ok(&q63, A, &[format!("{q63} 5 IN A 172.0.0.14")]).why("C.6 63-char pod name is used");
    t.ok("11.0.0.172.in-addr.arpa.", PTR, &["11.0.0.172.in-addr.arpa. 5 IN PTR svc1-pod-b.svc1.testns.svc.cluster.local."]);
    t.ok("12.0.0.172.in-addr.arpa.", PTR, &["12.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-12.svc1.testns.svc.cluster.local."]);
    t.ok("hdls1-pod-2.hdls1.testns.svc.cluster.local.", A, &["hdls1-pod-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2"]);
    let h1 = hdls1_srv("_http._tcp.hdls1.testns.svc.cluster.local.", 5, "hdls1-pod-2");
    t.ok("_http._tcp.hdls1.testns.svc.cluster.local.", SRV, &h1)
        .additional(&hdls1_srv_extra(5, "hdls1-pod-2"))
        .why("C.6 SRV targets use pod names");
    t.ok("5678-abcd--1.hdls1.testns.svc.cluster.local.", AAAA, &["5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1"])
        .why("C.6 no targetRef: dashed IP");
    // Make sure the 64-char name is not served under any spelling.
    let q64 = format!("{}.svc1.testns.svc.cluster.local.", &long64()[..63]);
    t.nx(&q64, A).why("C.6 a too-long pod name is not truncated");
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn ttl_table() -> Table {
    let mut t = Table::new("ttl 3600", &corefile(&["ttl 3600"]), 3600, ZONES);
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 3600 IN A 10.0.0.1"])
        .why("C.1");
    t.nx("nosvc.testns.svc.cluster.local.", A).why("C.2 SOA TTL min(ttl, 300), minimum = ttl");
    t.nodata("svc1.testns.svc.cluster.local.", AAAA).why("C.2");
    t.ok("cluster.local.", SOA, &[soa("cluster.local.", 3600)]).why("C.2");
    t.ok("dns-version.cluster.local.", TXT, &["dns-version.cluster.local. 28800 IN TXT 1.1.0"])
        .why("C.1 dns-version keeps 28800");
    t.ok("cluster.local.", NS, &["cluster.local. 3600 IN NS ns.dns.cluster.local."])
        .additional(&["ns.dns.cluster.local. 3600 IN A 127.0.0.1"]);
    t.ok("_http._tcp.svc1.testns.svc.cluster.local.", SRV, &["_http._tcp.svc1.testns.svc.cluster.local. 3600 IN SRV 0 100 80 svc1.testns.svc.cluster.local."])
        .additional(&["svc1.testns.svc.cluster.local. 3600 IN A 10.0.0.1"]);
    t.ok("hdlspnr.testns.svc.cluster.local.", A, &["hdlspnr.testns.svc.cluster.local. 3600 IN A 172.0.2.1"]);
    t.ok("ext.testns.svc.cluster.local.", CNAME, &["ext.testns.svc.cluster.local. 3600 IN CNAME ext.interwebs.test."])
        .why("C.10 CNAME TTL = plugin ttl");
    t.ok("1.0.0.10.in-addr.arpa.", PTR, &["1.0.0.10.in-addr.arpa. 3600 IN PTR svc1.testns.svc.cluster.local."]);
    t.nx("99.0.0.10.in-addr.arpa.", PTR);
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn ttl_zero_table() -> Table {
    let mut t = Table::new("ttl 0", &corefile(&["ttl 0"]), 0, ZONES);
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 0 IN A 10.0.0.1"])
        .why("C.1 ttl 0 is allowed");
    t.nx("nosvc.testns.svc.cluster.local.", A).why("C.2 SOA TTL and minimum 0");
    t
}

#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn cidr_table() -> Table {
    let zones = &["cluster.local.", "0.0.10.in-addr.arpa."];
    let mut t = Table::new(
        "CIDR reverse zone",
        &corefile_with("cluster.local 10.0.0.0/24", "127.0.0.1", &[]),
        5,
        zones,
    );
    t.ok("1.0.0.10.in-addr.arpa.", PTR, &["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."])
        .why("C.9 CIDR zone");
    t.ok("10.0.0.10.in-addr.arpa.", PTR, &["10.0.0.10.in-addr.arpa. 5 IN PTR kube-dns.kube-system.svc.cluster.local."]);
    t.nx("99.0.0.10.in-addr.arpa.", PTR).why("C.4 SOA of the CIDR zone");
    t.nx("1.0.0.10.in-addr.arpa.", A).why("C.4 forward type in a reverse zone");
    t.ok("0.0.10.in-addr.arpa.", SOA, &[soa("0.0.10.in-addr.arpa.", 5)]);
    t.refused("2.0.0.172.in-addr.arpa.", PTR).why("outside the CIDR zone");
    t.refused("2.1.0.10.in-addr.arpa.", PTR).why("10.0.1.2 is outside 10.0.0.0/24");
    t.refused(R6_DUAL, PTR).why("ip6.arpa not served");
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t
}

/// The server's own address is an endpoint of kube-dns (127.0.0.53 in the fixture): the NS
/// target is that Service (checklist C.3).
#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn ns_self_table() -> Table {
    let mut t = Table::new(
        "NS is the kube-dns Service",
        &corefile_with("cluster.local in-addr.arpa ip6.arpa", "127.0.0.53", &[]),
        5,
        ZONES,
    );
    t.ok("cluster.local.", NS, &["cluster.local. 5 IN NS kube-dns.kube-system.svc.cluster.local."])
        .additional(&["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.0.0.10"])
        .why("C.3 NS target = the Service whose endpoint is the server");
    t.ok("cluster.local.", SOA, &[soa("cluster.local.", 5)]).why("C.2 mname stays ns.dns");
    t.ok("ns.dns.cluster.local.", A, &["ns.dns.cluster.local. 5 IN A 10.0.0.10"])
        .why("C.3 ns.dns has the kube-dns ClusterIP, as CoreDNS's nsAddrs");
    t.nodata("ns.dns.cluster.local.", AAAA).why("kube-dns is IPv4 only");
    t.ok("svc1.testns.svc.cluster.local.", A, &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]);
    t
}

/// The server's own address is an endpoint of the dual-stack `dns6` (127.0.0.54): the NS glue
/// and `ns.dns.<zone>` carry both of its ClusterIPs.
#[rustfmt::skip] // one case per line, like CoreDNS's tables
fn ns_self_dual_table() -> Table {
    let mut t = Table::new(
        "NS is a dual-stack Service",
        &corefile_with("cluster.local in-addr.arpa ip6.arpa", "127.0.0.54", &[]),
        5,
        ZONES,
    );
    t.ok("cluster.local.", NS, &["cluster.local. 5 IN NS dns6.kube-system.svc.cluster.local."])
        .additional(&[
            "dns6.kube-system.svc.cluster.local. 5 IN A 10.0.0.53",
            "dns6.kube-system.svc.cluster.local. 5 IN AAAA fd00:10::53",
        ])
        .why("C.3 glue = both ClusterIPs");
    t.ok("ns.dns.cluster.local.", A, &["ns.dns.cluster.local. 5 IN A 10.0.0.53"]).why("C.3");
    t.ok("ns.dns.cluster.local.", AAAA, &["ns.dns.cluster.local. 5 IN AAAA fd00:10::53"]).why("C.3 both families");
    t
}

// ------------------------------------------------------------------------------------------------

#[test]
fn default_options() {
    default_table().run();
}

#[test]
fn pods_insecure() {
    pods_insecure_table().run();
}

#[test]
fn pods_verified() {
    pods_verified_table().run();
}

#[test]
fn namespaces_filter() {
    namespaces_table().run();
}

#[test]
fn labels_filter() {
    labels_table().run();
}

#[test]
fn ignore_empty_service() {
    ignore_empty_table().run();
}

#[test]
fn noendpoints() {
    noendpoints_table().run();
}

#[test]
fn endpoint_pod_names() {
    endpoint_pod_names_table().run();
}

#[test]
fn ttl() {
    ttl_table().run();
}

#[test]
fn ttl_zero() {
    ttl_zero_table().run();
}

#[test]
fn cidr_reverse_zone() {
    cidr_table().run();
}

#[test]
fn ns_is_kube_dns_service() {
    ns_self_table().run();
}

#[test]
fn ns_is_a_dual_stack_service() {
    ns_self_dual_table().run();
}

/// The tables themselves: enough cases, and no case listed twice in a table.
#[test]
fn tables_are_well_formed() {
    let tables = [
        default_table(),
        pods_insecure_table(),
        pods_verified_table(),
        namespaces_table(),
        labels_table(),
        ignore_empty_table(),
        noendpoints_table(),
        endpoint_pod_names_table(),
        ttl_table(),
        ttl_zero_table(),
        cidr_table(),
        ns_self_table(),
        ns_self_dual_table(),
    ];
    let mut total = 0;
    for t in &tables {
        let mut seen = std::collections::BTreeSet::new();
        for c in &t.cases {
            let key = (c.qname.clone(), c.qtype);
            assert!(
                seen.insert(key),
                "[{}] duplicate case {} {}",
                t.name,
                c.qname,
                c.qtype
            );
            assert!(!c.expected.is_empty());
        }
        eprintln!("table {:<28} {:>4} cases", t.name, t.cases.len());
        total += t.cases.len();
    }
    eprintln!("total {total} cases");
    assert!(total >= 100, "only {total} cases");
}

/// Negative control: the harness reports a wrong address, a wrong owner spelling, a wrong TTL
/// and a wrong rcode as mismatches (so a passing table means the server matched).
#[test]
fn harness_rejects_wrong_expectations() {
    let mut t = Table::new("negative control", &corefile(&[]), 5, ZONES);
    t.ok(
        "svc1.testns.svc.cluster.local.",
        A,
        &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.2"],
    );
    t.ok(
        "SVC1.testns.svc.cluster.local.",
        A,
        &["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
    );
    t.ok(
        "svc1.testns.svc.cluster.local.",
        A,
        &["svc1.testns.svc.cluster.local. 6 IN A 10.0.0.1"],
    );
    t.nx("svc1.testns.svc.cluster.local.", A);
    t.nodata("nosvc.testns.svc.cluster.local.", A);
    let server = common::start(&t.corefile);
    for case in &t.cases {
        for tr in common::TRANSPORTS {
            assert!(
                common::table::check(server.addr, tr, case).is_err(),
                "{} {} over {tr:?} should not match {:?}",
                case.qname,
                case.qtype,
                case.expected
            );
        }
    }
}
