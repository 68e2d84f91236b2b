use std::net::IpAddr;

use serde_json::json;

use super::*;
use crate::cluster::model::{AddressType, PodPhase, Port, Service, ServiceKind};

const EXAMPLE: &str = include_str!("../../../examples/cluster.yaml");

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test IP")
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_owned(), name.to_owned())
}

fn tcp(name: &str, port: u16) -> Port {
    Port {
        name: name.into(),
        protocol: "TCP".into(),
        port,
    }
}

fn example() -> LoadedDump {
    parse_dump(EXAMPLE, "examples/cluster.yaml").expect("the example loads")
}

/// The example as a `serde_json::Value` (kubectl's List).
fn example_value() -> Value {
    serde_yaml_ng::from_str(EXAMPLE).expect("the example is YAML")
}

fn example_items() -> Vec<Value> {
    match example_value().get("items") {
        Some(Value::Array(items)) => items.clone(),
        other => panic!("example has no items: {other:?}"),
    }
}

#[test]
fn example_counts_and_skips() {
    let d = example();
    assert_eq!(d.state.namespaces.len(), 4);
    assert_eq!(d.state.services.len(), 8);
    assert_eq!(d.state.endpoint_slices.len(), 7);
    assert_eq!(d.state.pods.len(), 11);
    assert_eq!(d.skipped, BTreeMap::from([("ConfigMap".to_owned(), 1)]));
    let shop = &d.state.namespaces["shop"];
    assert_eq!(shop.labels.get("team"), Some("storefront"));
}

