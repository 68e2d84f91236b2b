//! The `cairn` binary as a user runs it: `serve` on the bundled example (with and without a
//! Corefile) answers real queries over UDP and TCP; bad configuration and bad dumps stop it with
//! a message naming the place.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

mod served;

use served::Served;

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

/// Starts `cairn` with `args` and waits for its "serving" log line to learn the address.
fn serve(args: &[&str]) -> Served {
    let mut command = Command::new(BIN);
    command.args(args);
    served::start(command, "cairn")
}

fn query(name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 4242;
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m.to_vec().unwrap()
}

fn udp(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.send_to(&query(name, qtype), addr).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer over UDP");
    Message::from_vec(&buf[..n]).unwrap()
}

fn tcp(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let q = query(name, qtype);
    stream.write_all(&(q.len() as u16).to_be_bytes()).unwrap();
    stream.write_all(&q).unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).expect("an answer over TCP");
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).unwrap();
    Message::from_vec(&buf).unwrap()
}

fn rdata(m: &Message) -> Vec<String> {
    let mut v: Vec<String> = m.answers.iter().map(|r| r.data.to_string()).collect();
    v.sort();
    v
}

fn example(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn serves_the_bundled_example_without_a_corefile() {
    let served = serve(&[
        "serve",
        "--from",
        &example("examples/cluster.yaml"),
        "--listen",
        "127.0.0.1:0",
    ]);
    for ask in [udp, tcp] {
        let m = ask(
            served.addr,
            "kubernetes.default.svc.cluster.local.",
            RecordType::A,
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.metadata.authoritative);
        assert_eq!(rdata(&m), ["10.96.0.1"]);
        let m = ask(
            served.addr,
            "kube-dns.kube-system.svc.cluster.local.",
            RecordType::A,
        );
        assert_eq!(rdata(&m), ["10.96.0.10"]);
        let m = ask(
            served.addr,
            "nope.default.svc.cluster.local.",
            RecordType::A,
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        let m = ask(served.addr, "example.org.", RecordType::A);
        assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    }
}

#[test]
fn serves_from_the_api_through_a_kubeconfig_and_follows_changes() {
    let api = apisim::ApiServer::start_background("127.0.0.1:0".parse().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig).unwrap();
    let dump = std::fs::read_to_string(example("examples/cluster.yaml")).unwrap();
    let list: serde_json::Value = serde_yaml_ng::from_str(&dump).unwrap();
    let items: Vec<serde_json::Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] != "ConfigMap")
        .cloned()
        .collect();
    api.load_list(serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))
        .unwrap();
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        format!(
            ".:0 {{\n    bind 127.0.0.1\n    kubernetes cluster.local in-addr.arpa {{\n        kubeconfig {}\n    }}\n}}\n",
            kubeconfig.display()
        ),
    )
    .unwrap();
    let served = serve(&["serve", "--corefile", corefile.to_str().unwrap()]);
    let m = udp(served.addr, "web.shop.svc.cluster.local.", RecordType::A);
    assert_eq!(rdata(&m), ["10.96.10.20"], "served after the first sync");

    let mut web = api
        .objects("Service")
        .into_iter()
        .find(|s| s["metadata"]["name"] == "web")
        .unwrap();
    web["spec"]["clusterIP"] = "10.96.10.99".into();
    web["spec"]["clusterIPs"] = serde_json::json!(["10.96.10.99"]);
    api.apply(web).unwrap();
    let started = Instant::now();
    loop {
        let m = udp(served.addr, "web.shop.svc.cluster.local.", RecordType::A);
        if rdata(&m) == ["10.96.10.99"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the change never showed: {:?}",
            rdata(&m)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serves_the_bundled_example_with_its_corefile() {
    let corefile = std::fs::read_to_string(example("examples/Corefile")).unwrap();
    assert!(
        corefile.contains(".:5353"),
        "the example Corefile listens on 5353"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Corefile");
    std::fs::write(&path, corefile.replace(".:5353", ".:0")).unwrap();
    let served = serve(&[
        "serve",
        "--corefile",
        path.to_str().unwrap(),
        "--from",
        &example("examples/cluster.yaml"),
    ]);
    let m = udp(served.addr, "web.shop.svc.cluster.local.", RecordType::A);
    assert_eq!(rdata(&m), ["10.96.10.20"]);
    assert_eq!(m.answers[0].ttl, 30, "the Corefile's ttl applies");
    let m = udp(served.addr, "1.0.96.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(rdata(&m), ["kubernetes.default.svc.cluster.local."]);
}

fn fails_with(args: &[&str]) -> String {
    let started = Instant::now();
    let out = Command::new(BIN).args(args).output().expect("cairn runs");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!out.status.success(), "cairn must refuse to start");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_bad_corefile_line_is_named_and_nothing_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Corefile");
    std::fs::write(
        &path,
        ".:0 {\n    kubernetes cluster.local {\n        ttl forever\n    }\n}\n",
    )
    .unwrap();
    let err = fails_with(&[
        "serve",
        "--corefile",
        path.to_str().unwrap(),
        "--from",
        &example("examples/cluster.yaml"),
    ]);
    let place = format!("{}:3", path.display());
    assert!(err.contains(&place), "error names file:line: {err}");
    assert!(err.contains("ttl"), "error names the option: {err}");
}

#[test]
fn a_malformed_dump_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Service\nmetadata: {name: ok, namespace: default}\nspec: {clusterIP: 10.0.0.1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: broken, namespace: default}\nspec: {clusterIP: not-an-ip}\n",
    )
    .unwrap();
    let err = fails_with(&[
        "serve",
        "--from",
        path.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(err.contains("broken"), "error names the object: {err}");
    assert!(err.contains("clusterIP"), "error names the field: {err}");
    assert!(err.contains('2'), "error names the document: {err}");
}

#[test]
fn reload_applies_a_valid_corefile_and_keeps_the_old_one_on_error_without_failing_a_query() {
    let dir = tempfile::tempdir().unwrap();
    let corefile = dir.path().join("Corefile");
    let write = |hosts_line: &str, extra: &str| {
        std::fs::write(
            &corefile,
            format!(
                ".:0 {{\n    bind 127.0.0.1\n    reload 2s 1s\n    hosts {{\n        {hosts_line}\n        fallthrough\n    }}\n    kubernetes cluster.local {{\n{extra}\n    }}\n}}\n"
            ),
        )
        .unwrap();
    };
    write("10.0.0.1 before.example", "");
    let served = serve(&[
        "serve",
        "--corefile",
        corefile.to_str().unwrap(),
        "--from",
        &example("examples/cluster.yaml"),
    ]);
    assert_eq!(
        rdata(&udp(served.addr, "before.example.", RecordType::A)),
        ["10.0.0.1"]
    );

    // Queries flow the whole time; none may fail.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flow = {
        let (stop, addr) = (stop.clone(), served.addr);
        std::thread::spawn(move || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let (mut ok, mut failed) = (0u32, 0u32);
            let mut buf = [0u8; 1500];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let q = query("kubernetes.default.svc.cluster.local.", RecordType::A);
                socket.send_to(&q, addr).unwrap();
                match socket.recv_from(&mut buf) {
                    Ok((n, _))
                        if Message::from_vec(&buf[..n]).is_ok_and(|m| m.answers.len() == 1) =>
                    {
                        ok += 1
                    }
                    _ => failed += 1,
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            (ok, failed)
        })
    };

    write("10.0.0.2 after.example", "");
    let started = Instant::now();
    while rdata(&udp(served.addr, "after.example.", RecordType::A)) != ["10.0.0.2"] {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the valid Corefile was never applied"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    write("10.0.0.3 broken.example", "        ttl forever");
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(
        rdata(&udp(served.addr, "after.example.", RecordType::A)),
        ["10.0.0.2"],
        "the old configuration stays"
    );
    assert!(rdata(&udp(served.addr, "broken.example.", RecordType::A)).is_empty());

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = flow.join().unwrap();
    assert!(ok > 100, "queries flowed: {ok}");
    assert_eq!(
        failed, 0,
        "no query failed across two reloads ({ok} answered)"
    );
}
