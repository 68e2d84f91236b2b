//! Cairn serving from the Kubernetes API (the `apisim` test server, reached through a
//! kubeconfig, as `cairn serve` does): live changes of every watched kind appear in answers,
//! filters hold, and before the first sync a miss is SERVFAIL rather than NXDOMAIN.

mod api;
mod common;

use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use serde_json::json;

use api::{eventually, labelled, namespace, pod, service, slice, start_api, start_cairn};
use common::{exchange, query, render_all, Transport};

const LIMIT: Duration = Duration::from_secs(10);

fn ask(addr: std::net::SocketAddr, name: &str, qtype: RecordType) -> Message {
    exchange(addr, Transport::Udp, &query(name, qtype, Some(1232))).expect("an answer")
}

/// `Ok` when `name`/`qtype` answers exactly `want` (sorted rdata), with NOERROR.
fn answers(
    addr: std::net::SocketAddr,
    name: &str,
    qtype: RecordType,
    want: &[&str],
) -> Result<(), String> {
    let m = ask(addr, name, qtype);
    let mut got: Vec<String> = m.answers.iter().map(|r| r.data.to_string()).collect();
    got.sort();
    if m.metadata.response_code == ResponseCode::NoError && got == want {
        Ok(())
    } else {
        Err(format!(
            "{name} {qtype}: {} {got:?}, want {want:?}",
            m.metadata.response_code
        ))
    }
}

fn rcode_is(addr: std::net::SocketAddr, name: &str, want: ResponseCode) -> Result<(), String> {
    let m = ask(addr, name, RecordType::A);
    if m.metadata.response_code == want {
        Ok(())
    } else {
        Err(format!(
            "{name}: {} {:?}, want {want}",
            m.metadata.response_code,
            render_all(&m.answers)
        ))
    }
}

#[test]
fn services_slices_and_namespaces_follow_the_api() {
    let api = start_api(&[
        namespace("default"),
        namespace("shop"),
        service("shop", "web", "10.96.0.20"),
        slice("shop", "web-1", "web", &["10.244.0.1"], false),
        service("shop", "db", "None"),
        slice("shop", "db-1", "db", &["10.244.1.1", "10.244.1.2"], true),
    ]);
    let cairn = start_cairn(&api::corefile(&api.kubeconfig, ""), LIMIT);
    assert!(cairn.status.borrow().synced, "synced within {LIMIT:?}");
    let dns = cairn.addr;

    answers(
        dns,
        "web.shop.svc.cluster.local.",
        RecordType::A,
        &["10.96.0.20"],
    )
    .unwrap();
    answers(
        dns,
        "db.shop.svc.cluster.local.",
        RecordType::A,
        &["10.244.1.1", "10.244.1.2"],
    )
    .unwrap();

    // Create.
    api.server
        .apply(service("shop", "new", "10.96.0.30"))
        .unwrap();
    eventually(LIMIT, || {
        answers(
            dns,
            "new.shop.svc.cluster.local.",
            RecordType::A,
            &["10.96.0.30"],
        )
    });
    // Update a Service.
    api.server
        .apply(service("shop", "web", "10.96.0.21"))
        .unwrap();
    eventually(LIMIT, || {
        answers(
            dns,
            "web.shop.svc.cluster.local.",
            RecordType::A,
            &["10.96.0.21"],
        )
    });
    // Update an EndpointSlice: a third replica, with its per-hostname name.
    api.server
        .apply(slice(
            "shop",
            "db-1",
            "db",
            &["10.244.1.1", "10.244.1.2", "10.244.1.3"],
            true,
        ))
        .unwrap();
    eventually(LIMIT, || {
        answers(
            dns,
            "db-2.db.shop.svc.cluster.local.",
            RecordType::A,
            &["10.244.1.3"],
        )
    });
    // A second slice of the same Service adds to it; deleting it takes its addresses away.
    api.server
        .apply(slice("shop", "db-2", "db", &["10.244.2.9"], false))
        .unwrap();
    eventually(LIMIT, || {
        answers(
            dns,
            "db.shop.svc.cluster.local.",
            RecordType::A,
            &["10.244.1.1", "10.244.1.2", "10.244.1.3", "10.244.2.9"],
        )
    });
    api.server
        .delete("EndpointSlice", Some("shop"), "db-2")
        .unwrap();
    eventually(LIMIT, || {
        rcode_is(
            dns,
            "10-244-2-9.db.shop.svc.cluster.local.",
            ResponseCode::NXDomain,
        )
    });
    // Delete a Service.
    api.server.delete("Service", Some("shop"), "web").unwrap();
    eventually(LIMIT, || {
        rcode_is(dns, "web.shop.svc.cluster.local.", ResponseCode::NXDomain)
    });
    // Namespaces: a new one exists (NODATA), a deleted one is gone (NXDOMAIN).
    api.server.apply(namespace("fresh")).unwrap();
    eventually(LIMIT, || {
        rcode_is(dns, "fresh.svc.cluster.local.", ResponseCode::NoError)
    });
    api.server.delete("Namespace", None, "shop").unwrap();
    eventually(LIMIT, || {
        rcode_is(dns, "new.shop.svc.cluster.local.", ResponseCode::NXDomain)
    });

    // Every change served was timed from its arrival (3 initial lists + 8 changes).
    let (count, sum_seconds) = cairn.status.borrow().programming.0.totals();
    assert!(count >= 11, "{count} changes timed");
    assert!(sum_seconds > 0.0, "the changes took time: {sum_seconds}");
}

