//! A kind cluster's objects (`tests/fixtures/kind-cluster.json`, as `kubectl get
//! namespaces,services,endpointslices,pods -A -o json` prints them for a three-node kind
//! cluster with a small shop app) served the way a platform team extends the default Corefile:
//! `autopath` with `pods verified`, `kubernetes ... fallthrough` for the reverse zones, a
//! company zone from `file`, `forward` to an upstream (a fake one on loopback), and an `acl`
//! by the pods' source addresses.
//!
//! Pods ask from their own addresses: the test takes a network namespace of its own (needs
//! root; elsewhere it says so and does not run), puts the kube-dns ClusterIP and the pods'
//! addresses on its loopback, and sends each query from the pod's address, as the pod's
//! glibc resolver would send its first search try.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

mod netlab;
mod upstream;

const ZONE_FILE: &str = "$ORIGIN corp.example.
@ 3600 IN SOA ns1.corp.example. hostmaster.corp.example. 2026120401 7200 3600 1209600 300
@ 3600 IN NS ns1.corp.example.
ns1 3600 IN A 192.0.2.53
www 3600 IN A 192.0.2.80
intranet 3600 IN CNAME www
";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// Asks `server` from `source` over UDP; the answer as (rcode, answer lines).
fn ask(
    source: &str,
    server: SocketAddr,
    name: &str,
    qtype: RecordType,
) -> (ResponseCode, Vec<String>) {
    let reply = exchange(source, server, name, qtype, Duration::from_secs(3)).expect("an answer");
    let mut lines: Vec<String> = reply.answers.iter().map(|r| r.to_string()).collect();
    lines.sort();
    (reply.metadata.response_code, lines)
}

/// The whole answer from `source`, or `None` when none came within a second.
fn ask_raw(source: &str, server: SocketAddr, name: &str, qtype: RecordType) -> Option<Message> {
    exchange(source, server, name, qtype, Duration::from_secs(1))
}

/// One UDP query from `source`: the reply, or `None` when none came within `wait`.
fn exchange(
    source: &str,
    server: SocketAddr,
    name: &str,
    qtype: RecordType,
    wait: Duration,
) -> Option<Message> {
    let socket = UdpSocket::bind(SocketAddr::new(ip(source), 0)).expect("bind the pod's address");
    socket.set_read_timeout(Some(wait)).unwrap();
    let mut m = Message::query();
    m.metadata.id = fastrand::u16(..);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    socket.send_to(&m.to_vec().unwrap(), server).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).ok()?;
    Message::from_vec(&buf[..n]).ok()
}

