use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType::{self, A, AAAA, SRV, TXT};

use crate::plugin::kubernetes::KubernetesConfig;
use crate::plugin::test_support::{ask, options, query, serve_state, Server, TRANSPORTS};

/// `prod/web`: a ClusterSetIP import (10.100.0.80, fd00::80) and a Service of the same name;
/// `prod/db`: a headless import with endpoints in clusters east (db-0 ready, an unready one)
/// and west (db-0 and an unnamed one); `prod/empty`: headless, no slices.
fn state() -> crate::cluster::model::ClusterState {
    let yaml = r#"apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
- {apiVersion: v1, kind: Namespace, metadata: {name: quiet}}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: prod}
  spec: {clusterIP: 10.96.0.80, clusterIPs: [10.96.0.80], ports: [{name: http, port: 80, protocol: TCP}]}
- apiVersion: multicluster.x-k8s.io/v1alpha1
  kind: ServiceImport
  metadata: {name: web, namespace: prod}
  spec: {type: ClusterSetIP, ips: [10.100.0.80, "fd00::80"], ports: [{name: http, port: 80, protocol: TCP}]}
- apiVersion: multicluster.x-k8s.io/v1alpha1
  kind: ServiceImport
  metadata: {name: db, namespace: prod}
  spec: {type: Headless, ports: [{name: pg, port: 5432, protocol: TCP}]}
- apiVersion: multicluster.x-k8s.io/v1alpha1
  kind: ServiceImport
  metadata: {name: empty, namespace: prod}
  spec: {type: Headless}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: db-east
    namespace: prod
    labels: {multicluster.kubernetes.io/service-name: db, multicluster.kubernetes.io/source-cluster: east}
  addressType: IPv4
  ports: [{name: pg, port: 5432, protocol: TCP}]
  endpoints:
  - {addresses: [10.1.0.10], hostname: db-0, conditions: {ready: true}}
  - {addresses: [10.1.0.11], hostname: db-1, conditions: {ready: false}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: db-west
    namespace: prod
    labels: {multicluster.kubernetes.io/service-name: db, multicluster.kubernetes.io/source-cluster: West}
  addressType: IPv4
  ports: [{name: pg, port: 5432, protocol: TCP}]
  endpoints:
  - {addresses: [10.2.0.10], hostname: db-0}
  - {addresses: [10.2.0.12]}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-abc, namespace: prod, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080, protocol: TCP}]
  endpoints:
  - {addresses: [10.244.1.20], conditions: {ready: true}}
"#;
    match crate::source::file::parse_dump(yaml, "multicluster state") {
        Ok(dump) => dump.state,
        Err(e) => panic!("the test state does not load: {e}"),
    }
}

fn server() -> Server {
    serve_state(
        ".:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local clusterset.local {\n    multicluster clusterset.local\n  }\n}\n",
        state(),
    )
}

