//! One test per verdict, over hand-made check results.

use super::*;
use crate::doctor::dns::{DnsCheck, DnsOutcome};
use crate::doctor::status::StatusOutcome;
use crate::doctor::target::{AddressOrigin, DnsOrigin};
use crate::status::{ApiStatus, DataStatus, EndpointOrigin, EndpointStatus};

fn api(url: &str, origin: AddressOrigin, outcome: ApiOutcome) -> ApiCheck {
    let uri: http::Uri = url.parse().unwrap();
    ApiCheck {
        url: url.to_string(),
        host: uri.host().unwrap().to_string(),
        port: uri.port_u16().unwrap(),
        origin,
        outcome,
        http_status: match outcome {
            ApiOutcome::Ok => Some(200),
            ApiOutcome::Credentials => Some(401),
            _ => None,
        },
        version: (outcome == ApiOutcome::Ok).then(|| "v1.33.1".to_string()),
        error: match outcome {
            ApiOutcome::Tls => Some("invalid peer certificate: UnknownIssuer".into()),
            ApiOutcome::Credentials => Some("Unauthorized".into()),
            _ => None,
        },
        latency_ms: 1.0,
    }
}

fn vip(outcome: ApiOutcome) -> ApiCheck {
    api("https://10.96.0.1:443", AddressOrigin::InCluster, outcome)
}

fn server(n: u8, outcome: ApiOutcome) -> ApiCheck {
    api(
        &format!("https://192.168.1.1{n}:6443"),
        AddressOrigin::EndpointSlice,
        outcome,
    )
}

fn section(configured: Option<ApiCheck>, endpoints: Vec<ApiCheck>) -> ApiSection {
    ApiSection {
        skipped: configured
            .is_none()
            .then(|| "no --kubeconfig and not running in a cluster".to_string()),
        configured,
        endpoints,
        endpoints_note: None,
    }
}

fn query(outcome: DnsOutcome) -> DnsCheck {
    DnsCheck {
        name: "kubernetes.default.svc.cluster.local.".into(),
        outcome,
        rcode: None,
        answers: if outcome == DnsOutcome::Ok {
            vec!["10.96.0.1".into()]
        } else {
            vec![]
        },
        transport: Some("udp".into()),
        error: None,
        latency_ms: 1.0,
    }
}

fn dns(outcomes: &[DnsOutcome]) -> DnsSection {
    DnsSection {
        server: Some("10.96.0.10:53".into()),
        origin: Some(DnsOrigin::ResolvConf),
        skipped: None,
        queries: outcomes.iter().map(|o| query(*o)).collect(),
    }
}

fn no_dns() -> DnsSection {
    DnsSection {
        skipped: Some("no --dns and no `nameserver` in /etc/resolv.conf".into()),
        ..DnsSection::default()
    }
}

fn cairn(active: Option<&str>, staleness: f64) -> StatusCheck {
    StatusCheck {
        url: "http://10.96.0.10:8080/status".into(),
        outcome: StatusOutcome::Ok,
        error: None,
        status: Some(Status {
            live: true,
            ready: true,
            api: Some(ApiStatus {
                active: active.map(str::to_string),
                failovers: 0,
                endpoints: vec![EndpointStatus {
                    url: "https://10.96.0.1:443".into(),
                    origin: EndpointOrigin::Configured,
                    healthy: active.is_some(),
                    active: active.is_some(),
                    last_success_age_seconds: None,
                    last_error: active
                        .is_none()
                        .then(|| "connect timed out after 2s".to_string()),
                    latency_ms: None,
                    consecutive_failures: 3,
                }],
            }),
            data: DataStatus {
                source: "api".into(),
                synced: true,
                staleness_seconds: staleness,
                ..DataStatus::default()
            },
            ..Status::default()
        }),
        latency_ms: 1.0,
    }
}

fn assert_mentions(v: &Verdict, words: &[&str]) {
    for w in words {
        assert!(v.text.contains(w), "verdict lacks `{w}`:\n{}", v.text);
    }
}