#[test]
fn verified_pod_records_follow_pod_phase() {
    let api = start_api(&[namespace("default")]);
    let cairn = start_cairn(&api::corefile(&api.kubeconfig, "pods verified"), LIMIT);
    let dns = cairn.addr;
    let name = "10-244-5-5.default.pod.cluster.local.";
    rcode_is(dns, name, ResponseCode::NXDomain).unwrap();
    api.server
        .apply(pod("default", "p", "10.244.5.5", "Running"))
        .unwrap();
    eventually(LIMIT, || answers(dns, name, RecordType::A, &["10.244.5.5"]));
    api.server
        .apply(pod("default", "p", "10.244.5.5", "Succeeded"))
        .unwrap();
    eventually(LIMIT, || rcode_is(dns, name, ResponseCode::NXDomain));
    api.server
        .apply(pod("default", "q", "10.244.5.5", "Running"))
        .unwrap();
    eventually(LIMIT, || answers(dns, name, RecordType::A, &["10.244.5.5"]));
    api.server.delete("Pod", Some("default"), "q").unwrap();
    eventually(LIMIT, || rcode_is(dns, name, ResponseCode::NXDomain));
}

#[test]
fn namespace_and_label_filters_hold_for_live_changes() {
    let prod = json!({"env": "prod"});
    let api = start_api(&[
        namespace("shop"),
        namespace("other"),
        labelled(service("shop", "web", "10.96.0.20"), prod.clone()),
        service("shop", "plain", "10.96.0.21"),
        labelled(service("other", "web", "10.96.0.22"), prod.clone()),
    ]);
    let cairn = start_cairn(
        &api::corefile(&api.kubeconfig, "namespaces shop\nlabels env=prod"),
        LIMIT,
    );
    let dns = cairn.addr;
    answers(
        dns,
        "web.shop.svc.cluster.local.",
        RecordType::A,
        &["10.96.0.20"],
    )
    .unwrap();
    rcode_is(dns, "plain.shop.svc.cluster.local.", ResponseCode::NXDomain).unwrap();
    rcode_is(dns, "web.other.svc.cluster.local.", ResponseCode::NXDomain).unwrap();
    rcode_is(dns, "other.svc.cluster.local.", ResponseCode::NXDomain).unwrap();

    // Labelling a Service brings it in; unlabelling it takes it out again.
    api.server
        .apply(labelled(
            service("shop", "plain", "10.96.0.21"),
            prod.clone(),
        ))
        .unwrap();
    eventually(LIMIT, || {
        answers(
            dns,
            "plain.shop.svc.cluster.local.",
            RecordType::A,
            &["10.96.0.21"],
        )
    });
    api.server
        .apply(service("shop", "plain", "10.96.0.21"))
        .unwrap();
    eventually(LIMIT, || {
        rcode_is(dns, "plain.shop.svc.cluster.local.", ResponseCode::NXDomain)
    });
    // Changes outside the exposed namespace never show.
    api.server
        .apply(labelled(service("other", "late", "10.96.0.23"), prod))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    rcode_is(dns, "late.other.svc.cluster.local.", ResponseCode::NXDomain).unwrap();
}

