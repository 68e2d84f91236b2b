use std::net::IpAddr;

use serde_json::json;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test IP")
}

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("test object deserializes")
}

fn svc(spec: serde_json::Value) -> core::Service {
    from(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "shop", "name": "web", "labels": {"app": "web"}},
        "spec": spec,
    }))
}

#[test]
fn namespace_keeps_name_and_labels() {
    let ns: core::Namespace = from(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"team": "shop"}},
    }));
    let got = namespace(&ns).expect("converts");
    assert_eq!(got.name, "shop");
    assert_eq!(got.labels.get("team"), Some("shop"));
}

#[test]
fn service_kinds() {
    let cases = [
        (
            json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "fd00::1"]}),
            ServiceKind::ClusterIp(vec![ip("10.0.0.1"), ip("fd00::1")]),
        ),
        (
            json!({"clusterIP": "10.0.0.2"}),
            ServiceKind::ClusterIp(vec![ip("10.0.0.2")]),
        ),
        (json!({}), ServiceKind::ClusterIp(vec![])),
        (json!({"clusterIP": ""}), ServiceKind::ClusterIp(vec![])),
        (
            json!({"clusterIP": "None", "clusterIPs": ["None"]}),
            ServiceKind::Headless,
        ),
        (json!({"clusterIP": "None"}), ServiceKind::Headless),
        (
            json!({"type": "ExternalName", "externalName": "db.example.com"}),
            ServiceKind::ExternalName("db.example.com".into()),
        ),
        (
            json!({"type": "NodePort", "clusterIP": "10.0.0.3"}),
            ServiceKind::ClusterIp(vec![ip("10.0.0.3")]),
        ),
    ];
    for (spec, want) in cases {
        let got = service(&svc(spec.clone())).expect("converts");
        assert_eq!(got.kind, want, "spec {spec}");
    }
}

#[test]
fn service_ports_defaults_and_flags() {
    let got = service(&svc(json!({
        "clusterIP": "10.0.0.1",
        "publishNotReadyAddresses": true,
        "ports": [{"port": 80, "name": "http"}, {"port": 53, "protocol": "UDP"}],
    })))
    .expect("converts");
    assert_eq!(
        *got.ports,
        [
            Port {
                name: "http".into(),
                protocol: "TCP".into(),
                port: 80
            },
            Port {
                name: "".into(),
                protocol: "UDP".into(),
                port: 53
            },
        ]
    );
    assert!(got.publish_not_ready);
    assert_eq!(got.labels.get("app"), Some("web"));
    assert_eq!((got.namespace.as_str(), got.name.as_str()), ("shop", "web"));
}

#[test]
fn service_errors_name_object_and_field() {
    let cases = [
        (
            json!({"clusterIPs": ["10.0.0.1", "fd00::zz"]}),
            "Service shop/web: spec.clusterIPs[1]: expected an IP address, found \"fd00::zz\"",
        ),
        (
            json!({"clusterIP": "10.0.0.300"}),
            "Service shop/web: spec.clusterIP: expected an IP address",
        ),
        (
            json!({"type": "ExternalName"}),
            "Service shop/web: spec.externalName is missing",
        ),
        (
            json!({"ports": [{"port": 80}, {"port": 70000}]}),
            "Service shop/web: spec.ports[1].port: expected a port number in 1..=65535, found \"70000\"",
        ),
        (
            json!({"ports": [{"port": 0}]}),
            "spec.ports[0].port",
        ),
    ];
    for (spec, want) in cases {
        let err = service(&svc(spec.clone())).expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains(want), "spec {spec}: {text}");
    }
}

#[test]
fn missing_name_or_namespace_is_an_error() {
    let no_name: core::Service = from(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "shop"}}));
    let err = service(&no_name).expect_err("must fail");
    assert_eq!(err.field(), "metadata.name");
    assert!(
        err.to_string().starts_with("Service shop/<no name>:"),
        "{err}"
    );

    let no_ns: core::Pod = from(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p"}}));
    let err = pod(&no_ns).expect_err("must fail");
    assert_eq!(err.field(), "metadata.namespace");

    let ns: core::Namespace = from(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {}}));
    assert_eq!(
        namespace(&ns).expect_err("must fail").field(),
        "metadata.name"
    );
}

fn slice(address_type: &str, endpoints: serde_json::Value) -> discovery::EndpointSlice {
    from(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"namespace": "shop", "name": "web-abc",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": address_type,
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080}, {"name": "noport"}, {"port": 53, "protocol": "UDP"}],
    }))
}