#[test]
fn everything_healthy() {
    let v = verdict(
        &section(Some(vip(ApiOutcome::Ok)), vec![server(0, ApiOutcome::Ok)]),
        &dns(&[DnsOutcome::Ok]),
        Some(&cairn(Some("https://10.96.0.1:443"), 0.0)),
    );
    assert_eq!((v.broken_hop, v.exit_code), (BrokenHop::None, 0));
    assert_mentions(
        &v,
        &[
            "10.96.0.1:443",
            "v1.33.1",
            "1 API server endpoint",
            "10.96.0.10:53",
        ],
    );
}

#[test]
fn a_black_holed_service_vip_with_a_live_api_server() {
    let v = verdict(
        &section(
            Some(vip(ApiOutcome::ConnectTimeout)),
            vec![server(0, ApiOutcome::Ok)],
        ),
        &dns(&[DnsOutcome::Ok]),
        None,
    );
    assert_eq!((v.broken_hop, v.exit_code), (BrokenHop::ServiceVip, 1));
    assert_eq!(
        v.text,
        "The Service VIP 10.96.0.1:443 times out, while API server 192.168.1.10:6443 answers: the \
         service proxy (kube-proxy, kube-router or the CNI) is not forwarding ClusterIP traffic \
         on this node. Workaround: point clients at the API server directly \
         (KUBERNETES_SERVICE_HOST=192.168.1.10 KUBERNETES_SERVICE_PORT=6443); Cairn fails over \
         on its own."
    );
}

#[test]
fn a_refused_kubeconfig_address_with_a_live_api_server() {
    let configured = api(
        "http://127.0.0.2:4000",
        AddressOrigin::Kubeconfig,
        ApiOutcome::ConnectRefused,
    );
    let endpoint = api("http://127.0.0.3:5000", AddressOrigin::Flag, ApiOutcome::Ok);
    let v = verdict(&section(Some(configured), vec![endpoint]), &no_dns(), None);
    assert_eq!(v.broken_hop, BrokenHop::ServiceVip);
    assert_mentions(
        &v,
        &[
            "127.0.0.2:4000 refuses connections",
            "API server 127.0.0.3:5000 answers",
            "KUBERNETES_SERVICE_HOST=127.0.0.3 KUBERNETES_SERVICE_PORT=5000",
            "`server: http://127.0.0.3:5000`",
        ],
    );
}

#[test]
fn every_api_address_failing_is_the_api_server() {
    let v = verdict(
        &section(
            Some(vip(ApiOutcome::ConnectTimeout)),
            vec![
                server(0, ApiOutcome::ConnectRefused),
                server(1, ApiOutcome::ConnectTimeout),
            ],
        ),
        &dns(&[DnsOutcome::Ok]),
        Some(&cairn(None, 412.0)),
    );
    assert_eq!((v.broken_hop, v.exit_code), (BrokenHop::ApiServer, 1));
    assert_mentions(
        &v,
        &[
            "No API address answers (the Service VIP 10.96.0.1:443 times out",
            "API server 192.168.1.10:6443 refuses connections",
            "API server 192.168.1.11:6443 times out",
            "the API server itself is down or unreachable",
            "DNS keeps answering from Cairn's last-known state (data 412 s behind)",
        ],
    );
}

#[test]
fn a_failing_vip_with_no_endpoint_known_names_both_suspects() {
    let v = verdict(
        &section(Some(vip(ApiOutcome::ConnectTimeout)), vec![]),
        &dns(&[DnsOutcome::Timeout]),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::ApiServer);
    assert_mentions(&v, &["both suspects", "--endpoints", "DNS fails too"]);
}

