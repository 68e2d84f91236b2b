use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType::{self, A, AAAA, SRV, TXT};

use crate::plugin::test_support::{ask, options, query, serve_state, Server, TRANSPORTS};
use crate::plugin::kubernetes::KubernetesConfig;

/// `prod/db`: headless, endpoints db-0 (zone us-west-2a), db-1 (us-west-2b), db-2
/// (corp.example.com), db-3 (no zone); `prod/web`: a ClusterIP Service.
fn state() -> crate::cluster::model::ClusterState {
    let yaml = r#"apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
- apiVersion: v1
  kind: Service
  metadata: {name: db, namespace: prod}
  spec: {clusterIP: None, clusterIPs: [None], ports: [{name: pg, port: 5432, protocol: TCP}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: prod}
  spec: {clusterIP: 10.96.0.80, clusterIPs: [10.96.0.80], ports: [{name: http, port: 80, protocol: TCP}]}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: db-abc, namespace: prod, labels: {kubernetes.io/service-name: db}}
  addressType: IPv4
  ports: [{name: pg, port: 5432, protocol: TCP}]
  endpoints:
  - {addresses: [10.244.1.10], hostname: db-0, zone: us-west-2a, conditions: {ready: true}}
  - {addresses: [10.244.2.11], hostname: db-1, zone: us-west-2b, conditions: {ready: true}}
  - {addresses: [10.244.3.12], hostname: db-2, zone: corp.example.com, conditions: {ready: true}}
  - {addresses: [10.244.4.13], hostname: db-3, conditions: {ready: true}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-abc, namespace: prod, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080, protocol: TCP}]
  endpoints:
  - {addresses: [10.244.1.20], zone: us-west-2a, conditions: {ready: true}}
"#;
    match crate::source::file::parse_dump(yaml, "zonal state") {
        Ok(dump) => dump.state,
        Err(e) => panic!("the test state does not load: {e}"),
    }
}

fn server(options: &str) -> Server {
    serve_state(
        &format!(".:0 {{\n  bind 127.0.0.1\n  kubernetes cluster.local {{\n{options}  }}\n}}\n"),
        state(),
    )
}

/// (rcode, sorted answer data) over each transport, which must agree.
fn asked(s: &Server, name: &str, qtype: RecordType) -> (ResponseCode, Vec<String>) {
    let mut seen = Vec::new();
    for t in TRANSPORTS {
        let m = ask(s.addr, t, &query(name, qtype));
        let mut data: Vec<String> = m.answers.iter().map(|r| r.data.to_string()).collect();
        data.sort();
        seen.push((m.metadata.response_code, data));
    }
    assert_eq!(seen[0], seen[1], "UDP and TCP agree for {name} {qtype}");
    seen.remove(0)
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn zonal_is_an_option_that_needs_the_endpoints() {
    let parsed = |opts: &str| {
        options::<KubernetesConfig>(&format!(".:53 {{\n  kubernetes cluster.local {{\n{opts}  }}\n}}\n"))
            .map(|k| k.zonal)
    };
    assert_eq!(parsed("    zonal\n"), Ok(true));
    assert_eq!(parsed(""), Ok(false));
    assert_eq!(
        parsed("    zonal yes\n"),
        Err("Corefile:3: `zonal` takes no arguments (`zonal`), got 1".into())
    );
    assert_eq!(
        parsed("    zonal\n    noendpoints\n"),
        Err("Corefile:2: kubernetes: `zonal` needs the endpoints, which `noendpoints` drops: use one or the other".into())
    );
}

#[test]
fn pin_and_prefer_select_a_headless_services_endpoints_by_zone() {
    let s = server("    zonal\n");
    let ok = ResponseCode::NoError;
    let db = "db.prod.svc.cluster.local.";
    assert_eq!(asked(&s, &format!("us-west-2a.pin._zone.{db}"), A), (ok, v(&["10.244.1.10"])));
    assert_eq!(asked(&s, &format!("US-West-2B.prefer._zone.{db}"), A), (ok, v(&["10.244.2.11"])));
    // A zone name with dots: every label left of the directive.
    assert_eq!(asked(&s, &format!("corp.example.com.pin._zone.{db}"), A), (ok, v(&["10.244.3.12"])));
    // No endpoint in the zone: pin is NODATA, prefer widens to every endpoint.
    assert_eq!(asked(&s, &format!("eu-1a.pin._zone.{db}"), A), (ok, v(&[])));
    assert_eq!(
        asked(&s, &format!("eu-1a.prefer._zone.{db}"), A),
        (ok, v(&["10.244.1.10", "10.244.2.11", "10.244.3.12", "10.244.4.13"]))
    );
    // SRV is filtered too; other types are NODATA.
    assert_eq!(
        asked(&s, &format!("us-west-2b.pin._zone.{db}"), SRV),
        (ok, v(&["0 100 5432 db-1.db.prod.svc.cluster.local."]))
    );
    assert_eq!(asked(&s, &format!("us-west-2a.pin._zone.{db}"), TXT), (ok, v(&[])));
    assert_eq!(asked(&s, &format!("us-west-2a.pin._zone.{db}"), AAAA), (ok, v(&[])));
    // Not for ClusterIP Services, not for other directives, not for missing Services.
    let nx = ResponseCode::NXDomain;
    assert_eq!(asked(&s, "us-west-2a.pin._zone.web.prod.svc.cluster.local.", A).0, nx);
    assert_eq!(asked(&s, &format!("us-west-2a.near._zone.{db}"), A).0, nx);
    assert_eq!(asked(&s, &format!("pin._zone.{db}"), A).0, nx);
    assert_eq!(asked(&s, "us-west-2a.pin._zone.nope.prod.svc.cluster.local.", A).0, nx);
    // The plain names are unchanged.
    assert_eq!(asked(&s, db, A).1.len(), 4);
}

#[test]
fn without_zonal_the_names_do_not_exist() {
    let s = server("");
    assert_eq!(
        asked(&s, "us-west-2a.pin._zone.db.prod.svc.cluster.local.", A).0,
        ResponseCode::NXDomain
    );
}
