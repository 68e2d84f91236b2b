//! One Corefile that uses every plugin Cairn supports at once: `cairn validate` accepts it,
//! it names every plugin `cairn plugins` lists as supported (so a new plugin must be added
//! here), and `cairn serve` runs it (all but the node-local block, which would change the
//! machine's network) and answers through the plugins over real sockets on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};

mod served;
mod upstream;

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

/// The zone `file` serves and `transfer` hands out.
const ZONE_FILE: &str = "$ORIGIN zone.test.
@ 3600 IN SOA ns.zone.test. admin.zone.test. 7 7200 3600 1209600 300
@ 3600 IN NS ns.zone.test.
ns 3600 IN A 127.0.0.53
www 3600 IN A 192.0.2.80
";

/// The main block; `UPSTREAM` is replaced by the fake upstream's address, `ZONEFILE` by the
/// zone file's path.
const MAIN: &str = r#"# Every plugin of Cairn at once.
.:0 {
    bind 127.0.0.1
    reload 10s 2s
    nsid cairn-every
    bufsize 1232
    ready 127.0.0.1:0
    health 127.0.0.1:0
    prometheus 127.0.0.1:0
    errors {
        consolidate 30s "did not answer" warning
    }
    log . "{proto} {name} {type} {rcode}" {
        class denial error
    }
    local
    acl blocked.test {
        block type A
    }
    acl {
        allow
    }
    any
    chaos Cairn-every
    loadbalance
    cache 30
    rewrite name exact old.hosts.test. web.hosts.test.
    rewrite stop type TXT A
    autopath @kubernetes
    minimal
    template IN A tpl.test {
        match "^ip-(\d+)-(\d+)-(\d+)-(\d+)[.]tpl[.]test[.]$"
        answer "{{ .Name }} 60 IN A {{ index .Match 1 }}.{{ index .Match 2 }}.{{ index .Match 3 }}.{{ index .Match 4 }}"
        fallthrough
    }
    hosts {
        10.9.9.9 web.hosts.test
        fallthrough
    }
    transfer zone.test {
        to 127.0.0.1
    }
    k8s_external ext.test {
        ttl 10
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods verified
    }
    file ZONEFILE zone.test
    loop
    forward . UPSTREAM {
        except whoami.test
    }
    whoami
}
"#;

/// Node-local mode in a block of its own: validated, never served by this test.
const NODE_LOCAL: &str = "
node.local.test:0 {
    bind 169.254.20.10
    nodelocal
    whoami
}
";

fn example(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn ask(addr: SocketAddr, name: &str, qtype: RecordType, class: DNSClass) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut m = Message::query();
    m.metadata.id = 4711;
    m.metadata.recursion_desired = true;
    let mut q = Query::query(Name::from_ascii(name).unwrap(), qtype);
    q.set_query_class(class);
    m.add_query(q);
    socket.send_to(&m.to_vec().unwrap(), addr).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("an answer");
    Message::from_vec(&buf[..n]).unwrap()
}

/// The record types of an AXFR of `zone` over TCP, in order, until the closing SOA.
fn axfr(addr: SocketAddr, zone: &str) -> Vec<RecordType> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut m = Message::query();
    m.metadata.id = 4712;
    m.add_query(Query::query(
        Name::from_ascii(zone).unwrap(),
        RecordType::AXFR,
    ));
    let q = m.to_vec().unwrap();
    s.write_all(&(q.len() as u16).to_be_bytes()).unwrap();
    s.write_all(&q).unwrap();
    let mut types = Vec::new();
    while types.len() < 2 || types.last() != Some(&RecordType::SOA) {
        let mut len = [0u8; 2];
        s.read_exact(&mut len)
            .unwrap_or_else(|e| panic!("another AXFR message after {types:?}: {e}"));
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut buf).unwrap();
        let reply = Message::from_vec(&buf).unwrap();
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        types.extend(reply.answers.iter().map(|r| r.record_type()));
    }
    types
}