#[test]
fn api_fine_but_dns_failing_names_the_server_and_the_failure() {
    let cases = [
        (DnsOutcome::Timeout, "does not answer"),
        (
            DnsOutcome::Refused,
            "refuses the query (ICMP port unreachable): nothing listens",
        ),
        (
            DnsOutcome::Servfail,
            "answers SERVFAIL for kubernetes.default.svc.cluster.local",
        ),
        (
            DnsOutcome::Nxdomain,
            "answers NXDOMAIN for kubernetes.default.svc.cluster.local",
        ),
    ];
    for (outcome, words) in cases {
        let v = verdict(
            &section(Some(vip(ApiOutcome::Ok)), vec![]),
            &dns(&[outcome]),
            None,
        );
        assert_eq!(v.broken_hop, BrokenHop::Dns, "{outcome:?}");
        assert_mentions(
            &v,
            &[
                "The API answers, but",
                "10.96.0.10:53 (from resolv.conf)",
                words,
            ],
        );
    }
}

#[test]
fn a_failing_service_name_is_a_dns_fault_too() {
    let v = verdict(
        &section(None, vec![]),
        &dns(&[DnsOutcome::Ok, DnsOutcome::Nxdomain]),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::Dns);
    assert!(
        v.text.starts_with("The DNS server 10.96.0.10:53"),
        "{}",
        v.text
    );
}

#[test]
fn cairn_without_a_healthy_endpoint_or_with_old_data_is_stale() {
    let api = section(Some(vip(ApiOutcome::Ok)), vec![]);
    let v = verdict(&api, &dns(&[DnsOutcome::Ok]), Some(&cairn(None, 95.0)));
    assert_eq!(v.broken_hop, BrokenHop::StaleData);
    assert_mentions(
        &v,
        &[
            "95 s behind",
            "none of its API endpoints is healthy",
            "connect timed out",
        ],
    );
    let v = verdict(
        &api,
        &dns(&[DnsOutcome::Ok]),
        Some(&cairn(Some("https://10.96.0.1:443"), STALE_AFTER_SECONDS)),
    );
    assert_eq!(v.broken_hop, BrokenHop::StaleData);
    let fresh = cairn(Some("https://10.96.0.1:443"), 3.0);
    let v = verdict(&api, &dns(&[DnsOutcome::Ok]), Some(&fresh));
    assert_eq!(v.broken_hop, BrokenHop::None);
}

#[test]
fn rejected_credentials_are_not_a_network_fault() {
    let v = verdict(
        &section(
            Some(vip(ApiOutcome::Credentials)),
            vec![server(0, ApiOutcome::Credentials)],
        ),
        &dns(&[DnsOutcome::Ok]),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::Credentials);
    assert_mentions(&v, &["HTTP 401", "not a network problem"]);
}

#[test]
fn a_tls_failure_is_its_own_hop() {
    let v = verdict(
        &section(Some(vip(ApiOutcome::Tls)), vec![]),
        &dns(&[DnsOutcome::Ok]),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::Tls);
    assert_mentions(&v, &["UnknownIssuer", "TCP connects"]);
    let v = verdict(
        &section(Some(vip(ApiOutcome::Tls)), vec![server(0, ApiOutcome::Ok)]),
        &dns(&[DnsOutcome::Ok]),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::Tls);
    assert_mentions(
        &v,
        &[
            "with the same CA",
            "does not name 10.96.0.1",
            "https://192.168.1.10:6443",
        ],
    );
    let mut plain = vip(ApiOutcome::Tls);
    plain.error = Some("received corrupt message of type InvalidContentType".into());
    let v = verdict(&section(Some(plain), vec![]), &dns(&[DnsOutcome::Ok]), None);
    assert_eq!(v.broken_hop, BrokenHop::Tls);
    assert_mentions(&v, &["does not speak TLS"]);
}

#[test]
fn one_api_server_down_among_several() {
    let v = verdict(
        &section(
            Some(vip(ApiOutcome::Ok)),
            vec![
                server(0, ApiOutcome::Ok),
                server(1, ApiOutcome::ConnectRefused),
            ],
        ),
        &dns(&[DnsOutcome::Ok]),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::ApiServer);
    assert_mentions(
        &v,
        &["API server 192.168.1.11:6443 refuses connections while 1 other answers"],
    );
}