#[test]
fn before_the_first_sync_misses_are_servfail_then_nxdomain() {
    let api = start_api(&[namespace("shop"), service("shop", "web", "10.96.0.20")]);
    api.server.set_delay(Duration::from_millis(1500));
    let cairn = start_cairn(&api::corefile(&api.kubeconfig, ""), Duration::ZERO);
    assert!(
        !cairn.status.borrow().synced,
        "the API is slow: not synced yet"
    );
    let dns = cairn.addr;
    rcode_is(dns, "nope.shop.svc.cluster.local.", ResponseCode::ServFail).unwrap();
    rcode_is(dns, "web.shop.svc.cluster.local.", ResponseCode::ServFail).unwrap();
    api.server.set_delay(Duration::ZERO);
    eventually(LIMIT, || {
        answers(
            dns,
            "web.shop.svc.cluster.local.",
            RecordType::A,
            &["10.96.0.20"],
        )
    });
    rcode_is(dns, "nope.shop.svc.cluster.local.", ResponseCode::NXDomain).unwrap();
    assert!(cairn.status.borrow().synced);
}

#[test]
fn service_imports_and_multicluster_slices_follow_the_api() {
    let import = |name: &str, spec: serde_json::Value| {
        json!({
            "apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
            "metadata": {"name": name, "namespace": "prod"},
            "spec": spec,
        })
    };
    let mut mcs_slice = slice("prod", "db-east", "db", &["10.1.0.10"], true);
    mcs_slice["metadata"]["labels"] = json!({
        "multicluster.kubernetes.io/service-name": "db",
        "multicluster.kubernetes.io/source-cluster": "east",
    });
    let api = start_api(&[
        namespace("prod"),
        import(
            "web",
            json!({"type": "ClusterSetIP", "ips": ["10.100.0.1"]}),
        ),
    ]);
    let corefile = format!(
        ".:0 {{\n    bind 127.0.0.1\n    kubernetes cluster.local clusterset.local {{\n        \
         kubeconfig {}\n        multicluster clusterset.local\n    }}\n}}\n",
        api.kubeconfig.display()
    );
    let cairn = start_cairn(&corefile, LIMIT);
    assert!(cairn.status.borrow().synced, "synced within {LIMIT:?}");
    let dns = cairn.addr;
    let web = "web.prod.svc.clusterset.local.";
    answers(dns, web, RecordType::A, &["10.100.0.1"]).unwrap();
    // An import changes, a headless one and its slice appear, an import goes.
    api.server
        .apply(import(
            "web",
            json!({"type": "ClusterSetIP", "ips": ["10.100.0.2"]}),
        ))
        .unwrap();
    eventually(LIMIT, || answers(dns, web, RecordType::A, &["10.100.0.2"]));
    api.server
        .apply(import("db", json!({"type": "Headless"})))
        .unwrap();
    api.server.apply(mcs_slice).unwrap();
    eventually(LIMIT, || {
        answers(
            dns,
            "db-0.east.db.prod.svc.clusterset.local.",
            RecordType::A,
            &["10.1.0.10"],
        )
    });
    api.server
        .delete("ServiceImport", Some("prod"), "web")
        .unwrap();
    eventually(LIMIT, || rcode_is(dns, web, ResponseCode::NXDomain));
    // The cluster zone knows no Service of that name.
    rcode_is(dns, "db.prod.svc.cluster.local.", ResponseCode::NXDomain).unwrap();
}
