//! Fidelity checked by a client nobody here wrote: kube-rs, configured from the kubeconfig the
//! server writes, pages lists and runs `kube::runtime::watcher` through disconnects and
//! compaction.

use std::time::Duration;

use apisim::ApiServer;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Config, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc;

const STEP: Duration = Duration::from_secs(15);

fn service(ns: &str, name: &str, version: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": {"v": version}},
        "spec": {"ports": [{"port": 80}]},
    })
}

async fn client(server: &ApiServer, dir: &tempfile::TempDir) -> Client {
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    let kubeconfig = Kubeconfig::read_from(&path).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    assert_eq!(config.default_namespace, "default");
    Client::try_from(config).expect("kube client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_pages_a_list() {
    let server = ApiServer::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (ns, name) in [
        ("a", "s1"),
        ("a", "s2"),
        ("b", "s3"),
        ("b", "s4"),
        ("c", "s5"),
    ] {
        server.apply(service(ns, name, "1")).unwrap();
    }
    let api = Api::<Service>::all(client(&server, &dir).await);
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(2);
    let mut pages = 0;
    loop {
        let page = tokio::time::timeout(STEP, api.list(&params))
            .await
            .unwrap()
            .unwrap();
        pages += 1;
        names.extend(
            page.items
                .iter()
                .map(|s| format!("{}/{}", s.namespace().unwrap(), s.name_any())),
        );
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(names, ["a/s1", "a/s2", "b/s3", "b/s4", "c/s5"]);
    assert_eq!(pages, 3);
    assert_eq!(server.lists_served("services"), 3);
    // Typed get and a namespaced list.
    let one = Api::<Service>::namespaced(api.clone().into_client(), "b");
    let s3 = one.get("s3").await.unwrap();
    assert_eq!(s3.metadata.labels.unwrap()["v"], "1");
    assert!(one.get("nope").await.is_err());
}

/// Forwards a watcher's events as short strings: `Init`, `InitApply a/x@1`, `Apply a/x@2`, ...
fn spawn_watcher(api: Api<Service>, config: watcher::Config) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let describe = |s: &Service| {
            let v = s.labels().get("v").cloned().unwrap_or_default();
            format!("{}/{}@{v}", s.namespace().unwrap_or_default(), s.name_any())
        };
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            let line = match item {
                Ok(watcher::Event::Init) => "Init".to_string(),
                Ok(watcher::Event::InitApply(s)) => format!("InitApply {}", describe(&s)),
                Ok(watcher::Event::InitDone) => "InitDone".to_string(),
                Ok(watcher::Event::Apply(s)) => format!("Apply {}", describe(&s)),
                Ok(watcher::Event::Delete(s)) => format!("Delete {}", describe(&s)),
                Err(e) => format!("Error {e}"),
            };
            eprintln!("watcher: {line}");
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(STEP, rx.recv())
        .await
        .expect("watcher event in time")
        .expect("watcher stream alive")
}

/// Waits (bounded) until `condition` holds.
async fn eventually(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + STEP;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in {STEP:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads events until `wanted`, returning everything seen before it.
async fn until(rx: &mut mpsc::UnboundedReceiver<String>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let event = next(rx).await;
        if event == wanted {
            return seen;
        }
        seen.push(event);
    }
}

async fn watcher_scenario(config: watcher::Config, streaming: bool) {
    let server = ApiServer::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // No periodic bookmarks: one arriving after `compact()` would hand the watcher a fresh RV.
    server.set_bookmark_interval(Duration::from_secs(600));
    let dir = tempfile::tempdir().unwrap();
    server.apply(service("a", "pre", "1")).unwrap();
    let api = Api::<Service>::all(client(&server, &dir).await);
    let mut rx = spawn_watcher(api, config);

    assert_eq!(next(&mut rx).await, "Init");
    assert_eq!(next(&mut rx).await, "InitApply a/pre@1");
    assert_eq!(next(&mut rx).await, "InitDone");
    let lists = server.lists_served("services");
    assert_eq!(lists, if streaming { 0 } else { 1 });
    server.apply(service("a", "x", "1")).unwrap();
    assert_eq!(next(&mut rx).await, "Apply a/x@1");
    let watches = server.watches_opened("services");
    assert_eq!(watches, 1);
    server.apply(service("a", "x", "2")).unwrap();
    assert_eq!(next(&mut rx).await, "Apply a/x@2");
    server.delete("Service", Some("a"), "x").unwrap();
    assert_eq!(next(&mut rx).await, "Delete a/x@2");

    // An abrupt disconnect: the watcher resumes from its last RV, without re-listing.
    server.disconnect_watches();
    server.apply(service("b", "y", "1")).unwrap();
    let before = until(&mut rx, "Apply b/y@1").await;
    // kube-rs ends a watch silently on an unexpected EOF, so errors are optional here.
    assert!(before.iter().all(|e| e.starts_with("Error")), "{before:?}");
    eventually(|| server.watches_opened("services") == watches + 1).await;
    assert_eq!(
        server.lists_served("services"),
        lists,
        "resumed without a list"
    );

    // Compact, then disconnect: the resumed watch gets 410 Expired, and the watcher re-lists.
    // (Compacting first: kube-rs reconnects at once, possibly before a later `compact()`.)
    server.compact();
    server.disconnect_watches();
    server.apply(service("c", "z", "1")).unwrap();
    let seen = until(&mut rx, "InitDone").await;
    assert!(seen.contains(&"Init".to_string()), "{seen:?}");
    assert!(seen.contains(&"InitApply c/z@1".to_string()), "{seen:?}");
    assert!(
        seen.iter()
            .any(|e| e.starts_with("Error") && e.contains("too old resource version")),
        "the watcher saw the 410: {seen:?}"
    );
    if streaming {
        assert_eq!(server.lists_served("services"), 0);
        assert!(server.watches_opened("services") >= watches + 3);
    } else {
        assert_eq!(server.lists_served("services"), lists + 1, "re-listed once");
    }
    server.apply(service("c", "z", "2")).unwrap();
    assert_eq!(next(&mut rx).await, "Apply c/z@2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watcher_list_then_watch() {
    watcher_scenario(watcher::Config::default(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watcher_streaming_lists() {
    watcher_scenario(watcher::Config::default().streaming_lists(), true).await;
}
