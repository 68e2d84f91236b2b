use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};

use super::{FileConfig, Source};
use crate::config::model::Location;
use crate::dns::Transport;
use crate::plugin::test_support::{ask, options, query, serve, TRANSPORTS};

const ZONE: &str = r#"$ORIGIN example.org.
$TTL 3600
@       IN SOA ns1.example.org. hostmaster.example.org. (
            2024010101 ; serial
            7200 3600 1209600 300 )
        IN NS ns1.example.org.
        IN NS ns2.elsewhere.net.
ns1     IN A 192.0.2.53
www     IN A 192.0.2.1
        IN AAAA 2001:db8::1
alias   IN CNAME www
chain   IN CNAME alias
out     IN CNAME www.example.net.
mail    IN MX 10 mx
mx      IN A 192.0.2.25
*.wild  IN A 192.0.2.99
deep.ent IN TXT "x"
sub     IN NS ns.sub
ns.sub  IN A 192.0.2.77
"#;

fn zone_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn at(line: usize) -> Location {
    Location {
        file: "Corefile".into(),
        line,
    }
}

fn n(name: &str) -> Name {
    Name::from_ascii(name).unwrap()
}

#[test]
fn options_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = zone_file(dir.path(), "db.example.org", ZONE);
    let db = db.display().to_string();
    let generic = zone_file(dir.path(), "generic", "@ 60 IN SOA ns. host. 1 1 1 1 1\nwww 60 IN A 192.0.2.1\n")
        .display()
        .to_string();
    let missing = dir.path().join("absent").display().to_string();
    let broken = zone_file(
        dir.path(),
        "broken",
        "$ORIGIN example.org.\n@ 3600 IN SOA a. b. 1 2 3 4 5\n\nwww 3600 IN A 192.0.2.1\nbad 3600 IN A not-an-address\nlater 3600 IN A 192.0.2.2\n",
    )
    .display()
    .to_string();
    let no_soa = zone_file(dir.path(), "nosoa", "www.example.org. 60 IN A 192.0.2.1\n")
        .display()
        .to_string();
    let source = |file: &str, origins: &[&str], reload: u64, line: usize| Source {
        location: at(line),
        file: file.into(),
        origins: origins.iter().map(|o| n(o)).collect(),
        reload: Duration::from_secs(reload),
    };
    #[rustfmt::skip]
    let cases: Vec<(String, Result<FileConfig, String>)> = vec![
        (format!("example.org {{\n file {db}\n}}"),
         Ok(FileConfig { sources: vec![source(&db, &["example.org."], 60, 2)], fallthrough: None })),
        (format!(". {{\n file {generic} example.org example.net {{\n  reload 30s\n  fallthrough in-addr.arpa\n }}\n}}"),
         Ok(FileConfig { sources: vec![source(&generic, &["example.org.", "example.net."], 30, 2)], fallthrough: Some(vec![n("in-addr.arpa.")]) })),
        (format!("example.org {{\n file {db} {{\n  reload 0\n }}\n file {missing} other.org\n}}"),
         Ok(FileConfig { sources: vec![source(&db, &["example.org."], 0, 2), source(&missing, &["other.org."], 60, 5)], fallthrough: None })),
        (".:53 {\n file\n}".into(),
         Err("Corefile:2: `file` takes at least 1 argument (`file DBFILE [ZONES...]`), got 0".into())),
        (format!("example.org {{\n file {db} {{\n  bogus\n }}\n}}"),
         Err("Corefile:3: unknown file option `bogus`: expected `reload` or `fallthrough`".into())),
        (format!("example.org {{\n file {db} {{\n  reload\n }}\n}}"),
         Err("Corefile:3: `reload` takes exactly 1 argument (`reload DURATION`), got 0".into())),
        (format!("example.org {{\n file {db} {{\n  reload_by_mtime\n }}\n}}"),
         Err("Corefile:3: file option `reload_by_mtime` is not supported yet".into())),
        (format!("example.org {{\n file {missing} {{\n  reload 0\n }}\n}}"),
         Err(format!("Corefile:2: file: cannot read `{missing}`: No such file or directory (os error 2)"))),
        (format!("example.org {{\n file {broken}\n}}"),
         Err(format!("Corefile:2: file: zone `example.org.` in `{broken}`: line 5: "))),
        (format!("example.org {{\n file {no_soa}\n}}"),
         Err(format!("Corefile:2: file: zone `example.org.` in `{no_soa}`: no SOA record for the origin `example.org.`"))),
    ];
    for (corefile, want) in cases {
        let got = options::<FileConfig>(&corefile);
        match (&got, &want) {
            // A parse error's text after the line is hickory's: only the prefix is Cairn's.
            (Err(g), Err(w)) if w.ends_with(": ") => {
                assert!(g.starts_with(w.as_str()), "{corefile}\n got {g}\nwant {w}…")
            }
            _ => assert_eq!(got, want, "{corefile}"),
        }
    }
}