fn strings(lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn a_kind_cluster_with_autopath_file_fallthrough_and_forward() {
    if unsafe { libc::geteuid() } != 0 || !netlab::enter_private_network() {
        eprintln!("kind_cluster: needs root and a private network namespace; not run here");
        return;
    }
    // The kube-dns ClusterIP, and three pods' addresses: a frontend in `shop`, a web pod in
    // `shop`, the local-path provisioner in `local-path-storage`; an address no pod has; and
    // 10.244.8.8, a client the block's `acl` drops (10.244.1.5 may not ask AAAA).
    for address in [
        "10.96.0.10",
        "10.244.1.9",
        "10.244.1.5",
        "10.244.0.4",
        "10.244.9.9",
        "10.244.8.8",
    ] {
        let ok = Command::new("ip")
            .args(["addr", "add", &format!("{address}/32"), "dev", "lo"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip addr add {address} in the test's own namespace");
    }
    let upstream = upstream::Upstream::start(vec![
        ("example.org.", 300, "A", "93.184.215.14"),
        ("1.2.0.192.in-addr.arpa.", 300, "PTR", "gw.example.net."),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("db.corp.example");
    std::fs::write(&zone, ZONE_FILE).unwrap();
    let port = netlab::free_port("10.96.0.10");
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        format!(
            ".:{port} {{
    bind 10.96.0.10
    errors
    acl {{
        drop net 10.244.8.0/24
        block type AAAA net 10.244.1.5
    }}
    autopath @kubernetes
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        pods verified
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    file {} corp.example
    forward . {}
    cache 30
    loop
    reload
    loadbalance
}}
",
            zone.display(),
            upstream.addr
        ),
    )
    .unwrap();
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kind-cluster.json");
    let mut command = Command::new(netlab::BIN);
    command
        .args(["serve", "--corefile"])
        .arg(&corefile)
        .arg("--from")
        .arg(&dump);
    let cairn = netlab::Cairn::spawn(command, "kind");
    let server = SocketAddr::new(ip("10.96.0.10"), port);
    let answered = netlab::within(Duration::from_secs(20), || {
        netlab::lookup(
            server,
            "kubernetes.default.svc.cluster.local.",
            Duration::from_millis(300),
        )
    });
    assert_eq!(
        answered.map(|(_, a)| a),
        Ok(vec!["10.96.0.1".to_string()]),
        "cairn serves"
    );

    let frontend = "10.244.1.9";
    let ok = ResponseCode::NoError;
    // The pod's first search try (`web` with `search shop.svc.cluster.local ...`) is enough.
    assert_eq!(
        ask(
            frontend,
            server,
            "web.shop.svc.cluster.local.",
            RecordType::A
        ),
        (
            ok,
            strings(&["web.shop.svc.cluster.local. 30 IN A 10.96.120.7"])
        )
    );
    // `web.shop` tried first as `web.shop.shop.svc.cluster.local.`: completed on the server.
    assert_eq!(
        ask(
            frontend,
            server,
            "web.shop.shop.svc.cluster.local.",
            RecordType::A
        ),
        (
            ok,
            strings(&[
                "web.shop.shop.svc.cluster.local. 30 IN CNAME web.shop.svc.cluster.local.",
                "web.shop.svc.cluster.local. 30 IN A 10.96.120.7",
            ])
        )
    );
    // A StatefulSet pod's own name.
    assert_eq!(
        ask(
            frontend,
            server,
            "db-0.db.shop.shop.svc.cluster.local.",
            RecordType::A
        ),
        (
            ok,
            strings(&[
                "db-0.db.shop.shop.svc.cluster.local. 30 IN CNAME db-0.db.shop.svc.cluster.local.",
                "db-0.db.shop.svc.cluster.local. 30 IN A 10.244.1.7",
            ])
        )
    );
    // The company zone from `file`, and an external name through `forward`, both in one query.
    let (rcode, lines) = ask(
        frontend,
        server,
        "intranet.corp.example.shop.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(rcode, ok);
    assert_eq!(
        lines,
        strings(&[
            "intranet.corp.example.shop.svc.cluster.local. 3600 IN CNAME intranet.corp.example.",
            "intranet.corp.example. 3600 IN CNAME www.corp.example.",
            "www.corp.example. 3600 IN A 192.0.2.80",
        ])
    );
    let (rcode, lines) = ask(
        frontend,
        server,
        "example.org.shop.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(rcode, ok);
    assert!(
        lines
            .contains(&"example.org.shop.svc.cluster.local. 300 IN CNAME example.org.".to_string())
            && lines.contains(&"example.org. 300 IN A 93.184.215.14".to_string()),
        "{lines:?}"
    );
    // Another namespace's pod searches its own namespace first.
    let (rcode, lines) = ask(
        "10.244.0.4",
        server,
        "web.shop.local-path-storage.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(rcode, ok);
    assert!(
        lines.iter().any(|l| l.ends_with("IN A 10.96.120.7")),
        "{lines:?}"
    );
    // An address that is no pod gets no help: the name it asked does not exist.
    assert_eq!(
        ask(
            "10.244.9.9",
            server,
            "web.shop.shop.svc.cluster.local.",
            RecordType::A
        )
        .0,
        ResponseCode::NXDomain
    );
    // acl, by the pods' own source addresses.
    let m = |source: &str, qtype| ask_raw(source, server, "web.shop.svc.cluster.local.", qtype);
    assert_eq!(
        m("10.244.1.5", RecordType::AAAA).map(|r| r.metadata.response_code),
        Some(ResponseCode::Refused)
    );
    assert_eq!(
        m("10.244.1.5", RecordType::A).map(|r| r.metadata.response_code),
        Some(ok)
    );
    assert!(
        m("10.244.8.8", RecordType::A).is_none(),
        "dropped: no answer at all"
    );
    // Reverse names: the cluster's from the index, the rest passed on to the upstream.
    assert_eq!(
        ask(
            frontend,
            server,
            "7.120.96.10.in-addr.arpa.",
            RecordType::PTR
        ),
        (
            ok,
            strings(&["7.120.96.10.in-addr.arpa. 30 IN PTR web.shop.svc.cluster.local."])
        )
    );
    assert_eq!(
        ask(frontend, server, "1.2.0.192.in-addr.arpa.", RecordType::PTR),
        (
            ok,
            strings(&["1.2.0.192.in-addr.arpa. 300 IN PTR gw.example.net."])
        )
    );
    assert!(upstream.asked("1.2.0.192.in-addr.arpa.") >= 1);
    drop(cairn);
}