#[test]
fn example_services() {
    let s = example().state.services;
    assert_eq!(
        s[&key("kube-system", "kube-dns")],
        Service {
            namespace: "kube-system".into(),
            name: "kube-dns".into(),
            kind: ServiceKind::ClusterIp(vec![ip("10.96.0.10")]),
            ports: vec![
                Port {
                    name: "dns".into(),
                    protocol: "UDP".into(),
                    port: 53
                },
                tcp("dns-tcp", 53),
                tcp("metrics", 9153),
            ]
            .into(),
            publish_not_ready: false,
            labels: [
                ("k8s-app", "kube-dns"),
                ("kubernetes.io/cluster-service", "true"),
                ("kubernetes.io/name", "CoreDNS"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            external: Vec::new(),
        }
    );
    assert_eq!(
        s[&key("default", "kubernetes")].kind,
        ServiceKind::ClusterIp(vec![ip("10.96.0.1")])
    );
    assert_eq!(*s[&key("default", "kubernetes")].ports, [tcp("https", 443)]);
    let web = &s[&key("shop", "web")];
    assert_eq!(web.kind, ServiceKind::ClusterIp(vec![ip("10.96.10.20")]));
    assert_eq!(*web.ports, [tcp("http", 80), tcp("grpc", 9090)]);
    assert_eq!(
        s[&key("shop", "dual")].kind,
        ServiceKind::ClusterIp(vec![ip("10.96.10.30"), ip("fd00:10:96::30")])
    );
    assert_eq!(
        s[&key("shop", "payments")].kind,
        ServiceKind::ExternalName("payments.example.com".into())
    );
    assert_eq!(
        s[&key("shop", "api-alias")].kind,
        ServiceKind::ExternalName("web.shop.svc.cluster.local".into())
    );
    let pg = &s[&key("data", "postgres")];
    assert_eq!(
        (pg.kind.clone(), pg.publish_not_ready),
        (ServiceKind::Headless, false)
    );
    assert_eq!(*pg.ports, [tcp("pg", 5432)]);
    let cache = &s[&key("data", "cache")];
    assert_eq!(
        (cache.kind.clone(), cache.publish_not_ready),
        (ServiceKind::Headless, true)
    );
}

#[test]
fn example_endpoint_slices() {
    let e = example().state.endpoint_slices;
    let api = &e[&key("default", "kubernetes")];
    assert_eq!(api.service.as_deref(), Some("kubernetes"));
    assert_eq!(
        api.endpoints[0].addresses().collect::<Vec<_>>(),
        [ip("192.168.49.2")]
    );
    assert_eq!(*api.ports, [tcp("https", 6443)]);

    let dns = &e[&key("kube-system", "kube-dns-7xq2m")];
    let targets: Vec<_> = dns.endpoints.iter().map(|x| x.target_pod()).collect();
    assert_eq!(
        targets,
        [
            Some("coredns-7db6d8ff4d-4xk2p"),
            Some("coredns-7db6d8ff4d-9hvzt")
        ]
    );

    let web = &e[&key("shop", "web-k8d4f")];
    assert_eq!(web.service.as_deref(), Some("web"));
    let ready: Vec<bool> = web.endpoints.iter().map(|x| x.ready).collect();
    assert_eq!(ready, [true, true, true, false]);

    let pg = &e[&key("data", "postgres-6vbnz")];
    let hosts: Vec<_> = pg
        .endpoints
        .iter()
        .map(|x| (x.hostname(), x.ready, x.target_pod()))
        .collect();
    assert_eq!(
        hosts,
        [
            (Some("postgres-0"), true, Some("postgres-0")),
            (Some("postgres-1"), true, Some("postgres-1")),
            (Some("postgres-2"), false, Some("postgres-2")),
        ]
    );

    let cache = &e[&key("data", "cache-t5g8c")];
    assert_eq!(cache.endpoints[0].hostname(), None);
    assert_eq!(
        cache.endpoints[0].addresses().collect::<Vec<_>>(),
        [ip("10.244.2.30")]
    );

    let v6 = &e[&key("shop", "dual-r2m9x")];
    assert_eq!(v6.address_type, AddressType::IPv6);
    assert_eq!(
        v6.endpoints[0].addresses().collect::<Vec<_>>(),
        [ip("fd00:10:244:1::40")]
    );
    assert_eq!(
        e[&key("shop", "dual-5hq7w")].address_type,
        AddressType::IPv4
    );
}

#[test]
fn example_pods() {
    let p = example().state.pods;
    let pg0 = &p[&key("data", "postgres-0")];
    assert_eq!(pg0.ips, vec![ip("10.244.1.20")]);
    assert_eq!(pg0.phase, PodPhase::Running);
    assert!(!pg0.deleting);
    assert_eq!(
        p[&key("shop", "dual-7f9c8d6b5-h8n2m")].ips,
        vec![ip("10.244.1.40"), ip("fd00:10:244:1::40")]
    );
    assert!(p.values().all(|pod| pod.phase == PodPhase::Running));
}

fn yaml_docs(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| serde_yaml_ng::to_string(d).expect("serializes"))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn multi_document_yaml_and_json_give_the_same_state() {
    let want = example();
    let items = example_items();
    let (head, tail) = items.split_at(5);
    let list = json!({"apiVersion": "v1", "kind": "List", "items": head});
    let mut docs = vec![list];
    docs.extend(tail.iter().cloned());

    let inputs = [
        (
            "one object per document",
            format!("---\n{}", yaml_docs(&items)),
        ),
        ("a List then objects, with empty documents", {
            let text = yaml_docs(&docs);
            format!("---\n---\n{text}---\n# just a comment\n---\n")
        }),
        (
            "JSON List",
            serde_json::to_string_pretty(&example_value()).expect("json"),
        ),
        ("JSON array", serde_json::to_string(&items).expect("json")),
        (
            "concatenated JSON objects",
            items
                .iter()
                .map(|i| serde_json::to_string_pretty(i).expect("json"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    for (what, text) in inputs {
        let got = parse_dump(&text, what).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn typed_lists_lend_kind_and_api_version() {
    let text = r#"
apiVersion: v1
kind: ServiceList
items:
- metadata: {name: web, namespace: shop}
  spec: {clusterIP: 10.96.10.20}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSliceList
items:
- metadata: {name: web-1, namespace: shop}
  addressType: IPv4
  endpoints: [{addresses: [10.1.0.1]}]
"#;
    let d = parse_dump(text, "t.yaml").expect("loads");
    assert_eq!(d.state.services.len(), 1);
    assert_eq!(d.state.endpoint_slices.len(), 1);
}

#[test]
fn other_kinds_are_skipped_and_counted() {
    let text = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: a, namespace: shop}}
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: b, namespace: shop}}
- {apiVersion: v1, kind: Endpoints, metadata: {name: web, namespace: shop}}
- apiVersion: discovery.k8s.io/v1beta1
  kind: EndpointSlice
  metadata: {name: web-1, namespace: shop}
  addressType: IPv4
  endpoints: []
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: shop}
data: {a: b}
"#;
    let d = parse_dump(text, "t.yaml").expect("loads");
    let want: BTreeMap<String, usize> = [
        ("ConfigMap", 1),
        ("Deployment", 2),
        ("EndpointSlice (discovery.k8s.io/v1beta1)", 1),
        ("Endpoints", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(d.skipped, want);
    assert_eq!(d.state, ClusterState::default());
}

#[test]
fn namespaces_are_synthesized_only_without_namespace_objects() {
    let objects = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.10.20}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: pg-1, namespace: data}
addressType: IPv4
endpoints: []
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: jobs}
"#;
    let d = parse_dump(objects, "t.yaml").expect("loads");
    let names: Vec<_> = d.state.namespaces.keys().map(String::as_str).collect();
    assert_eq!(names, ["data", "jobs", "shop"]);
    assert!(d.state.namespaces.values().all(|n| n.labels.is_empty()));

    let with_ns =
        format!("{objects}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n");
    let d = parse_dump(&with_ns, "t.yaml").expect("loads");
    let names: Vec<_> = d.state.namespaces.keys().map(String::as_str).collect();
    assert_eq!(names, ["shop"]);
}

#[test]
fn later_duplicates_win() {
    let text = r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {v: "1"}}}
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {clusterIP: 10.0.0.1}}
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: other}, spec: {clusterIP: 10.0.0.3}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {clusterIP: 10.0.0.2}}
- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {v: "2"}}}
"#;
    let d = parse_dump(text, "t.yaml").expect("loads");
    assert_eq!(d.state.services.len(), 2);
    assert_eq!(
        d.state.services[&key("shop", "web")].kind,
        ServiceKind::ClusterIp(vec![ip("10.0.0.2")])
    );
    assert_eq!(d.state.namespaces["shop"].labels.get("v"), Some("2"));
}