#[test]
fn endpoint_slice_fields() {
    let got = endpoint_slice(&slice(
        "IPv4",
        json!([
            {"addresses": ["10.1.0.1"], "hostname": "web-0", "zone": "z1",
             "conditions": {"ready": true},
             "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "shop"}},
            {"addresses": ["10.1.0.2"], "conditions": {"ready": false}},
            {"addresses": ["10.1.0.3"], "targetRef": {"kind": "Node", "name": "n1"}},
        ]),
    ))
    .expect("converts");
    assert_eq!(got.service.as_deref(), Some("web"));
    assert_eq!(got.address_type, AddressType::IPv4);
    assert_eq!(
        got.endpoints[0],
        Endpoint::new(
            [ip("10.1.0.1")],
            true,
            Some("web-0".into()),
            Some("web-0".into())
        )
        .with_zone(Some("z1".into()))
    );
    assert!(!got.endpoints[1].ready);
    assert!(got.endpoints[2].ready, "unset condition is ready");
    assert_eq!(got.endpoints[2].target_pod(), None, "only Pod targetRefs");
    assert_eq!(
        *got.ports,
        [
            Port {
                name: "http".into(),
                protocol: "TCP".into(),
                port: 8080
            },
            Port {
                name: "".into(),
                protocol: "UDP".into(),
                port: 53
            },
        ],
        "the port without a number is dropped"
    );
}

#[test]
fn endpoint_slice_without_service_label_or_endpoints() {
    let s: discovery::EndpointSlice = from(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"namespace": "shop", "name": "lonely"},
        "addressType": "IPv6", "endpoints": null,
    }));
    let got = endpoint_slice(&s).expect("converts");
    assert_eq!(got.service, None);
    assert!(got.endpoints.is_empty() && got.ports.is_empty());
}

#[test]
fn fqdn_slices_keep_endpoints_without_addresses() {
    let got = endpoint_slice(&slice(
        "FQDN",
        json!([{"addresses": ["db.example.com"], "hostname": "db"}]),
    ))
    .expect("converts");
    assert_eq!(got.address_type, AddressType::Fqdn);
    assert_eq!(got.endpoints[0].addresses().len(), 0);
    assert_eq!(got.endpoints[0].hostname(), Some("db"));
}

#[test]
fn endpoint_slice_errors() {
    let cases = [
        (
            slice("IPv5", json!([])),
            "EndpointSlice shop/web-abc: addressType: expected IPv4, IPv6 or FQDN, found \"IPv5\"",
        ),
        (
            slice("IPv4", json!([{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "nope"]}])),
            "EndpointSlice shop/web-abc: endpoints[1].addresses[1]: expected an IP address, found \"nope\"",
        ),
        (
            slice("IPv4", json!([{"addresses": ["fd00::1"]}])),
            "endpoints[0].addresses[0]: expected an IPv4 address",
        ),
        (
            slice("IPv6", json!([{"addresses": ["10.0.0.1"]}])),
            "endpoints[0].addresses[0]: expected an IPv6 address",
        ),
    ];
    for (s, want) in cases {
        let text = endpoint_slice(&s).expect_err("must fail").to_string();
        assert!(text.contains(want), "{text}");
    }
}

fn pod_with(status: serde_json::Value, deleting: bool) -> core::Pod {
    let mut meta = json!({"namespace": "data", "name": "postgres-0"});
    if deleting {
        meta["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
    }
    from(json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "status": status}))
}

#[test]
fn pod_fields() {
    let got = pod(&pod_with(
        json!({"phase": "Running", "podIP": "10.2.0.1",
               "podIPs": [{"ip": "10.2.0.1"}, {"ip": "fd00::2:1"}]}),
        false,
    ))
    .expect("converts");
    assert_eq!(got.ips, vec![ip("10.2.0.1"), ip("fd00::2:1")]);
    assert_eq!(got.phase, PodPhase::Running);
    assert!(!got.deleting);

    let got = pod(&pod_with(json!({"podIP": "10.2.0.9"}), true)).expect("converts");
    assert_eq!(got.ips, vec![ip("10.2.0.9")], "falls back to podIP");
    assert_eq!(got.phase, PodPhase::Pending, "missing phase is Pending");
    assert!(got.deleting);

    let got = pod(&pod_with(json!({"phase": "Exploded"}), false)).expect("converts");
    assert_eq!(got.phase, PodPhase::Unknown);
    assert!(got.ips.is_empty());
}

#[test]
fn pod_bad_ip_names_field() {
    let err = pod(&pod_with(
        json!({"podIPs": [{"ip": "10.2.0.1"}, {"ip": "x"}]}),
        false,
    ))
    .expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "Pod data/postgres-0: status.podIPs[1].ip: expected an IP address, found \"x\""
    );
}

#[test]
fn service_external_addresses_are_external_ips_then_load_balancer_ingress() {
    let o: core::Service = from(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "shop", "name": "web"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1", "externalIPs": ["192.0.2.1"]},
        "status": {"loadBalancer": {"ingress": [
            {"ip": "198.51.100.1"}, {"hostname": "lb.example.net"}, {"ip": "2001:db8::1", "hostname": "x"}, {}
        ]}},
    }));
    assert_eq!(
        service(&o).expect("converts").external,
        vec![
            ExternalAddress::Ip(ip("192.0.2.1")),
            ExternalAddress::Ip(ip("198.51.100.1")),
            ExternalAddress::Hostname("lb.example.net".into()),
            ExternalAddress::Ip(ip("2001:db8::1")),
        ]
    );
    assert_eq!(
        service(&svc(json!({"clusterIP": "10.0.0.1"})))
            .expect("converts")
            .external,
        vec![]
    );
    let bad = svc(json!({"clusterIP": "10.0.0.1", "externalIPs": ["192.0.2.1", "nope"]}));
    assert_eq!(
        service(&bad).map_err(|e| e.to_string()),
        Err("Service shop/web: spec.externalIPs[1]: expected an IP address, found \"nope\"".into())
    );
}
