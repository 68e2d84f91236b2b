use super::*;
use crate::cluster::model::{Labels, ServiceKind};

fn svc(ns: &str, name: &str) -> Object {
    Object::Service(Service {
        namespace: ns.into(),
        name: name.into(),
        kind: ServiceKind::Headless,
        ports: Vec::new().into(),
        publish_not_ready: false,
        labels: Labels::new(),
        external: Vec::new(),
    })
}

fn names(state: &ClusterState) -> Vec<String> {
    state
        .services
        .keys()
        .map(|(ns, n)| format!("{ns}/{n}"))
        .collect()
}

fn scope(namespace: Option<&str>) -> Scope {
    Scope {
        kind: Kind::Service,
        namespace: namespace.map(str::to_string),
    }
}

#[test]
fn upserts_and_deletes_by_key() {
    let mut state = ClusterState::default();
    apply(&mut state, Change::Applied(svc("a", "x")));
    apply(&mut state, Change::Applied(svc("a", "y")));
    apply(&mut state, Change::Applied(svc("a", "x")));
    assert_eq!(names(&state), ["a/x", "a/y"]);
    apply(
        &mut state,
        Change::Deleted(Kind::Service, ("a".into(), "x".into())),
    );
    assert_eq!(names(&state), ["a/y"]);
    apply(
        &mut state,
        Change::Deleted(Kind::Service, ("a".into(), "gone".into())),
    );
    assert_eq!(names(&state), ["a/y"]);
}

#[test]
fn a_cluster_wide_relist_drops_what_was_deleted_meanwhile() {
    let mut state = ClusterState::default();
    for n in ["x", "y", "z"] {
        apply(&mut state, Change::Applied(svc("a", n)));
    }
    apply(
        &mut state,
        Change::Relisted(scope(None), vec![svc("a", "y"), svc("b", "new")]),
    );
    assert_eq!(names(&state), ["a/y", "b/new"]);
}

#[test]
fn a_namespaced_relist_replaces_only_its_namespace() {
    let mut state = ClusterState::default();
    apply(&mut state, Change::Applied(svc("a", "x")));
    apply(&mut state, Change::Applied(svc("b", "x")));
    apply(
        &mut state,
        Change::Relisted(scope(Some("a")), vec![svc("a", "fresh")]),
    );
    assert_eq!(names(&state), ["a/fresh", "b/x"]);
}

#[test]
fn kinds_name_the_resources_and_groups_the_api_serves() {
    use k8s_openapi::Resource;
    // RBAC rules are written from these names (deploy/base/clusterrole.yaml, checked by
    // tests/deploy.rs), so they must be the API's own.
    let expected = [
        (
            Kind::Namespace,
            k8s_openapi::api::core::v1::Namespace::URL_PATH_SEGMENT,
            "",
        ),
        (
            Kind::Service,
            k8s_openapi::api::core::v1::Service::URL_PATH_SEGMENT,
            "",
        ),
        (
            Kind::EndpointSlice,
            k8s_openapi::api::discovery::v1::EndpointSlice::URL_PATH_SEGMENT,
            "discovery.k8s.io",
        ),
        (
            Kind::Pod,
            k8s_openapi::api::core::v1::Pod::URL_PATH_SEGMENT,
            "",
        ),
    ];
    for (kind, resource, group) in expected {
        assert_eq!(kind.resource(), resource, "{kind:?}");
        assert_eq!(kind.api_group(), group, "{kind:?}");
    }
}