#[test]
fn endpoints_unreachable_from_here_are_a_note_not_a_fault() {
    let kubeconfig = api(
        "https://203.0.113.5:6443",
        AddressOrigin::Kubeconfig,
        ApiOutcome::Ok,
    );
    let v = verdict(
        &section(
            Some(kubeconfig),
            vec![server(0, ApiOutcome::ConnectTimeout)],
        ),
        &no_dns(),
        None,
    );
    assert_eq!(v.broken_hop, BrokenHop::None);
    assert_mentions(
        &v,
        &["not reachable directly from here", "DNS was not checked"],
    );
}

#[test]
fn nothing_checked_is_unknown() {
    let v = verdict(&section(None, vec![]), &no_dns(), None);
    assert_eq!((v.broken_hop, v.exit_code), (BrokenHop::Unknown, 2));
    assert_mentions(&v, &["not running in a cluster", "no `nameserver`"]);
}

#[test]
fn broken_hop_codes_are_stable() {
    let codes: Vec<String> = [
        BrokenHop::None,
        BrokenHop::ServiceVip,
        BrokenHop::ApiServer,
        BrokenHop::Dns,
        BrokenHop::Credentials,
        BrokenHop::Tls,
        BrokenHop::StaleData,
        BrokenHop::NodeLocal,
        BrokenHop::Unknown,
    ]
    .iter()
    .map(|h| {
        serde_json::to_value(h)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    assert_eq!(
        codes,
        [
            "none",
            "service_vip",
            "api_server",
            "dns",
            "credentials",
            "tls",
            "stale_data",
            "node_local",
            "unknown"
        ]
    );
}

fn node_local(interface: bool, rules: bool) -> crate::status::NodeLocalStatus {
    use crate::status::{NodeLocalAddress, NodeLocalStatus};
    NodeLocalStatus {
        interface: "cairn0".into(),
        kind: Some("dummy".into()),
        interface_present: interface,
        addresses: vec![
            NodeLocalAddress {
                address: "169.254.20.10".into(),
                present: interface,
            },
            NodeLocalAddress {
                address: "10.96.0.10".into(),
                present: interface,
            },
        ],
        table: "inet cairn".into(),
        rules_present: rules,
        check_interval_seconds: 10.0,
        last_error: (!rules).then(|| "installing table inet cairn: Operation not permitted".into()),
        ..NodeLocalStatus::default()
    }
}

#[test]
fn missing_node_local_rules_are_the_broken_hop() {
    let healthy_api = section(Some(vip(ApiOutcome::Ok)), vec![server(0, ApiOutcome::Ok)]);
    let mut c = cairn(Some("https://10.96.0.1:443"), 0.0);
    c.status.as_mut().unwrap().node_local = Some(node_local(true, false));
    let v = verdict(&healthy_api, &dns(&[DnsOutcome::Ok]), Some(&c));
    assert_eq!((v.broken_hop, v.exit_code), (BrokenHop::NodeLocal, 1));
    assert_mentions(
        &v,
        &[
            "table inet cairn",
            "CAP_NET_ADMIN",
            "Operation not permitted",
            "every 10 s",
        ],
    );

    c.status.as_mut().unwrap().node_local = Some(node_local(false, true));
    let v = verdict(&healthy_api, &dns(&[DnsOutcome::Ok]), Some(&c));
    assert_eq!(v.broken_hop, BrokenHop::NodeLocal);
    assert_mentions(&v, &["the interface cairn0"]);

    c.status.as_mut().unwrap().node_local = Some(node_local(true, true));
    let v = verdict(&healthy_api, &dns(&[DnsOutcome::Ok]), Some(&c));
    assert_eq!(v.broken_hop, BrokenHop::None, "{}", v.text);
}