/// (rcode, sorted answer data, authority data) over each transport, which must agree.
fn asked(s: &Server, name: &str, qtype: RecordType) -> (ResponseCode, Vec<String>, Vec<String>) {
    let mut seen = Vec::new();
    for t in TRANSPORTS {
        let m = ask(s.addr, t, &query(name, qtype));
        let mut data: Vec<String> = m.answers.iter().map(|r| r.data.to_string()).collect();
        data.sort();
        let auth: Vec<String> = m.authorities.iter().map(|r| r.data.to_string()).collect();
        seen.push((m.metadata.response_code, data, auth));
    }
    assert_eq!(seen[0], seen[1], "UDP and TCP agree for {name} {qtype}");
    seen.remove(0)
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn multicluster_zones_must_be_the_plugins_own() {
    let parsed = |zones: &str, opts: &str| {
        options::<KubernetesConfig>(&format!(".:53 {{\n  kubernetes {zones} {{\n{opts}  }}\n}}\n"))
            .map(|k| k.multicluster.iter().map(|n| n.to_ascii()).collect::<Vec<_>>())
    };
    assert_eq!(
        parsed("cluster.local clusterset.local", "    multicluster ClusterSet.Local\n"),
        Ok(v(&["clusterset.local."]))
    );
    assert_eq!(parsed("cluster.local", ""), Ok(v(&[])));
    assert_eq!(
        parsed("cluster.local", "    multicluster clusterset.local\n"),
        Err("Corefile:3: multicluster zone `clusterset.local.` is not one of the kubernetes plugin's zones (cluster.local.): the plugin must be authoritative for it".into())
    );
    assert_eq!(
        parsed("cluster.local", "    multicluster sub.cluster.local\n").map(|_| ()),
        Err("Corefile:3: multicluster zone `sub.cluster.local.` is not one of the kubernetes plugin's zones (cluster.local.): the plugin must be authoritative for it".into())
    );
}

#[test]
fn clusterset_ip_imports_answer_their_ips_and_ports() {
    let s = server();
    let ok = ResponseCode::NoError;
    let web = "web.prod.svc.clusterset.local.";
    assert_eq!(asked(&s, web, A).1, v(&["10.100.0.80"]));
    assert_eq!(asked(&s, "WEB.Prod.svc.ClusterSet.local.", AAAA).1, v(&["fd00::80"]));
    // One SRV per (target, port); both addresses are glue.
    assert_eq!(asked(&s, web, SRV).1, v(&["0 50 80 web.prod.svc.clusterset.local."]));
    assert_eq!(
        asked(&s, &format!("_http._tcp.{web}"), SRV).1,
        v(&["0 50 80 web.prod.svc.clusterset.local."])
    );
    assert_eq!(asked(&s, &format!("_http._tcp.{web}"), A).1, v(&["10.100.0.80"]));
    let nx = asked(&s, &format!("_dns._udp.{web}"), SRV);
    assert_eq!(nx.0, ResponseCode::NXDomain);
    assert!(nx.2[0].starts_with("ns.dns.clusterset.local. hostmaster.clusterset.local."), "{nx:?}");
    // Other types are NODATA with the zone's SOA.
    let nodata = asked(&s, web, TXT);
    assert_eq!((nodata.0, nodata.1.len(), nodata.2.len()), (ok, 0, 1));
    // The cluster zone still answers the Service, not the import.
    assert_eq!(asked(&s, "web.prod.svc.cluster.local.", A).1, v(&["10.96.0.80"]));
}

#[test]
fn headless_imports_answer_ready_endpoints_named_by_cluster() {
    let s = server();
    let db = "db.prod.svc.clusterset.local.";
    assert_eq!(asked(&s, db, A).1, v(&["10.1.0.10", "10.2.0.10", "10.2.0.12"]));
    assert_eq!(
        asked(&s, db, SRV).1,
        v(&[
            "0 33 5432 10-2-0-12.west.db.prod.svc.clusterset.local.",
            "0 33 5432 db-0.east.db.prod.svc.clusterset.local.",
            "0 33 5432 db-0.west.db.prod.svc.clusterset.local.",
        ])
    );
    assert_eq!(asked(&s, &format!("db-0.east.{db}"), A).1, v(&["10.1.0.10"]));
    assert_eq!(asked(&s, &format!("db-0.WEST.{db}"), A).1, v(&["10.2.0.10"]));
    assert_eq!(asked(&s, &format!("10-2-0-12.west.{db}"), A).1, v(&["10.2.0.12"]));
    // Without a cluster: the endpoint in every cluster.
    assert_eq!(asked(&s, &format!("db-0.{db}"), A).1, v(&["10.1.0.10", "10.2.0.10"]));
    assert_eq!(
        asked(&s, &format!("_pg._tcp.{db}"), SRV).1.len(),
        3
    );
    let nx = ResponseCode::NXDomain;
    // Unready, wrong cluster, missing import, namespace or headless import without endpoints.
    assert_eq!(asked(&s, &format!("db-1.east.{db}"), A).0, nx);
    assert_eq!(asked(&s, &format!("db-0.north.{db}"), A).0, nx);
    assert_eq!(asked(&s, "nope.prod.svc.clusterset.local.", A).0, nx);
    assert_eq!(asked(&s, "db.nowhere.svc.clusterset.local.", A).0, nx);
    assert_eq!(asked(&s, "empty.prod.svc.clusterset.local.", A).0, nx);
    assert_eq!(asked(&s, "a.b.db.prod.svc.clusterset.local.", A).0, nx);
    assert_eq!(asked(&s, "x.pod.clusterset.local.", A).0, nx);
    // An existing namespace (with no imports) and the apex are NODATA.
    assert_eq!(asked(&s, "quiet.svc.clusterset.local.", A).0, ResponseCode::NoError);
    assert_eq!(asked(&s, "clusterset.local.", A).0, ResponseCode::NoError);
}

#[test]
fn a_multicluster_zone_transfers_its_imports() {
    let config = options::<KubernetesConfig>(
        ".:53 {\n  kubernetes cluster.local clusterset.local {\n    multicluster clusterset.local\n  }\n}\n",
    )
    .expect("a valid Corefile");
    let index = crate::plugin::kubernetes::index::Index::build(&state(), &config, &[], 7, true);
    let zone = hickory_proto::rr::Name::from_ascii("clusterset.local.").expect("a name");
    let (serial, records) = index.transfer(&zone).expect("a transfer");
    assert_eq!(serial, 7);
    let owners: Vec<String> = records
        .iter()
        .map(|r| format!("{} {}", r.name, r.record_type()))
        .collect();
    assert_eq!(
        owners,
        v(&[
            "clusterset.local. SOA",
            "clusterset.local. NS",
            "db.prod.svc.clusterset.local. A",
            "db.prod.svc.clusterset.local. A",
            "db.prod.svc.clusterset.local. A",
            "db-0.east.db.prod.svc.clusterset.local. A",
            "db-0.west.db.prod.svc.clusterset.local. A",
            "10-2-0-12.west.db.prod.svc.clusterset.local. A",
            "_pg._tcp.db.prod.svc.clusterset.local. SRV",
            "_pg._tcp.db.prod.svc.clusterset.local. SRV",
            "_pg._tcp.db.prod.svc.clusterset.local. SRV",
            "web.prod.svc.clusterset.local. A",
            "web.prod.svc.clusterset.local. AAAA",
            "_http._tcp.web.prod.svc.clusterset.local. SRV",
            "clusterset.local. SOA",
        ])
    );
}
