use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::{search_list, AutopathConfig, SearchSource};
use crate::cluster::model::ClusterState;
use crate::dns::Transport;
use crate::plugin::test_support::{
    exchange_from, options, query, response_to, serve_state, Server, Upstream, TRANSPORTS,
};

fn names(zs: &[&str]) -> Vec<Name> {
    zs.iter().map(|z| Name::from_ascii(z).expect("a test name")).collect()
}

/// The machine's own search list, which `@kubernetes` appends.
fn host_search() -> Vec<Name> {
    search_list(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
}

#[test]
#[rustfmt::skip] // one case per line
fn options_table() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&resolv, "nameserver 10.0.0.10\nsearch Default.svc.cluster.local svc.cluster.local # x\n")
        .expect("write resolv.conf");
    let resolv = resolv.to_string_lossy().to_string();
    let k8s = || SearchSource::Kubernetes { host: host_search() };
    let cases: Vec<(String, Result<AutopathConfig, String>)> = vec![
        (".:53 {\n  autopath @kubernetes\n}".into(),
         Ok(AutopathConfig { zones: names(&["."]), source: k8s() })),
        ("cluster.local:53 example.org:53 {\n  autopath @kubernetes\n}".into(),
         Ok(AutopathConfig { zones: names(&["cluster.local.", "example.org."]), source: k8s() })),
        (".:53 {\n  autopath cluster.local 10.0.0.0/24 @kubernetes\n}".into(),
         Ok(AutopathConfig { zones: names(&["cluster.local.", "0.0.10.in-addr.arpa."]), source: k8s() })),
        (format!(".:53 {{\n  autopath {resolv}\n}}"),
         Ok(AutopathConfig {
             zones: names(&["."]),
             source: SearchSource::File {
                 path: resolv.clone(),
                 search: names(&["default.svc.cluster.local.", "svc.cluster.local."]),
             },
         })),
        (".:53 {\n  autopath\n}".into(),
         Err("Corefile:2: `autopath` takes at least 1 argument (`autopath [ZONE...] RESOLV-CONF`), got 0".into())),
        (".:53 {\n  autopath @etcd\n}".into(),
         Err("Corefile:2: autopath: `@etcd` gives no search path: only `@kubernetes` does".into())),
        (".:53 {\n  autopath @kubernetes {\n  }\n}".into(),
         Err("Corefile:2: unexpected `{` after `autopath` in the server block: this takes no block".into())),
    ];
    for (corefile, want) in cases {
        assert_eq!(options::<AutopathConfig>(&corefile), want, "{corefile}");
    }
    let missing = options::<AutopathConfig>(".:53 {\n  autopath /nonexistent/resolv.conf\n}")
        .expect_err("a resolv.conf that cannot be read");
    assert!(missing.starts_with("Corefile:2: autopath: cannot read `/nonexistent/resolv.conf`"), "{missing}");
}

#[test]
fn search_lists_are_the_last_search_or_domain_line() {
    assert_eq!(
        search_list("domain a.test\nsearch B.test c.test\n; search d.test\n"),
        names(&["b.test.", "c.test."])
    );
    assert_eq!(search_list("search x.test\ndomain y.test\n"), names(&["y.test."]));
    assert_eq!(search_list("nameserver 10.0.0.1\n"), Vec::<Name>::new());
}

/// The pod of namespace `default` that asks.
const POD: &str = "127.0.0.21";
/// A pod of namespace `testns`.
const OTHER_POD: &str = "127.0.0.22";
/// An address no pod has.
const NO_POD: &str = "127.0.0.23";

fn pod(ns: &str, name: &str, ip: &str) -> String {
    format!(
        "  - apiVersion: v1\n    kind: Pod\n    metadata: {{name: {name}, namespace: {ns}}}\n    \
         status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}]}}\n"
    )
}

