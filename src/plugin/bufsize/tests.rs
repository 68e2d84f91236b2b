use std::sync::{Arc, Mutex};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::BufsizeConfig;
use crate::dns::Transport;
use crate::plugin::test_support::{ask, options, query, response_to, serve, with_edns, Upstream};

#[test]
fn options_table() {
    let size = |size| Ok(BufsizeConfig { size });
    let range = |arg: &str| {
        format!("Corefile:2: invalid bufsize `{arg}`: expected an integer from 512 to 4096")
    };
    let cases: Vec<(&str, Result<BufsizeConfig, String>)> = vec![
        ("bufsize", size(1232)),
        ("bufsize 512", size(512)),
        ("bufsize 1100", size(1100)),
        ("bufsize 4096", size(4096)),
        ("bufsize 511", Err(range("511"))),
        ("bufsize 4097", Err(range("4097"))),
        ("bufsize 70000", Err(range("70000"))),
        ("bufsize -1", Err(range("-1"))),
        ("bufsize big", Err(range("big"))),
        (
            "bufsize 1232 1232",
            Err("Corefile:2: `bufsize` takes at most 1 argument (`bufsize [SIZE]`), got 2".into()),
        ),
        (
            "bufsize {\n    1232\n  }",
            Err("Corefile:2: unexpected `{` after `bufsize` in the server block: this takes no block".into()),
        ),
    ];
    for (line, want) in cases {
        let corefile = format!(".:53 {{\n  {line}\n}}\n");
        assert_eq!(options::<BufsizeConfig>(&corefile), want, "for `{line}`");
    }
}

/// A block answering `mid.test` with 70 addresses (a 1157-byte answer with EDNS) and
/// `big.test` with 100 (1637 bytes) from `hosts`, behind `bufsize_line`.
fn corefile(bufsize_line: &str) -> String {
    let mut hosts = String::new();
    for i in 0..100 {
        if i < 70 {
            hosts.push_str(&format!("    10.0.0.{i} mid.test\n"));
        }
        hosts.push_str(&format!("    10.0.1.{i} big.test\n"));
    }
    format!(".:0 {{\n  bind 127.0.0.1\n  {bufsize_line}\n  hosts /nonexistent/cairn-test {{\n{hosts}  }}\n}}\n")
}

#[test]
fn udp_answers_are_cut_at_the_lowered_size_and_tcp_ones_are_not() {
    // (bufsize line, the client's EDNS size, name, whether the UDP answer is truncated)
    let cases: &[(&str, Option<u16>, &str, bool)] = &[
        ("", Some(4096), "big.test.", false),
        ("bufsize", Some(4096), "big.test.", true),
        ("bufsize", Some(4096), "mid.test.", false),
        ("bufsize 1100", Some(4096), "mid.test.", true),
        ("bufsize 1100", Some(1100), "mid.test.", true),
        ("bufsize 4096", Some(4096), "big.test.", false),
        ("bufsize 4096", Some(1232), "big.test.", true),
        ("bufsize 4096", Some(1232), "mid.test.", false),
        ("bufsize 4096", None, "mid.test.", true),
    ];
    for (line, edns, name, truncated) in cases {
        let server = serve(&corefile(line));
        let q = query(name, RecordType::A);
        let q = match edns {
            Some(size) => with_edns(q, *size),
            None => q,
        };
        let what = format!("`{line}`, client size {edns:?}, {name}");
        let all = if *name == "big.test." { 100 } else { 70 };
        let udp = ask(server.addr, Transport::Udp, &q);
        assert_eq!(udp.metadata.truncation, *truncated, "TC over UDP: {what}");
        let want = if *truncated { 0 } else { all };
        assert_eq!(udp.answers.len(), want, "UDP answers: {what}");
        let tcp = ask(server.addr, Transport::Tcp, &q);
        assert!(!tcp.metadata.truncation, "TC over TCP: {what}");
        assert_eq!(tcp.metadata.response_code, ResponseCode::NoError, "{what}");
        assert_eq!(tcp.answers.len(), all, "TCP answers: {what}");
    }
}

#[test]
fn upstreams_are_asked_with_the_lowered_size_never_a_larger_one() {
    let seen: Arc<Mutex<Vec<Option<u16>>>> = Arc::default();
    let record = seen.clone();
    let upstream = Upstream::start(move |q| {
        if q.queries[0].name().to_ascii() == "up.test." {
            let size = q.edns.as_ref().map(|e| e.max_payload());
            record.lock().expect("not poisoned").push(size);
        }
        response_to(q)
    });
    let server = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  bufsize 1100\n  forward . {}\n}}\n",
        upstream.addr
    ));
    for transport in [Transport::Udp, Transport::Tcp] {
        for (client, upstream_sees) in [
            (Some(4096), Some(1100)),
            (Some(1101), Some(1100)),
            (Some(800), Some(800)),
            (None, None),
        ] {
            seen.lock().expect("not poisoned").clear();
            let q = query("up.test.", RecordType::A);
            let q = match client {
                Some(size) => with_edns(q, size),
                None => q,
            };
            let reply = ask(server.addr, transport, &q);
            assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
            assert_eq!(
                *seen.lock().expect("not poisoned"),
                vec![upstream_sees],
                "client size {client:?} over {transport:?}"
            );
        }
    }
}
