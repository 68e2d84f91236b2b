//! Watch streams over real HTTP, read byte for byte.

mod common;

use std::time::{Duration, Instant};

use common::{get, server, service, summary, Next, Watch, TIMEOUT};
use serde_json::json;

fn ev(kind: &str, name: &str) -> (String, String) {
    (kind.to_string(), name.to_string())
}

#[test]
fn watch_from_rv_gets_exactly_the_later_events_in_order() {
    let s = server();
    s.apply(service("a", "before", json!({}))).unwrap();
    let rv = s.resource_version();
    s.apply(service("a", "x", json!({}))).unwrap();
    s.apply(service("a", "x", json!({"v": "2"}))).unwrap();
    s.delete("services", Some("a"), "x").unwrap();
    let mut w = Watch::open(
        s.addr(),
        &format!("/api/v1/services?watch=true&resourceVersion={rv}"),
    );
    assert_eq!(w.status, 200);
    assert_eq!(w.header("transfer-encoding"), Some("chunked"));
    assert_eq!(w.header("content-type"), Some("application/json"));
    let got: Vec<_> = (0..3).map(|_| summary(&w.event())).collect();
    assert_eq!(
        got,
        [
            ev("ADDED", "a/x"),
            ev("MODIFIED", "a/x"),
            ev("DELETED", "a/x")
        ]
    );
    // Live events follow, and nothing else was queued.
    s.apply(service("b", "live", json!({}))).unwrap();
    let live = w.event();
    assert_eq!(summary(&live), ev("ADDED", "b/live"));
    assert_eq!(live["object"]["kind"], "Service");
    assert_eq!(
        live["object"]["metadata"]["resourceVersion"],
        s.resource_version()
    );
    assert_eq!(s.watches_opened("services"), 1);
}

#[test]
fn deleted_event_carries_the_final_object() {
    let s = server();
    s.apply(service("a", "x", json!({"keep": "me"}))).unwrap();
    let mut w = Watch::open(
        s.addr(),
        &format!(
            "/api/v1/namespaces/a/services?watch=1&resourceVersion={}",
            s.resource_version()
        ),
    );
    let rv = s.delete("svc", Some("a"), "x").unwrap();
    let e = w.event();
    assert_eq!(summary(&e), ev("DELETED", "a/x"));
    assert_eq!(e["object"]["metadata"]["labels"]["keep"], "me");
    assert_eq!(e["object"]["metadata"]["resourceVersion"], rv);
}

#[test]
fn rv_zero_starts_with_synthetic_added_then_live() {
    let s = server();
    s.apply(service("a", "one", json!({}))).unwrap();
    s.apply(service("b", "two", json!({}))).unwrap();
    let mut w = Watch::open(s.addr(), "/api/v1/services?watch=true&resourceVersion=0");
    assert_eq!(summary(&w.event()), ev("ADDED", "a/one"));
    assert_eq!(summary(&w.event()), ev("ADDED", "b/two"));
    s.apply(service("a", "one", json!({"x": "y"}))).unwrap();
    assert_eq!(summary(&w.event()), ev("MODIFIED", "a/one"));
}

#[test]
fn bookmarks_carry_the_current_rv() {
    let s = server();
    s.set_bookmark_interval(Duration::from_millis(100));
    s.apply(service("a", "one", json!({}))).unwrap();
    let mut w = Watch::open(
        s.addr(),
        &format!(
            "/api/v1/services?watch=true&allowWatchBookmarks=true&resourceVersion={}",
            s.resource_version()
        ),
    );
    // A write to another resource moves the RV; the bookmark must report it.
    s.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "z"}}))
        .unwrap();
    let current = s.resource_version();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match w.next(deadline.saturating_duration_since(Instant::now())) {
            Next::Event(e) if e["type"] == "BOOKMARK" => {
                assert_eq!(e["object"]["kind"], "Service");
                if e["object"]["metadata"]["resourceVersion"] == current {
                    break;
                }
            }
            other => panic!("expected bookmarks only, got {other:?}"),
        }
    }
    // Without allowWatchBookmarks, none come.
    let mut quiet = Watch::open(
        s.addr(),
        &format!("/api/v1/services?watch=true&resourceVersion={current}"),
    );
    assert_eq!(quiet.next(Duration::from_millis(400)), Next::Timeout);
}