/// Namespaces `default` and `testns`, the `kubernetes` service (10.0.0.100) and two pods.
fn state() -> ClusterState {
    let mut yaml = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for ns in ["default", "testns"] {
        yaml += &format!("  - apiVersion: v1\n    kind: Namespace\n    metadata: {{name: {ns}}}\n");
    }
    yaml += "  - apiVersion: v1\n    kind: Service\n    metadata: {name: kubernetes, namespace: default}\n    \
             spec: {type: ClusterIP, clusterIP: 10.0.0.100, clusterIPs: [10.0.0.100], \
             ports: [{name: https, port: 443, protocol: TCP}]}\n";
    yaml += &pod("default", "client", POD);
    yaml += &pod("testns", "web", OTHER_POD);
    match crate::source::file::parse_dump(&yaml, "test state") {
        Ok(dump) => dump.state,
        Err(e) => panic!("the test state does not load: {e}\n{yaml}"),
    }
}

/// `example.org.` A 192.0.2.7; NXDOMAIN for anything else.
fn upstream() -> Upstream {
    Upstream::start(|q| {
        let mut m = response_to(q);
        if q.queries[0].name().to_ascii().eq_ignore_ascii_case("example.org.") {
            let a = hickory_proto::rr::rdata::A::new(192, 0, 2, 7);
            let name = q.queries[0].name().clone();
            m.answers.push(Record::from_rdata(name, 300, RData::A(a)));
        } else {
            m.metadata.response_code = ResponseCode::NXDomain;
        }
        m
    })
}

/// A server with `autopath` (its `arguments`), `kubernetes` with `pods`, and `forward` to
/// `upstream`; `before` goes first in the block (`cache`).
fn server(arguments: &str, pods: &str, before: &str, upstream: &Upstream) -> Server {
    let corefile = format!(
        ".:0 {{\n  bind 127.0.0.1\n  {before}\n  autopath {arguments}\n  \
         kubernetes cluster.local {{\n    {pods}\n  }}\n  forward . {}\n}}\n",
        upstream.addr
    );
    serve_state(&corefile, state())
}

/// The answer to `name` A from `source`, over `transport`: its rcode and records as zone-file
/// lines.
fn ask_as(server: &Server, source: &str, t: Transport, name: &str) -> (ResponseCode, Vec<String>) {
    let source: IpAddr = source.parse().expect("a test address");
    let m = query(name, RecordType::A);
    let reply: Message = exchange_from(source, server.addr, t, &m, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("{t:?} {name} from {source}: {e}"));
    assert_eq!(reply.queries[0].name().to_ascii(), name, "the question as asked");
    let records = reply.answers.iter().map(|r| r.to_string()).collect();
    (reply.metadata.response_code, records)
}

fn found(records: &[&str]) -> (ResponseCode, Vec<String>) {
    (
        ResponseCode::NoError,
        records.iter().map(|r| r.to_string()).collect(),
    )
}

fn nxdomain() -> (ResponseCode, Vec<String>) {
    (ResponseCode::NXDomain, Vec::new())
}

const KUBERNETES_FIRST_TRY: &str = "kubernetes.default.default.svc.cluster.local.";
const KUBERNETES_FOUND: [&str; 2] = [
    "kubernetes.default.default.svc.cluster.local. 5 IN CNAME kubernetes.default.svc.cluster.local.",
    "kubernetes.default.svc.cluster.local. 5 IN A 10.0.0.100",
];

#[test]
fn a_pods_first_search_try_is_answered_with_the_name_found_in_the_cluster() {
    let up = upstream();
    let server = server("@kubernetes", "pods verified", "", &up);
    for t in TRANSPORTS {
        assert_eq!(ask_as(&server, POD, t, KUBERNETES_FIRST_TRY), found(&KUBERNETES_FOUND), "{t:?}");
        // Found at the first try: no CNAME.
        let direct = "kubernetes.default.svc.cluster.local.";
        assert_eq!(
            ask_as(&server, POD, t, direct),
            found(&["kubernetes.default.svc.cluster.local. 5 IN A 10.0.0.100"]),
            "{t:?}"
        );
        // Nothing anywhere: the first try's NXDOMAIN.
        assert_eq!(ask_as(&server, POD, t, "nothere.default.svc.cluster.local."), nxdomain(), "{t:?}");
    }
    let metrics = server.metrics();
    let line = r#"coredns_autopath_success_total{server="dns://127.0.0.1:0",view=""} 4"#;
    assert!(metrics.contains(line), "{line} in\n{metrics}");
}