#[test]
fn empty_inputs_are_empty_dumps() {
    for text in [
        "",
        "\n",
        "---\n",
        "---\n---\n# nothing\n",
        "[]",
        "{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": []}",
    ] {
        let d = parse_dump(text, "t").unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(d, LoadedDump::default(), "{text:?}");
    }
}

/// A List with a good Namespace first and `item` second.
fn list_with(item: &str) -> String {
    format!(
        "apiVersion: v1\nkind: List\nitems:\n- {{apiVersion: v1, kind: Namespace, metadata: {{name: shop}}}}\n{item}"
    )
}

const GOOD_SERVICE: &str =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.0.0.1}\n";

#[test]
fn malformed_inputs_name_position_object_and_field() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            list_with("- apiVersion: v1\n  kind: Service\n  metadata: {name: web, namespace: shop}\n  spec: {clusterIP: 10.96.0.300}\n"),
            vec!["t.yaml: document 1, item 2 (items[1]): Service shop/web: spec.clusterIP: expected an IP address, found \"10.96.0.300\""],
        ),
        (
            format!("{GOOD_SERVICE}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec:\n  ports:\n  - port: \"80\"\n"),
            vec!["t.yaml: document 2: Service shop/web: spec.ports[0].port: invalid type: string \"80\""],
        ),
        (
            list_with("- {apiVersion: v1, kind: Service, metadata: {namespace: shop}}\n"),
            vec!["t.yaml: document 1, item 2 (items[1]): Service shop/<no name>: metadata.name is missing"],
        ),
        (
            list_with("- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n"),
            vec!["t.yaml: document 1, item 2 (items[1]): Pod p: metadata.namespace is missing"],
        ),
        (
            format!("{GOOD_SERVICE}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: web-abc, namespace: shop}}\naddressType: IPv7\nendpoints: []\n"),
            vec!["t.yaml: document 2: EndpointSlice shop/web-abc: addressType: expected IPv4, IPv6 or FQDN, found \"IPv7\""],
        ),
        (
            format!("{GOOD_SERVICE}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n namespace: shop\n"),
            vec!["t.yaml: document 2: invalid YAML: did not find expected key at line 10 column 2"],
        ),
        (
            "\n\n{\"apiVersion\": \"v1\",\n \"kind\": \"List\",\n \"items\": [,]}".to_owned(),
            vec!["t.yaml: invalid JSON: expected value at line 5 column 12"],
        ),
        (
            "[{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"a\", \"namespace\": \"b\"}, \"spec\": {\"clusterIPs\": [\"10.0.0.1\", \"::g\"]}}]".to_owned(),
            vec!["t.yaml: document 1, item 1 (items[0]): Service b/a: spec.clusterIPs[1]: expected an IP address, found \"::g\""],
        ),
        (
            list_with("- {apiVersion: v1, metadata: {name: x, namespace: shop}}\n"),
            vec!["document 1, item 2 (items[1]): object shop/x: kind: missing"],
        ),
        (
            format!("{GOOD_SERVICE}---\njust a string\n"),
            vec!["t.yaml: document 2: expected a Kubernetes object", "found a string"],
        ),
        (
            "apiVersion: v1\nkind: List\nitems: 3\n".to_owned(),
            vec!["t.yaml: document 1: List: items: expected a list of objects, found a number"],
        ),
        (
            list_with("- {apiVersion: v1, kind: List, items: []}\n"),
            vec!["document 1, item 2 (items[1]): List: kind: expected an object, found a List nested in a List"],
        ),
        (
            list_with("- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {on: true}}}\n"),
            vec!["document 1, item 2 (items[1]): Namespace shop: metadata.labels.on: invalid type: boolean `true`"],
        ),
    ];
    for (text, wants) in cases {
        let err = match parse_dump(&text, "t.yaml") {
            Ok(d) => panic!("{text}\nloaded, expected an error: {d:?}"),
            Err(e) => e.to_string(),
        };
        for want in wants {
            assert!(err.contains(want), "{text}\nerror: {err}\nwanted: {want}");
        }
    }
}