fn lines(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

/// rcode, AA, answer, authority, additional.
type Expect = (ResponseCode, bool, Vec<&'static str>, Vec<&'static str>, Vec<&'static str>);

fn got(m: &Message) -> (ResponseCode, bool, Vec<String>, Vec<String>, Vec<String>) {
    (
        m.metadata.response_code,
        m.metadata.authoritative,
        lines(&m.answers),
        lines(&m.authorities),
        lines(&m.additionals),
    )
}

const SOA: &str = "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 3600 1209600 300";
const NEG_SOA: &str = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 3600 1209600 300";
const NS1: &str = "example.org. 3600 IN NS ns1.example.org.";
const NS2: &str = "example.org. 3600 IN NS ns2.elsewhere.net.";
const NS1_A: &str = "ns1.example.org. 3600 IN A 192.0.2.53";
const WWW_A: &str = "www.example.org. 3600 IN A 192.0.2.1";

#[test]
fn answers_as_an_authoritative_server_over_udp_and_tcp() {
    use ResponseCode::{NXDomain, NoError, Refused};
    let dir = tempfile::tempdir().unwrap();
    let db = zone_file(dir.path(), "db.example.org", ZONE);
    let server = serve(&format!(
        ".:0 {{\n bind 127.0.0.1\n file {} example.org\n}}",
        db.display()
    ));
    #[rustfmt::skip]
    let cases: Vec<(&str, RecordType, Expect)> = vec![
        ("example.org.", RecordType::SOA, (NoError, true, vec![SOA], vec![NS1, NS2], vec![])),
        ("example.org.", RecordType::NS, (NoError, true, vec![NS1, NS2], vec![], vec![NS1_A])),
        ("WWW.example.org.", RecordType::A, (NoError, true, vec![WWW_A], vec![NS1, NS2], vec![])),
        ("www.example.org.", RecordType::AAAA, (NoError, true, vec!["www.example.org. 3600 IN AAAA 2001:db8::1"], vec![NS1, NS2], vec![])),
        ("www.example.org.", RecordType::MX, (NoError, true, vec![], vec![NEG_SOA], vec![])),
        ("nope.example.org.", RecordType::A, (NXDomain, true, vec![], vec![NEG_SOA], vec![])),
        ("chain.example.org.", RecordType::A, (NoError, true, vec![
            "chain.example.org. 3600 IN CNAME alias.example.org.",
            "alias.example.org. 3600 IN CNAME www.example.org.",
            WWW_A], vec![NS1, NS2], vec![])),
        ("alias.example.org.", RecordType::CNAME, (NoError, true, vec!["alias.example.org. 3600 IN CNAME www.example.org."], vec![NS1, NS2], vec![])),
        ("out.example.org.", RecordType::A, (NoError, true, vec!["out.example.org. 3600 IN CNAME www.example.net."], vec![NS1, NS2], vec![])),
        ("mail.example.org.", RecordType::MX, (NoError, true, vec!["mail.example.org. 3600 IN MX 10 mx.example.org."], vec![NS1, NS2], vec!["mx.example.org. 3600 IN A 192.0.2.25"])),
        ("a.b.wild.example.org.", RecordType::A, (NoError, true, vec!["a.b.wild.example.org. 3600 IN A 192.0.2.99"], vec![NS1, NS2], vec![])),
        ("a.wild.example.org.", RecordType::TXT, (NoError, true, vec![], vec![NEG_SOA], vec![])),
        ("ent.example.org.", RecordType::TXT, (NoError, true, vec![], vec![NEG_SOA], vec![])),
        ("x.ent.example.org.", RecordType::TXT, (NXDomain, true, vec![], vec![NEG_SOA], vec![])),
        ("host.sub.example.org.", RecordType::A, (NoError, false, vec![], vec!["sub.example.org. 3600 IN NS ns.sub.example.org."], vec!["ns.sub.example.org. 3600 IN A 192.0.2.77"])),
        ("sub.example.org.", RecordType::NS, (NoError, false, vec![], vec!["sub.example.org. 3600 IN NS ns.sub.example.org."], vec!["ns.sub.example.org. 3600 IN A 192.0.2.77"])),
        ("example.org.", RecordType::AXFR, (Refused, false, vec![], vec![], vec![])),
        ("example.net.", RecordType::A, (Refused, false, vec![], vec![], vec![])),
    ];
    for transport in TRANSPORTS {
        for (name, qtype, want) in &cases {
            if *qtype == RecordType::AXFR && transport == Transport::Udp {
                continue;
            }
            let reply = ask(server.addr, transport, &query(name, *qtype));
            let (rcode, aa, an, ns, ad) = want;
            let want = (*rcode, *aa, owned(an), owned(ns), owned(ad));
            assert_eq!(got(&reply), want, "{name} {qtype} over {transport:?}");
        }
    }
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn fallthrough_passes_unknown_names_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = zone_file(dir.path(), "db", ZONE);
    let server = serve(&format!(
        ".:0 {{\n bind 127.0.0.1\n file {} example.org {{\n  fallthrough\n }}\n whoami\n}}",
        db.display()
    ));
    // `whoami`, after `file`, answers the name the zone does not have.
    let reply = ask(server.addr, Transport::Udp, &query("nope.example.org.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        lines(&reply.additionals[..1]),
        ["nope.example.org. 0 IN A 127.0.0.1"]
    );
    // A name the zone has is still the zone's.
    let reply = ask(server.addr, Transport::Udp, &query("www.example.org.", RecordType::A));
    assert_eq!(lines(&reply.answers), [WWW_A]);
}

fn with_serial(serial: u32, address: &str) -> String {
    format!("$ORIGIN example.org.\n@ 60 IN SOA ns. host. {serial} 1 1 1 1\nwww 60 IN A {address}\n")
}

/// Asks `www.example.org. A` over UDP until the answer is `want` or `within` passes.
fn answer_within(addr: std::net::SocketAddr, want: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let reply = ask(addr, Transport::Udp, &query("www.example.org.", RecordType::A));
        let got = lines(&reply.answers);
        if got == [want] || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn reloads_when_the_serial_changes_and_keeps_the_zone_when_the_file_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let db = zone_file(dir.path(), "db", &with_serial(1, "192.0.2.1"));
    let server = serve(&format!(
        ".:0 {{\n bind 127.0.0.1\n file {} example.org {{\n  reload 200ms\n }}\n}}",
        db.display()
    ));
    let one = "www.example.org. 60 IN A 192.0.2.1";
    let two = "www.example.org. 60 IN A 192.0.2.2";
    assert_eq!(answer_within(server.addr, one, Duration::ZERO), [one]);

    // Same serial: not reloaded, even after several intervals.
    std::fs::write(&db, with_serial(1, "192.0.2.9")).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(answer_within(server.addr, one, Duration::ZERO), [one]);

    // A new serial: the new answer comes within a few intervals (and the listener's kept copy
    // of the old one is not served past the check).
    std::fs::write(&db, with_serial(2, "192.0.2.2")).unwrap();
    assert_eq!(answer_within(server.addr, two, Duration::from_secs(3)), [two]);

    // A broken file keeps the zone as it was.
    std::fs::write(&db, "$ORIGIN example.org.\n@ 60 IN SOA ns. host. 3 1 1 1 1\nwww 60 IN A nope\n").unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(answer_within(server.addr, two, Duration::ZERO), [two]);
}

#[test]
fn a_missing_file_is_servfail_until_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("later");
    let server = serve(&format!(
        ".:0 {{\n bind 127.0.0.1\n file {} example.org {{\n  reload 200ms\n }}\n}}",
        db.display()
    ));
    let reply = ask(server.addr, Transport::Udp, &query("www.example.org.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    std::fs::write(&db, with_serial(1, "192.0.2.1")).unwrap();
    let one = "www.example.org. 60 IN A 192.0.2.1";
    assert_eq!(answer_within(server.addr, one, Duration::from_secs(3)), [one]);
}