#[test]
fn an_external_name_is_found_through_forward() {
    let up = upstream();
    let server = server("@kubernetes", "pods verified", "", &up);
    for t in TRANSPORTS {
        assert_eq!(
            ask_as(&server, POD, t, "example.org.default.svc.cluster.local."),
            found(&[
                "example.org.default.svc.cluster.local. 300 IN CNAME example.org.",
                "example.org. 300 IN A 192.0.2.7",
            ]),
            "{t:?}"
        );
    }
}

#[test]
fn a_resolv_conf_search_path_is_walked_for_every_client_through_the_upstream() {
    let up = upstream();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let resolv = dir.path().join("resolv.conf");
    let search = "search default.svc.cluster.local svc.cluster.local corp.test cluster.local\n";
    std::fs::write(&resolv, search).expect("write resolv.conf");
    let server = server(&resolv.to_string_lossy(), "pods disabled", "", &up);
    for t in TRANSPORTS {
        assert_eq!(ask_as(&server, NO_POD, t, KUBERNETES_FIRST_TRY), found(&KUBERNETES_FOUND), "{t:?}");
        // `example.org.corp.test.` goes upstream (NXDOMAIN), then `example.org.` does.
        assert_eq!(
            ask_as(&server, NO_POD, t, "example.org.default.svc.cluster.local."),
            found(&[
                "example.org.default.svc.cluster.local. 300 IN CNAME example.org.",
                "example.org. 300 IN A 192.0.2.7",
            ]),
            "{t:?}"
        );
    }
}

#[test]
fn clients_that_are_no_pod_of_the_namespace_get_the_plain_answer() {
    let up = upstream();
    let server = server("@kubernetes", "pods verified", "", &up);
    for t in TRANSPORTS {
        assert_eq!(ask_as(&server, NO_POD, t, KUBERNETES_FIRST_TRY), nxdomain(), "{t:?}");
        assert_eq!(ask_as(&server, OTHER_POD, t, KUBERNETES_FIRST_TRY), nxdomain(), "{t:?}");
    }
    let metrics = server.metrics();
    let line = r#"coredns_autopath_success_total{server="dns://127.0.0.1:0",view=""} 0"#;
    assert!(metrics.contains(line), "{line} in\n{metrics}");
}

#[test]
fn without_verified_pods_there_is_no_autopath() {
    let up = upstream();
    for pods in ["pods insecure", "pods disabled"] {
        let server = server("@kubernetes", pods, "", &up);
        for t in TRANSPORTS {
            assert_eq!(ask_as(&server, POD, t, KUBERNETES_FIRST_TRY), nxdomain(), "{pods} {t:?}");
        }
    }
}

#[test]
fn answers_for_one_client_are_not_given_to_another_asking_the_same() {
    let up = upstream();
    for before in ["", "cache 30"] {
        let server = server("@kubernetes", "pods verified", before, &up);
        for t in TRANSPORTS {
            for _ in 0..2 {
                let pod = ask_as(&server, POD, t, KUBERNETES_FIRST_TRY);
                assert_eq!(pod, found(&KUBERNETES_FOUND), "{before} {t:?}");
                let other = ask_as(&server, OTHER_POD, t, KUBERNETES_FIRST_TRY);
                assert_eq!(other, nxdomain(), "{before} {t:?}");
                let none = ask_as(&server, NO_POD, t, KUBERNETES_FIRST_TRY);
                assert_eq!(none, nxdomain(), "{before} {t:?}");
            }
        }
    }
}
