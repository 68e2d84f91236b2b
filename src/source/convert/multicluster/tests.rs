use serde_json::json;

use super::*;
use crate::cluster::model::Protocol;

fn import(spec: serde_json::Value) -> ServiceImportObject {
    serde_json::from_value(json!({
        "apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
        "metadata": {"namespace": "shop", "name": "web"},
        "spec": spec,
    }))
    .expect("test object deserializes")
}

#[test]
fn service_import_kinds_and_ports() {
    let got = service_import(&import(json!({
        "type": "ClusterSetIP", "ips": ["10.100.0.1", "fd00::1"],
        "ports": [{"name": "http", "port": 80}, {"port": 53, "protocol": "UDP"}],
    })))
    .expect("converts");
    assert_eq!((got.namespace.as_str(), got.name.as_str()), ("shop", "web"));
    let ips = vec!["10.100.0.1".parse().unwrap(), "fd00::1".parse().unwrap()];
    assert_eq!(got.kind, ImportKind::ClusterSetIp(ips));
    assert_eq!(got.ports.len(), 2);
    assert_eq!(
        (&*got.ports[0].name, got.ports[0].protocol.clone()),
        ("http", Protocol::Tcp)
    );
    assert_eq!((&*got.ports[1].name, got.ports[1].port), ("", 53));
    let headless = service_import(&import(json!({"type": "Headless"}))).expect("converts");
    assert_eq!(headless.kind, ImportKind::Headless);
    // No spec at all: a ClusterSetIP import without IPs.
    let bare: ServiceImportObject = serde_json::from_value(json!({
        "metadata": {"namespace": "shop", "name": "web"},
    }))
    .unwrap();
    assert_eq!(
        service_import(&bare).unwrap().kind,
        ImportKind::ClusterSetIp(vec![])
    );
}

#[test]
fn service_import_errors_name_object_and_field() {
    let cases = [
        (
            json!({"ips": ["10.100.0.1", "nope"]}),
            "ServiceImport shop/web: spec.ips[1]: expected an IP address, found \"nope\"",
        ),
        (
            json!({"type": "ExternalName"}),
            "ServiceImport shop/web: spec.type: expected ClusterSetIP or Headless, found \"ExternalName\"",
        ),
        (
            json!({"ports": [{"port": 70000}]}),
            "ServiceImport shop/web: spec.ports[0].port: expected a port number in 1..=65535",
        ),
    ];
    for (spec, want) in cases {
        let err = service_import(&import(spec.clone())).expect_err("must fail");
        assert!(err.to_string().contains(want), "spec {spec}: {err}");
    }
    let nameless: ServiceImportObject =
        serde_json::from_value(json!({"metadata": {"namespace": "shop"}})).unwrap();
    assert_eq!(
        service_import(&nameless).unwrap_err().field(),
        "metadata.name"
    );
}

#[test]
fn slices_need_both_mcs_labels() {
    let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let both = labels(&[
        (MC_SERVICE_NAME_LABEL, "db"),
        (MC_SOURCE_CLUSTER_LABEL, "east"),
    ]);
    assert_eq!(
        slice_owner(Some(&both)),
        Some(MultiClusterSlice {
            service: "db".into(),
            cluster: "east".into()
        })
    );
    assert_eq!(
        slice_owner(Some(&labels(&[(MC_SERVICE_NAME_LABEL, "db")]))),
        None
    );
    assert_eq!(slice_owner(None), None);
}
