use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use super::format::{self, Line, Part, Value};
use crate::dns::request::{self, Incoming};
use crate::dns::Transport;
use crate::plugin::test_support::{query, with_edns};
use crate::plugin::Query;

fn incoming(m: &Message, client: &str, transport: Transport) -> Query {
    let packet = m.to_vec().unwrap();
    let Incoming::Query(req) = request::read(&packet) else {
        panic!("a query");
    };
    let client: SocketAddr = client.parse().unwrap();
    Query::new(req, client, transport, packet.len(), Instant::now())
}

#[test]
fn formats_are_read_as_coredns_reads_them() {
    use Part::{Text, Value as V};
    let t = |s: &str| Text(s.to_string());
    let cases: &[(&str, Vec<Part>)] = &[
        ("{remote} {name}", vec![V(Value::Remote), t(" "), V(Value::Name)]),
        ("A {type}", vec![t("A "), V(Value::Type)]),
        // An unknown placeholder stays as written; `}` alone is text; `{ {foo} }` keeps the
        // outer braces.
        ("{nope} } {>id}", vec![t("{nope} } "), V(Value::Id)]),
        ("{ {proto} }", vec![t("{ "), V(Value::Proto), t(" }")]),
        ("{/log/class}/{/log/type} {/geoip/city}", vec![V(Value::LogClass), t("/"), V(Value::LogType), t(" "), V(Value::Metadata)]),
        ("x{>opcode", vec![t("x{>opcode")]),
    ];
    for (text, want) in cases {
        assert_eq!(&format::parse(text), want, "{text}");
    }
    assert_eq!(format::parse("{common}"), format::parse(format::COMMON));
    assert_eq!(format::parse("{combined}").last(), Some(&V(Value::Opcode)));
}

#[test]
fn a_line_holds_the_query_and_the_answer() {
    let mut m = with_edns(query("Example.ORG.", RecordType::AAAA), 1232);
    m.metadata.id = 4321;
    let q = incoming(&m, "[2001:db8::7]:5353", Transport::Tcp);
    let mut reply = Message::response(4321, m.metadata.op_code);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = true;
    let response = reply.to_vec().unwrap();
    let line = |f: &str| {
        format::render(
            &format::parse(f),
            &Line {
                query: &q,
                rcode: ResponseCode::NXDomain,
                response: &response,
                elapsed: Duration::from_micros(1500),
                kind: format::response_type(&q, &response),
            },
        )
    };
    assert_eq!(
        line("{common}"),
        format!(
            "[2001:db8::7]:5353 - 4321 \"AAAA IN example.org. tcp {} false 1232\" NXDOMAIN qr,aa,rd {} 0.0015s",
            q.request_size,
            response.len()
        )
    );
    assert_eq!(line("{proto}|{port}|{local}|{>opcode}|{/x}"), "tcp|5353|-|0|-");
    // NOERROR, no answer, no SOA: CoreDNS calls that NOERROR/success.
    assert_eq!(line("{/log/type} {/log/class}"), "NOERROR success");
}