#[test]
fn streaming_list_ends_initial_events_with_annotated_bookmark() {
    let s = server();
    s.set_bookmark_interval(Duration::from_secs(60));
    s.apply(service("a", "one", json!({}))).unwrap();
    s.apply(service("a", "two", json!({}))).unwrap();
    let rv = s.resource_version();
    let mut w = Watch::open(
        s.addr(),
        "/api/v1/services?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    );
    assert_eq!(summary(&w.event()), ev("ADDED", "a/one"));
    assert_eq!(summary(&w.event()), ev("ADDED", "a/two"));
    let Next::Event(end) = w.next(TIMEOUT) else {
        panic!("no bookmark")
    };
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(end["object"]["metadata"]["resourceVersion"], rv);
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    // sendInitialEvents without NotOlderThan is refused, like the real API.
    let (code, _) = get(
        s.addr(),
        "/api/v1/services?watch=true&sendInitialEvents=true",
    );
    assert_eq!(code, 400);
}

#[test]
fn timeout_seconds_ends_the_stream_cleanly() {
    let s = server();
    let start = Instant::now();
    let mut w = Watch::open(s.addr(), "/api/v1/services?watch=true&timeoutSeconds=1");
    assert_eq!(w.next(Duration::from_secs(3)), Next::End);
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[test]
fn watch_from_compacted_rv_gets_410_error_event() {
    let s = server();
    s.apply(service("a", "one", json!({}))).unwrap();
    let old = s.resource_version();
    s.compact();
    let mut w = Watch::open(
        s.addr(),
        &format!("/api/v1/services?watch=true&resourceVersion={old}"),
    );
    assert_eq!(w.status, 200);
    let Next::Event(e) = w.next(TIMEOUT) else {
        panic!("no event")
    };
    assert_eq!(e["type"], "ERROR");
    let status = &e["object"];
    assert_eq!(
        (
            status["kind"].as_str(),
            status["reason"].as_str(),
            status["code"].as_u64()
        ),
        (Some("Status"), Some("Expired"), Some(410))
    );
    assert!(status["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("too old resource version: {old} (")));
    assert_eq!(w.next(TIMEOUT), Next::End);
    // A list after compaction gives an RV that can be watched from.
    let (_, list) = get(s.addr(), "/api/v1/services");
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap();
    let mut w = Watch::open(
        s.addr(),
        &format!("/api/v1/services?watch=true&resourceVersion={rv}"),
    );
    s.apply(service("a", "two", json!({}))).unwrap();
    assert_eq!(summary(&w.event()), ev("ADDED", "a/two"));
}

#[test]
fn disconnect_watches_aborts_without_terminating_chunk() {
    let s = server();
    let mut w1 = Watch::open(s.addr(), "/api/v1/services?watch=true");
    let mut w2 = Watch::open(
        s.addr(),
        "/apis/discovery.k8s.io/v1/endpointslices?watch=true",
    );
    s.apply(service("a", "one", json!({}))).unwrap();
    assert_eq!(summary(&w1.event()), ev("ADDED", "a/one"));
    s.disconnect_watches();
    assert_eq!(w1.next(TIMEOUT), Next::Aborted);
    assert_eq!(w2.next(TIMEOUT), Next::Aborted);
    // The server keeps serving.
    let mut w3 = Watch::open(s.addr(), "/api/v1/services?watch=true");
    assert_eq!(summary(&w3.event()), ev("ADDED", "a/one"));
    assert_eq!(s.watches_opened("services"), 2);
    assert_eq!(s.watches_opened("endpointslices"), 1);
}

#[test]
fn selector_watches_see_objects_enter_and_leave() {
    let s = server();
    let rv = s.resource_version();
    let mut w = Watch::open(
        s.addr(),
        &format!("/api/v1/services?watch=true&resourceVersion={rv}&labelSelector=app%3Dweb&fieldSelector=metadata.namespace%3Da"),
    );
    s.apply(service("a", "x", json!({"app": "db"}))).unwrap(); // not matching
    s.apply(service("b", "x", json!({"app": "web"}))).unwrap(); // other namespace
    s.apply(service("a", "x", json!({"app": "web"}))).unwrap(); // enters
    s.apply(service("a", "x", json!({"app": "web", "v": "2"})))
        .unwrap();
    s.apply(service("a", "x", json!({"app": "db"}))).unwrap(); // leaves
    let got: Vec<_> = (0..3).map(|_| summary(&w.event())).collect();
    assert_eq!(
        got,
        [
            ev("ADDED", "a/x"),
            ev("MODIFIED", "a/x"),
            ev("DELETED", "a/x")
        ]
    );
    assert_eq!(w.next_change(Duration::from_millis(300)), Next::Timeout);
}

#[test]
fn dropping_the_server_closes_watches() {
    let s = server();
    let mut w = Watch::open(s.addr(), "/api/v1/services?watch=true");
    drop(s);
    assert_eq!(w.next(TIMEOUT), Next::Aborted);
}