#[test]
fn load_dump_reads_files_and_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cluster.yaml");
    std::fs::write(&path, EXAMPLE).expect("write");
    assert_eq!(load_dump(&path).expect("loads"), example());

    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n",
    )
    .expect("write");
    let err = load_dump(&path).expect_err("no namespace").to_string();
    let want = format!(
        "{}: document 1: Service x: metadata.namespace is missing",
        path.display()
    );
    assert!(err.starts_with(&want), "{err}");

    let missing = dir.path().join("nope.yaml");
    let err = load_dump(&missing).expect_err("missing file").to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

/// `examples/cluster.yaml` as the real kubectl client re-prints it offline, regenerated with
/// `kubectl label --local -f examples/cluster.yaml cairn-check- -o json`: a stream of
/// concatenated JSON objects. kubectl reading the example at all checks it is well-formed; the
/// loader must read kubectl's output to the same state. (Its `-o yaml` prints the objects with
/// no `---` between them, which is not a YAML stream: see `duplicate_keys_are_errors`.)
#[test]
fn kubectl_reprinted_example_loads_to_the_same_state() {
    let want = example();
    let fixtures = [(
        "cluster-kubectl.json",
        include_str!("../../../tests/fixtures/cluster-kubectl.json"),
    )];
    for (origin, text) in fixtures {
        let got = parse_dump(text, origin).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, want, "{origin}");
    }
}

#[test]
fn duplicate_keys_are_errors() {
    let pasted = format!("{GOOD_SERVICE}{GOOD_SERVICE}");
    let err = parse_dump(&pasted, "t.yaml")
        .expect_err("must fail")
        .to_string();
    assert!(
        err.starts_with("t.yaml: document 1: invalid YAML: duplicate key `apiVersion`"),
        "{err}"
    );
    assert!(err.contains("line 5"), "{err}");

    let json = "{\"apiVersion\": \"v1\",\n \"kind\": \"List\",\n \"kind\": \"List\"}";
    let err = parse_dump(json, "t.json")
        .expect_err("must fail")
        .to_string();
    assert!(
        err.starts_with("t.json: invalid JSON: duplicate key `kind`"),
        "{err}"
    );
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn service_imports_load_and_their_errors_name_the_field() {
    let text = r#"
apiVersion: v1
kind: List
items:
- apiVersion: multicluster.x-k8s.io/v1alpha1
  kind: ServiceImport
  metadata: {name: web, namespace: shop}
  spec: {type: ClusterSetIP, ips: [10.100.0.1], ports: [{name: http, port: 80}]}
- {apiVersion: multicluster.x-k8s.io/v1beta1, kind: ServiceImport, metadata: {name: x, namespace: shop}}
"#;
    let d = parse_dump(text, "t.yaml").expect("loads");
    assert_eq!(d.state.service_imports.len(), 1);
    let want: BTreeMap<String, usize> = [(
        "ServiceImport (multicluster.x-k8s.io/v1beta1)".to_owned(),
        1,
    )]
    .into();
    assert_eq!(d.skipped, want);
    let bad = "apiVersion: multicluster.x-k8s.io/v1alpha1\nkind: ServiceImport\n\
               metadata: {name: web, namespace: shop}\nspec: {ports: [{port: nope}]}\n";
    let err = parse_dump(bad, "t.yaml").expect_err("fails").to_string();
    assert!(err.contains("spec.ports[0].port"), "{err}");
}