fn data(m: &Message) -> Vec<String> {
    m.answers.iter().map(|r| r.data.to_string()).collect()
}

#[test]
fn a_corefile_with_every_plugin_validates_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = upstream::Upstream::start(vec![("example.org.", 300, "A", "192.0.2.10")]);
    let zone_file = dir.path().join("db.zone.test");
    std::fs::write(&zone_file, ZONE_FILE).unwrap();
    let main = MAIN
        .replace("UPSTREAM", &upstream.addr.to_string())
        .replace("ZONEFILE", zone_file.to_str().unwrap());

    // Validation covers every plugin, node-local mode included.
    let everything = dir.path().join("Corefile.every");
    std::fs::write(&everything, format!("{main}{NODE_LOCAL}")).unwrap();
    let out = Command::new(BIN)
        .args(["validate", "--corefile", everything.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = Command::new(BIN).arg("plugins").output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let text = format!("{main}{NODE_LOCAL}");
    for line in listed.lines() {
        let (name, status) = line.split_once(' ').unwrap();
        if !status.trim_start().starts_with("supported") {
            continue;
        }
        if name == "bind" || name == "import" {
            continue;
        }
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "`{name}` is supported but not used in this Corefile: add it"
        );
    }

    let corefile = dir.path().join("Corefile");
    std::fs::write(&corefile, &main).unwrap();
    let mut command = Command::new(BIN);
    command.args([
        "serve",
        "--corefile",
        corefile.to_str().unwrap(),
        "--from",
        &example("examples/cluster.yaml"),
    ]);
    let served = served::start(command, "every");
    let addr = served.addr;
    let a = |name: &str| ask(addr, name, RecordType::A, DNSClass::IN);

    // kubernetes
    assert_eq!(
        data(&a("kubernetes.default.svc.cluster.local.")),
        ["10.96.0.1"]
    );
    // autopath: 127.0.0.1 is no pod, so the first search try is answered as it is
    let m = a("kubernetes.default.default.svc.cluster.local.");
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    // forward, through the cache
    assert_eq!(data(&a("example.org.")), ["192.0.2.10"]);
    // file, and transfer of its zone over TCP: SOA first and last
    assert_eq!(data(&a("www.zone.test.")), ["192.0.2.80"]);
    let types = axfr(addr, "zone.test.");
    assert_eq!(types.first(), Some(&RecordType::SOA), "{types:?}");
    assert_eq!(types.last(), Some(&RecordType::SOA), "{types:?}");
    assert_eq!(types.len(), 5, "{types:?}");
    // k8s_external: its apex
    let m = ask(addr, "ext.test.", RecordType::SOA, DNSClass::IN);
    assert_eq!(m.answers[0].record_type(), RecordType::SOA, "{m:?}");
    // local
    assert_eq!(data(&a("localhost.")), ["127.0.0.1"]);
    // template
    assert_eq!(data(&a("ip-10-1-2-3.tpl.test.")), ["10.1.2.3"]);
    // hosts, and rewrite in front of it (the client sees its own name)
    assert_eq!(data(&a("web.hosts.test.")), ["10.9.9.9"]);
    let m = a("old.hosts.test.");
    assert_eq!(data(&m), ["10.9.9.9"]);
    assert_eq!(m.answers[0].name.to_string(), "old.hosts.test.");
    // acl
    assert_eq!(
        a("x.blocked.test.").metadata.response_code,
        ResponseCode::Refused
    );
    // any
    let m = ask(addr, "example.org.", RecordType::ANY, DNSClass::IN);
    assert_eq!(m.answers[0].record_type(), RecordType::HINFO);
    // chaos
    let m = ask(addr, "version.bind.", RecordType::TXT, DNSClass::CH);
    assert_eq!(data(&m), ["Cairn-every"]);
    // whoami, for the zone forward leaves out (`minimal` takes its additional section away:
    // what is left is its authoritative NOERROR, where nothing else would answer REFUSED)
    let m = a("whoami.test.");
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(
        m.metadata.authoritative && m.additionals.is_empty(),
        "{m:?}"
    );
}
