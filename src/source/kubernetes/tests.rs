use super::*;
use crate::config::model::Location;
use crate::plugin::kubernetes::LabelSelector;

fn block(corefile_options: impl FnOnce(&mut KubernetesConfig)) -> KubernetesConfig {
    let mut k = KubernetesConfig::with_zones(
        vec!["cluster.local.".into()],
        Location {
            file: "Corefile".into(),
            line: 1,
        },
    );
    corefile_options(&mut k);
    k
}

fn describe(specs: &[WatchSpec]) -> Vec<String> {
    specs
        .iter()
        .map(|s| {
            format!(
                "{} labels={} fields={}",
                s.scope,
                s.label_selector.as_deref().unwrap_or("-"),
                s.field_selector.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn default_block_watches_namespaces_services_and_slices() {
    let k = block(|_| {});
    assert_eq!(
        describe(&watch_specs(&[&k])),
        [
            "namespaces labels=- fields=-",
            "services labels=- fields=-",
            "endpointslices labels=- fields=-",
        ]
    );
}

#[test]
fn options_become_server_side_selectors_and_extra_watches() {
    let k = block(|k| {
        k.namespaces = vec!["shop".into(), "data".into()];
        k.labels = Some("env=prod".parse::<LabelSelector>().unwrap());
        k.namespace_labels = Some("team in (a,b)".parse::<LabelSelector>().unwrap());
        k.pods = PodMode::Verified;
        k.noendpoints = true;
    });
    assert_eq!(
        describe(&watch_specs(&[&k])),
        [
            "namespaces labels=team in (a,b) fields=-",
            "services in shop labels=env=prod fields=-",
            "services in data labels=env=prod fields=-",
            "pods in shop labels=- fields=status.phase!=Succeeded,status.phase!=Failed",
            "pods in data labels=- fields=status.phase!=Succeeded,status.phase!=Failed",
        ]
    );
}

#[test]
fn several_blocks_share_unfiltered_watches() {
    let a = block(|k| k.labels = Some("env=prod".parse::<LabelSelector>().unwrap()));
    let b = block(|k| k.namespaces = vec!["shop".into()]);
    assert_eq!(
        describe(&watch_specs(&[&a, &b])),
        [
            "namespaces labels=- fields=-",
            "services labels=- fields=-",
            "endpointslices labels=- fields=-",
        ]
    );
}

#[test]
fn pod_names_are_kept_only_when_a_block_names_endpoints_after_pods() {
    let plain = block(|_| {});
    assert!(watch_specs(&[&plain]).iter().all(|s| !s.keep_pod_names));
    let named = block(|k| k.endpoint_pod_names = true);
    let specs = watch_specs(&[&plain, &named]);
    let slices: Vec<_> = specs
        .iter()
        .filter(|s| s.scope.kind == change::Kind::EndpointSlice)
        .collect();
    assert!(!slices.is_empty() && slices.iter().all(|s| s.keep_pod_names));
}

#[test]
fn topology_zones_are_kept_only_when_a_block_is_zonal() {
    let plain = block(|_| {});
    assert!(watch_specs(&[&plain]).iter().all(|s| !s.keep_zones));
    let zonal = block(|k| k.zonal = true);
    let specs = watch_specs(&[&plain, &zonal]);
    let slices: Vec<_> = specs
        .iter()
        .filter(|s| s.scope.kind == change::Kind::EndpointSlice)
        .collect();
    assert!(!slices.is_empty() && slices.iter().all(|s| s.keep_zones));
}

#[test]
fn service_labels_are_kept_only_when_a_block_filters_on_them() {
    let plain = block(|_| {});
    let services = |specs: Vec<super::WatchSpec>| -> Vec<bool> {
        specs
            .iter()
            .filter(|s| s.scope.kind == change::Kind::Service)
            .map(|s| s.keep_labels)
            .collect()
    };
    assert_eq!(services(watch_specs(&[&plain])), [false]);
    let filtered = block(|k| k.labels = Some("env=prod".parse().unwrap()));
    assert_eq!(services(watch_specs(&[&plain, &filtered])), [true]);
}

#[test]
fn a_node_local_cairn_watches_only_its_nodes_pods() {
    let k = block(|k| k.pods = PodMode::Verified);
    let mut specs = watch_specs(&[&k]);
    pods_on_node(&mut specs, "node-a");
    assert_eq!(
        describe(&specs),
        [
            "namespaces labels=- fields=-",
            "services labels=- fields=-",
            "endpointslices labels=- fields=-",
            "pods labels=- fields=spec.nodeName=node-a,status.phase!=Succeeded,status.phase!=Failed",
        ]
    );
}

#[test]
fn service_imports_are_watched_only_when_a_block_is_multicluster() {
    let imports = |specs: Vec<super::WatchSpec>| {
        specs
            .iter()
            .filter(|s| s.scope.kind == change::Kind::ServiceImport)
            .count()
    };
    let plain = block(|_| {});
    assert_eq!(imports(watch_specs(&[&plain])), 0);
    assert!(watch_specs(&[&plain]).iter().all(|s| !s.keep_multicluster));
    let mc = block(|k| {
        k.multicluster = vec![hickory_proto::rr::Name::from_ascii("clusterset.local.").unwrap()]
    });
    assert_eq!(imports(watch_specs(&[&plain, &mc])), 1);
    assert!(watch_specs(&[&plain, &mc])
        .iter()
        .any(|s| s.scope.kind == change::Kind::EndpointSlice && s.keep_multicluster));
    let scoped = block(|k| {
        k.multicluster = vec![hickory_proto::rr::Name::from_ascii("clusterset.local.").unwrap()];
        k.namespaces = vec!["a".into(), "b".into()];
    });
    assert_eq!(imports(watch_specs(&[&scoped])), 2);
    assert_eq!(
        (
            change::Kind::ServiceImport.api_group(),
            change::Kind::ServiceImport.resource()
        ),
        ("multicluster.x-k8s.io", "serviceimports")
    );
}
