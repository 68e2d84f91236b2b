//! Lists, pagination, selectors and writes over real HTTP.

mod common;

use common::{get, names, request, server, service};
use serde_json::{json, Value};

fn seeded() -> apisim::ApiServer {
    let s = server();
    for (ns, name, app) in [
        ("a", "one", "web"),
        ("a", "two", "db"),
        ("b", "three", "web"),
        ("b", "four", "cache"),
        ("c", "five", "web"),
    ] {
        s.apply(service(ns, name, json!({"app": app}))).unwrap();
    }
    s
}

#[test]
fn list_has_kind_rv_and_items_in_key_order() {
    let s = seeded();
    let (code, list) = get(s.addr(), "/api/v1/services");
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "ServiceList");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["metadata"]["resourceVersion"], s.resource_version());
    assert_eq!(
        names(&list),
        ["a/one", "a/two", "b/four", "b/three", "c/five"]
    );
    let (_, ns_list) = get(s.addr(), "/api/v1/namespaces/b/services");
    assert_eq!(names(&ns_list), ["b/four", "b/three"]);
    assert_eq!(s.lists_served("services"), 2);
}

#[test]
fn pagination_reads_one_snapshot() {
    let s = seeded();
    let (_, page1) = get(s.addr(), "/api/v1/services?limit=2");
    assert_eq!(names(&page1), ["a/one", "a/two"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let snapshot_rv = page1["metadata"]["resourceVersion"].clone();
    // Changes after the first page must not show in later pages.
    s.apply(service("b", "added-later", json!({}))).unwrap();
    s.delete("svc", Some("c"), "five").unwrap();
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, page2) = get(
        s.addr(),
        &format!("/api/v1/services?limit=2&continue={token}"),
    );
    assert_eq!(names(&page2), ["b/four", "b/three"]);
    assert_eq!(page2["metadata"]["resourceVersion"], snapshot_rv);
    let token = page2["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, page3) = get(
        s.addr(),
        &format!("/api/v1/services?limit=2&continue={token}"),
    );
    assert_eq!(names(&page3), ["c/five"]);
    assert!(page3["metadata"].get("continue").is_none(), "{page3}");
    // A fresh list sees the changes.
    let (_, fresh) = get(s.addr(), "/api/v1/services");
    assert_eq!(
        names(&fresh),
        ["a/one", "a/two", "b/added-later", "b/four", "b/three"]
    );
}

#[test]
fn expired_continue_token_is_410() {
    let s = seeded();
    let (_, page1) = get(s.addr(), "/api/v1/services?limit=2");
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    s.compact();
    let (code, status) = get(
        s.addr(),
        &format!("/api/v1/services?limit=2&continue={token}"),
    );
    assert_eq!(code, 410, "{status}");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "Expired");
    assert_eq!(status["code"], 410);
}

#[test]
fn exact_resource_version_and_too_large() {
    let s = seeded();
    let before = s.resource_version();
    s.delete("services", Some("a"), "one").unwrap();
    let (_, past) = get(
        s.addr(),
        &format!(
            "/api/v1/namespaces/a/services?resourceVersion={before}&resourceVersionMatch=Exact"
        ),
    );
    assert_eq!(names(&past), ["a/one", "a/two"]);
    let (code, status) = get(s.addr(), "/api/v1/services?resourceVersion=999999");
    assert_eq!(code, 504, "{status}");
    assert_eq!(status["reason"], "Timeout");
}

#[test]
fn label_and_field_selectors() {
    let s = seeded();
    let cases: &[(&str, &[&str])] = &[
        ("labelSelector=app%3Dweb", &["a/one", "b/three", "c/five"]),
        (
            "labelSelector=app%3D%3Dweb",
            &["a/one", "b/three", "c/five"],
        ),
        ("labelSelector=app!%3Dweb", &["a/two", "b/four"]),
        ("labelSelector=app+in+(db,cache)", &["a/two", "b/four"]),
        ("labelSelector=app+notin+(web,db)", &["b/four"]),
        (
            "labelSelector=app",
            &["a/one", "a/two", "b/four", "b/three", "c/five"],
        ),
        ("labelSelector=!app", &[]),
        ("fieldSelector=metadata.name%3Dtwo", &["a/two"]),
        (
            "fieldSelector=metadata.namespace%3Db",
            &["b/four", "b/three"],
        ),
        (
            "fieldSelector=metadata.namespace!%3Db,metadata.name!%3Done",
            &["a/two", "c/five"],
        ),
        (
            "labelSelector=app%3Dweb&fieldSelector=metadata.namespace%3Db",
            &["b/three"],
        ),
    ];
    for (query, expected) in cases {
        let (code, list) = get(s.addr(), &format!("/api/v1/services?{query}"));
        assert_eq!(code, 200, "{query}: {list}");
        assert_eq!(names(&list), *expected, "{query}");
    }
    let (code, status) = get(s.addr(), "/api/v1/services?labelSelector=app+in+web");
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")));
}

