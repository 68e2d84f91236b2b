use super::*;
use crate::doctor::api::ApiOutcome;
use crate::doctor::dns::DnsOutcome;
use crate::doctor::report::{ApiSection, DnsSection};
use crate::doctor::target::{AddressOrigin, DnsOrigin};
use crate::doctor::verdict::verdict;

#[test]
fn wrap_keeps_lines_short_and_words_whole() {
    let text = "word ".repeat(60);
    let wrapped = wrap(&text, "", "  ");
    assert!(wrapped.lines().count() > 2);
    for (i, l) in wrapped.lines().enumerate() {
        assert!(l.chars().count() <= WIDTH, "{l}");
        assert_eq!(l.starts_with("  "), i > 0, "{l:?}");
        assert!(!l.trim().is_empty());
    }
    assert_eq!(wrap("short text", "", "  "), "short text");
    assert_eq!(wrap("short text", "    ", "  "), "    short text");
    let long = "x".repeat(WIDTH + 10);
    assert_eq!(
        wrap(&format!("a {long} b"), "", ""),
        format!("a\n{long}\nb")
    );
}

#[test]
fn one_line_per_check_then_the_verdict() {
    let configured = ApiCheck {
        url: "https://10.96.0.1:443".into(),
        host: "10.96.0.1".into(),
        port: 443,
        origin: AddressOrigin::InCluster,
        outcome: ApiOutcome::ConnectTimeout,
        http_status: None,
        version: None,
        error: Some("TCP connect to 10.96.0.1:443 timed out after 2s".into()),
        latency_ms: 2001.4,
    };
    let endpoint = ApiCheck {
        url: "https://192.168.1.10:6443".into(),
        host: "192.168.1.10".into(),
        port: 6443,
        origin: AddressOrigin::Status,
        outcome: ApiOutcome::Ok,
        http_status: Some(200),
        version: Some("v1.33.1".into()),
        error: None,
        latency_ms: 3.2,
    };
    let api = ApiSection {
        configured: Some(configured),
        skipped: None,
        endpoints: vec![endpoint],
        endpoints_note: Some(
            "API server endpoints not listed: no API address answered to list them from".into(),
        ),
    };
    let dns = DnsSection {
        server: Some("10.96.0.10:53".into()),
        origin: Some(DnsOrigin::ResolvConf),
        skipped: None,
        queries: vec![DnsCheck {
            name: "kubernetes.default.svc.cluster.local.".into(),
            outcome: DnsOutcome::Ok,
            rcode: Some("NOERROR".into()),
            answers: vec!["10.96.0.1".into()],
            transport: Some("udp".into()),
            error: None,
            latency_ms: 0.8,
        }],
    };
    let status = StatusCheck {
        url: "http://10.96.0.10:8080/status".into(),
        outcome: StatusOutcome::NotAvailable,
        error: Some("404: this Cairn does not serve /status".into()),
        status: None,
        latency_ms: 1.0,
    };
    let v = verdict(&api, &dns, Some(&status));
    let report = Report {
        api,
        dns,
        status: Some(status),
        verdict: v,
    };
    let text = human(&report);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("✗ api       https://10.96.0.1:443 (in-cluster)"),
        "{text}"
    );
    assert!(lines[0].ends_with("times out  2001 ms"), "{text}");
    assert!(
        lines[1].starts_with("✓ endpoint  https://192.168.1.10:6443 (from Cairn's /status)"),
        "{text}"
    );
    assert!(lines[1].contains("/version 200 (v1.33.1)"), "{text}");
    assert!(lines[2].starts_with("– endpoints"), "{text}");
    assert!(
        lines[3].starts_with("✓ dns       kubernetes.default.svc.cluster.local A @10.96.0.10:53"),
        "{text}"
    );
    assert!(lines[3].contains("NOERROR 10.96.0.1"), "{text}");
    assert!(lines[4].starts_with("– status"), "{text}");
    assert!(lines[4].contains("not available (404"), "{text}");
    assert_eq!(lines[5], "");
    assert!(
        lines[6].starts_with("Verdict: The Service VIP 10.96.0.1:443 times out"),
        "{text}"
    );
}

#[test]
fn the_node_local_line_names_what_is_missing() {
    use crate::status::{NodeLocalAddress, NodeLocalRepair, NodeLocalStatus};
    let mut n = NodeLocalStatus {
        interface: "cairn0".into(),
        kind: Some("bridge".into()),
        interface_present: true,
        addresses: vec![
            NodeLocalAddress {
                address: "169.254.20.10".into(),
                present: true,
            },
            NodeLocalAddress {
                address: "10.96.0.10".into(),
                present: false,
            },
        ],
        table: "inet cairn".into(),
        rules_present: true,
        local_queries: 42,
        last_repair: Some(NodeLocalRepair {
            what: "rules".into(),
            age_seconds: 3.0,
        }),
        ..NodeLocalStatus::default()
    };
    let mut out = String::new();
    node_local_line(&mut out, &n);
    assert!(out.starts_with('✗'), "{out}");
    for want in [
        "cairn0 (bridge)",
        "10.96.0.10 missing",
        "table inet cairn present",
        "42 local queries",
        "last repair: rules 3 s ago",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    n.addresses[1].present = true;
    let mut out = String::new();
    node_local_line(&mut out, &n);
    assert!(out.starts_with('✓'), "{out}");
}