#[test]
fn create_get_replace_delete() {
    let s = server();
    let addr = s.addr();
    let path = "/api/v1/namespaces/ns1/services";
    let (code, created) = request(addr, "POST", path, Some(&service("ns1", "x", json!({}))));
    assert_eq!(code, 201, "{created}");
    let meta = &created["metadata"];
    assert!(!meta["uid"].as_str().unwrap().is_empty());
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    let rv1 = meta["resourceVersion"].as_str().unwrap().to_string();
    assert_eq!(rv1, s.resource_version());

    let (code, status) = request(addr, "POST", path, Some(&service("ns1", "x", json!({}))));
    assert_eq!(
        (code, status["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );

    let (code, got) = get(addr, "/api/v1/namespaces/ns1/services/x");
    assert_eq!((code, &got), (200, &created));
    assert_eq!(got["kind"], "Service");

    let mut changed = created.clone();
    changed["metadata"]["labels"] = json!({"v": "2"});
    let (code, replaced) = request(addr, "PUT", &format!("{path}/x"), Some(&changed));
    assert_eq!(code, 200, "{replaced}");
    let rv2 = replaced["metadata"]["resourceVersion"].as_str().unwrap();
    assert!(rv2.parse::<u64>().unwrap() > rv1.parse::<u64>().unwrap());
    assert_eq!(replaced["metadata"]["uid"], created["metadata"]["uid"]);

    // A stale resourceVersion is a conflict.
    let (code, status) = request(addr, "PUT", &format!("{path}/x"), Some(&changed));
    assert_eq!(
        (code, status["reason"].as_str()),
        (409, Some("Conflict")),
        "{status}"
    );

    let (code, deleted) = request(addr, "DELETE", &format!("{path}/x"), None);
    assert_eq!(code, 200);
    assert_eq!(deleted["metadata"]["name"], "x");
    let (code, status) = get(addr, "/api/v1/namespaces/ns1/services/x");
    assert_eq!((code, status["reason"].as_str()), (404, Some("NotFound")));
    assert_eq!(status["details"]["kind"], "services");
}

#[test]
fn invalid_objects_are_400_status() {
    let s = server();
    let bad: Value = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "bad"}, "spec": {"ports": "not-a-list"}});
    let (code, status) = request(
        s.addr(),
        "POST",
        "/api/v1/namespaces/a/services",
        Some(&bad),
    );
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["kind"], "Status");
    assert!(s.apply(bad).is_err());
    let wrong_ns = service("other", "x", json!({}));
    let (code, _) = request(
        s.addr(),
        "POST",
        "/api/v1/namespaces/a/services",
        Some(&wrong_ns),
    );
    assert_eq!(code, 400);
}

#[test]
fn namespaces_endpointslices_pods_and_unknown_paths() {
    let s = server();
    s.load_list(json!({"kind": "List", "apiVersion": "v1", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"},
         "spec": {"containers": [{"name": "c", "image": "i"}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "e", "namespace": "a"}, "addressType": "IPv4", "endpoints": []},
    ]}))
    .unwrap();
    let (_, ns) = get(s.addr(), "/api/v1/namespaces/a");
    assert_eq!(
        (ns["kind"].as_str(), ns["metadata"]["name"].as_str()),
        (Some("Namespace"), Some("a"))
    );
    let (_, list) = get(s.addr(), "/api/v1/namespaces");
    assert_eq!(list["kind"], "NamespaceList");
    let (_, pods) = get(s.addr(), "/api/v1/namespaces/a/pods");
    assert_eq!(names(&pods), ["a/p"]);
    let (_, slices) = get(s.addr(), "/apis/discovery.k8s.io/v1/endpointslices");
    assert_eq!(slices["kind"], "EndpointSliceList");
    assert_eq!(slices["apiVersion"], "discovery.k8s.io/v1");
    assert_eq!(names(&slices), ["a/e"]);
    assert_eq!(s.objects("EndpointSlice").len(), 1);
    for path in [
        "/api/v1/configmaps",
        "/apis/apps/v1/deployments",
        "/nope",
        "/api/v1/namespaces/a/namespaces",
    ] {
        let (code, status) = get(s.addr(), path);
        assert_eq!(
            (code, status["kind"].as_str()),
            (404, Some("Status")),
            "{path}"
        );
    }
}

#[test]
fn discovery_documents() {
    let s = server();
    let (_, version) = get(s.addr(), "/version");
    assert_eq!(version["major"], "1");
    let (_, api) = get(s.addr(), "/api");
    assert_eq!(api["versions"], json!(["v1"]));
    let (_, apis) = get(s.addr(), "/apis");
    assert_eq!(apis["groups"][0]["name"], "discovery.k8s.io");
    let (_, core) = get(s.addr(), "/api/v1");
    let svc = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "services")
        .unwrap();
    assert_eq!(svc["shortNames"], json!(["svc"]));
    assert_eq!(svc["namespaced"], true);
    assert!(svc["verbs"].as_array().unwrap().contains(&json!("watch")));
}

#[test]
fn delay_slows_responses() {
    let s = server();
    s.set_delay(std::time::Duration::from_millis(300));
    let start = std::time::Instant::now();
    get(s.addr(), "/api/v1/services");
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
}

#[test]
fn non_json_bodies_are_415() {
    use std::io::{Read, Write};
    let s = server();
    let mut stream = std::net::TcpStream::connect(s.addr()).unwrap();
    stream.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    stream
        .write_all(
            b"POST /api/v1/namespaces/a/services HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/vnd.kubernetes.protobuf\r\nContent-Length: 3\r\n\
              Connection: close\r\n\r\nk8s",
        )
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 415"), "{response}");
    assert!(response.contains("UnsupportedMediaType"), "{response}");
}
