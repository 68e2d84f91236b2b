use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use regex::Regex;

use super::{Pattern, Template, TemplateConfig, Tmpl};
use crate::dns::Transport;
use crate::plugin::test_support::{
    ask, options, query, response_to, serve, with_edns, Upstream, TRANSPORTS,
};

fn names(zs: &[&str]) -> Vec<Name> {
    zs.iter().map(|z| Name::from_ascii(z).expect("a test zone")).collect()
}

fn tmpl(s: &str) -> Tmpl {
    Tmpl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn template(class: DNSClass, qtype: RecordType, zones: &[&str]) -> Template {
    Template {
        class,
        qtype,
        zones: names(zones),
        regexes: vec![Pattern(Regex::new(".*").expect("regex"))],
        answer: Vec::new(),
        additional: Vec::new(),
        authority: Vec::new(),
        rcode: ResponseCode::NoError,
        ederror: None,
        fallthrough: None,
    }
}

#[test]
fn options_table() {
    let ip = template(DNSClass::IN, RecordType::A, &["example."]);
    let ip = Template {
        regexes: vec![Pattern(Regex::new("^ip-(?P<a>[0-9]+)[.]example[.]$").expect("regex"))],
        answer: vec![tmpl("{{ .Name }} 60 IN A 10.0.0.{{ .Group.a }}")],
        fallthrough: Some(Vec::new()),
        ..ip
    };
    let invalid = Template {
        rcode: ResponseCode::NXDomain,
        authority: vec![tmpl("invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)")],
        additional: vec![tmpl("a. 1 A 192.0.2.1"), tmpl("b. 1 A 192.0.2.2")],
        ederror: Some((21, "Blocked according to RFC2606".into())),
        fallthrough: Some(names(&["in-addr.arpa.", "ip6.arpa."])),
        ..template(DNSClass::ANY, RecordType::ANY, &["invalid."])
    };
    let ok = |t: Vec<Template>| Ok(TemplateConfig { templates: t });
    #[rustfmt::skip]
    let cases: Vec<(&str, Result<TemplateConfig, &str>)> = vec![
        // The block's zones by default, `.*` when there is no `match`.
        ("template ANY ANY", ok(vec![template(DNSClass::ANY, RecordType::ANY, &["."])])),
        ("template in aaaa A.Example b.example.", ok(vec![template(DNSClass::IN, RecordType::AAAA, &["a.example.", "b.example."])])),
        ("template IN A example {\n match ^ip-(?P<a>[0-9]+)[.]example[.]$\n answer \"{{ .Name }} 60 IN A 10.0.0.{{ .Group.a }}\"\n fallthrough\n }", ok(vec![ip.clone()])),
        ("template ANY ANY invalid {\n rcode NXDOMAIN\n authority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)\"\n additional \"a. 1 A 192.0.2.1\" \"b. 1 A 192.0.2.2\"\n ederror 21 \"Blocked according to RFC2606\"\n fallthrough in-addr.arpa ip6.arpa\n upstream\n }", ok(vec![invalid.clone()])),
        // Several directives are one plugin, in the order written.
        ("template ANY ANY invalid {\n rcode NXDOMAIN\n authority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)\"\n additional \"a. 1 A 192.0.2.1\" \"b. 1 A 192.0.2.2\"\n ederror 21 \"Blocked according to RFC2606\"\n fallthrough in-addr.arpa ip6.arpa\n }\n template IN A example {\n match ^ip-(?P<a>[0-9]+)[.]example[.]$\n answer \"{{ .Name }} 60 IN A 10.0.0.{{ .Group.a }}\"\n fallthrough\n }", ok(vec![invalid, ip])),
        // Errors name the line.
        ("template", Err("Corefile:2: `template` takes at least 2 arguments (`template CLASS TYPE [ZONE...] { ... }`), got 0")),
        ("template IN", Err("Corefile:2: `template` takes at least 2 arguments (`template CLASS TYPE [ZONE...] { ... }`), got 1")),
        ("template XX A", Err("Corefile:2: template: invalid query class `XX`: expected IN, CH, HS, NONE or ANY")),
        ("template IN BOGUS", Err("Corefile:2: template: invalid query type `BOGUS`: expected a record type such as A, AAAA, PTR or ANY")),
        ("template IN A {\n match (unclosed\n}", Err("Corefile:3: template: could not parse regex `(unclosed`: error: unclosed group")),
        ("template IN A {\n match\n}", Err("Corefile:3: `match` takes at least 1 argument (`match REGEX...`), got 0")),
        ("template IN A {\n answer\n}", Err("Corefile:3: `answer` takes at least 1 argument (`answer RR...`), got 0")),
        ("template IN A {\n rcode BOGUS\n}", Err("Corefile:3: template: unknown rcode `BOGUS`: expected NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH or NOTZONE")),
        ("template IN A {\n ederror x\n}", Err("Corefile:3: invalid extended DNS error code `x`: expected an integer from 0 to 65535 (RFC 8914)")),
        ("template IN A {\n ederror 1 a b\n}", Err("Corefile:3: `ederror` takes 1 to 2 arguments (`ederror EXTENDED_ERROR_CODE [EXTRA_REASON]`), got 3")),
        ("template IN A {\n var ip group('ip')\n}", Err("Corefile:3: template option `var` is not supported yet (expr-lang expressions)")),
        ("template IN A {\n expr true\n}", Err("Corefile:3: template option `expr` is not supported yet (expr-lang expressions)")),
        ("template IN A {\n frob\n}", Err("Corefile:3: unknown property `frob` in template block: expected `match`, `answer`, `additional`, `authority`, `rcode`, `ederror` or `fallthrough`")),
        ("template IN A {\n rcode NXDOMAIN {\n }\n}", Err("Corefile:3: unexpected `{` after `rcode` in template block: this takes no block")),
        // Templates are checked when the Corefile is read.
        ("template IN A {\n answer \"{{ .Nme }} 60 IN A 192.0.2.1\"\n}", Err("Corefile:3: template: could not compile answer template `{{ .Nme }} 60 IN A 192.0.2.1`: field `.Nme` is not supported: expected one of .Name, .Zone, .Class, .Type, .Regex, .Remote, .Match, .Group, .Group.NAME, .Question.Name|Qtype|Qclass, .Message.Id|Opcode|RecursionDesired|CheckingDisabled|AuthenticatedData, .Meta")),
        ("template IN A {\n\n authority \"{{ if .Name }}x{{ end }}\"\n}", Err("Corefile:4: template: could not compile authority template `{{ if .Name }}x{{ end }}`: `{{ if }}` is not supported: Cairn's templates have no control structures")),
        ("template IN A {\n additional \"{{ $x := 1 }}\"\n}", Err("Corefile:3: template: could not compile additional template `{{ $x := 1 }}`: template variables (`$x`) are not supported")),
        ("template IN A {\n answer \"{{ lower .Name }}\"\n}", Err("Corefile:3: template: could not compile answer template `{{ lower .Name }}`: function `lower` is not defined: expected one of index, len, parseInt, print, printf, println")),
        ("template IN A {\n answer \"{{ eq .Name .Zone }}\"\n}", Err("Corefile:3: template: could not compile answer template `{{ eq .Name .Zone }}`: function `eq` is not supported: expected one of index, len, parseInt, print, printf, println")),
        ("template IN A {\n answer \"{{ .Name \"\n}", Err("Corefile:3: template: could not compile answer template `{{ .Name `: unclosed action: expected `}}`")),
        ("template IN A {\n answer \"{{ .Name .Zone }}\"\n}", Err("Corefile:3: template: could not compile answer template `{{ .Name .Zone }}`: can't give an argument to a non-function")),
        ("template IN A {\n answer \"{{ .Var.ip }}\"\n}", Err("Corefile:3: template: could not compile answer template `{{ .Var.ip }}`: `.Var.ip` is not supported: Cairn has no `var` option")),
        ("template IN A {\n answer \"{{ (index .Match 1 }}\"\n}", Err("Corefile:3: template: could not compile answer template `{{ (index .Match 1 }}`: unclosed `(`: expected `)`")),
        ("template IN A {\n answer \"{{ .Name | .Zone }}\"\n}", Err("Corefile:3: template: could not compile answer template `{{ .Name | .Zone }}`: only a function may follow `|` in a pipeline")),
    ];
    for (lines, want) in cases {
        let corefile = format!(".:53 {{\n  {lines}\n}}\n");
        let got = options::<TemplateConfig>(&corefile);
        assert_eq!(got, want.map_err(|e| e.to_string()), "for\n{corefile}");
    }
}

/// A reply's sections as zone-file lines (TXT strings quoted, as in a zone file).
fn lines(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    records.iter().map(zone_line).collect()
}

fn zone_line(r: &hickory_proto::rr::Record) -> String {
    let hickory_proto::rr::RData::TXT(txt) = &r.data else {
        return r.to_string();
    };
    let strings: Vec<String> = txt
        .txt_data
        .iter()
        .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
        .collect();
    format!("{} {} {} TXT {}", r.name, r.ttl, r.dns_class, strings.join(" "))
}

/// `name`/`qtype` asked over both transports: rcode, AA, answers, authorities.
fn check(
    addr: std::net::SocketAddr,
    name: &str,
    qtype: RecordType,
    rcode: ResponseCode,
    answers: &[&str],
    authorities: &[&str],
) {
    for transport in TRANSPORTS {
        let reply = ask(addr, transport, &query(name, qtype));
        let what = format!("{name} {qtype} over {transport:?}");
        assert_eq!(reply.metadata.response_code, rcode, "{what}: {reply:?}");
        assert_eq!(lines(&reply.answers), answers, "{what}");
        assert_eq!(lines(&reply.authorities), authorities, "{what}");
        if rcode != ResponseCode::ServFail {
            assert!(reply.metadata.authoritative, "AA for {what}");
        }
    }
}

/// Whether `whoami` (the plugin after `template`) answered: the client's address in the
/// additional section.
fn reached_whoami(addr: std::net::SocketAddr, name: &str, qtype: RecordType) {
    for transport in TRANSPORTS {
        let reply = ask(addr, transport, &query(name, qtype));
        let what = format!("{name} {qtype} over {transport:?}");
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError, "{what}");
        assert!(reply.answers.is_empty(), "{what}: {:?}", reply.answers);
        assert_eq!(
            lines(&reply.additionals).first().map(String::as_str),
            Some(format!("{name} 0 IN A 127.0.0.1").as_str()),
            "{what}"
        );
    }
}

#[test]
fn the_readme_a_and_ptr_templates_answer_and_fall_through_to_the_next_plugin() {
    let server = serve(concat!(
        ".:0 {\n  bind 127.0.0.1\n",
        "  template IN A example {\n",
        "    match (^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$\n",
        "    answer \"{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}\"\n",
        "    fallthrough\n  }\n",
        "  template IN PTR in-addr.arpa {\n",
        "    match ^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.](?P<b>[0-9]*)[.](?P<a>[0-9]*)[.]in-addr[.]arpa[.]$\n",
        "    answer \"{{ .Name }} 60 IN PTR ip-{{ .Group.a }}-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d }}.example.\"\n",
        "  }\n  whoami\n}\n",
    ));
    let ok = ResponseCode::NoError;
    check(server.addr, "ip-10-1-2-3.example.", RecordType::A, ok, &["ip-10-1-2-3.example. 60 IN A 10.1.2.3"], &[]);
    // The name is matched (and written) lower-case; the A record is a wildcard.
    check(server.addr, "Www.IP-192-168-0-1.Example.", RecordType::A, ok, &["www.ip-192-168-0-1.example. 60 IN A 192.168.0.1"], &[]);
    check(server.addr, "3.2.1.10.in-addr.arpa.", RecordType::PTR, ok, &["3.2.1.10.in-addr.arpa. 60 IN PTR ip-10-1-2-3.example."], &[]);
    // No regex matches, `fallthrough`: the next plugin answers.
    reached_whoami(server.addr, "other.example.", RecordType::A);
    // Another type, outside every template's zones: not the template's either.
    reached_whoami(server.addr, "ip-10-1-2-3.example.", RecordType::AAAA);
    reached_whoami(server.addr, "example.org.", RecordType::A);
    // In the PTR template's zone, no regex matches, no fallthrough: SERVFAIL.
    check(server.addr, "x.in-addr.arpa.", RecordType::PTR, ResponseCode::ServFail, &[], &[]);
}

#[test]
fn invalid_is_nxdomain_with_a_soa_in_the_query_class_and_an_extended_error() {
    let server = serve(concat!(
        ".:0 {\n  bind 127.0.0.1\n",
        "  template ANY ANY invalid {\n    rcode NXDOMAIN\n",
        "    authority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)\"\n",
        "    ederror 21 \"Blocked according to RFC2606\"\n  }\n  whoami\n}\n",
    ));
    let soa = "invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60";
    check(server.addr, "foo.invalid.", RecordType::A, ResponseCode::NXDomain, &[], &[soa]);
    check(server.addr, "invalid.", RecordType::MX, ResponseCode::NXDomain, &[], &[soa]);
    reached_whoami(server.addr, "valid.", RecordType::A);
    for transport in TRANSPORTS {
        let mut q = query("foo.invalid.", RecordType::TXT);
        q.queries[0].set_query_class(DNSClass::CH);
        let reply = ask(server.addr, transport, &q);
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(lines(&reply.authorities), [soa.replace(" IN ", " CH ")], "{transport:?}");
        assert!(reply.edns.is_none(), "no OPT for a query without EDNS");
        let reply = ask(server.addr, transport, &with_edns(query("a.invalid.", RecordType::A), 1232));
        let mut want = 21u16.to_be_bytes().to_vec();
        want.extend_from_slice(b"Blocked according to RFC2606");
        let ede = reply.edns.as_ref().and_then(|e| e.option(EdnsCode::from(15)));
        assert_eq!(ede, Some(&EdnsOption::Unknown(15, want)), "{transport:?}");
    }
}

#[test]
fn aaaa_blocking_answers_nxdomain_or_empty_and_a_goes_on_to_hosts() {
    let server = serve(concat!(
        ".:0 {\n  bind 127.0.0.1\n",
        "  template IN AAAA blocked.example {\n    rcode NXDOMAIN\n  }\n",
        "  template ANY AAAA {\n    rcode NOERROR\n  }\n",
        "  hosts {\n    10.0.0.7 web.example\n    fd00::7 web.example\n    fallthrough\n  }\n}\n",
    ));
    let (ok, nx) = (ResponseCode::NoError, ResponseCode::NXDomain);
    check(server.addr, "x.blocked.example.", RecordType::AAAA, nx, &[], &[]);
    check(server.addr, "web.example.", RecordType::AAAA, ok, &[], &[]);
    check(server.addr, "web.example.", RecordType::A, ok, &["web.example. 3600 IN A 10.0.0.7"], &[]);
}

#[test]
fn regex_groups_index_and_parse_int_and_fallthrough_zones() {
    let server = serve(concat!(
        ".:0 {\n  bind 127.0.0.1\n",
        "  template IN ANY example.com {\n",
        "    match \"example\\.com\\.(dc1\\.example\\.com\\.)$\"\n    rcode NXDOMAIN\n",
        "    authority \"{{ index .Match 1 }} 60 IN SOA ns.{{ index .Match 1 }} hostmaster.{{ index .Match 1 }} (1 60 60 60 60)\"\n",
        "    fallthrough\n  }\n",
        "  template IN A example {\n",
        "    match \"^ip0a(?P<b>[a-f0-9]{2})(?P<c>[a-f0-9]{2})(?P<d>[a-f0-9]{2})[.]example[.]$\"\n",
        "    answer \"{{ .Name }} 60 IN A 10.{{ parseInt .Group.b 16 8 }}.{{ parseInt .Group.c 16 8 }}.{{ parseInt .Group.d 16 8 }}\"\n",
        "    answer \"{{ .Name }} 60 IN TXT {{ index .Group \\\"d\\\" | printf \\\"%03s\\\" }} {{ len .Match }} {{ parseInt .Group.d 16 0 | printf \\\"%d\\\" }}\"\n",
        "    fallthrough sub.example\n  }\n  whoami\n}\n",
    ));
    let soa = "dc1.example.com. 60 IN SOA ns.dc1.example.com. hostmaster.dc1.example.com. 1 60 60 60 60";
    check(server.addr, "something.example.com.dc1.example.com.", RecordType::A, ResponseCode::NXDomain, &[], &[soa]);
    reached_whoami(server.addr, "www.example.com.", RecordType::A);
    check(
        server.addr,
        "ip0a7b7c0d.example.",
        RecordType::A,
        ResponseCode::NoError,
        &["ip0a7b7c0d.example. 60 IN A 10.123.124.13", "ip0a7b7c0d.example. 60 IN TXT \"00d\" \"4\" \"13\""],
        &[],
    );
    // Only names under `sub.example` fall through; other names no regex matches fail.
    reached_whoami(server.addr, "x.sub.example.", RecordType::A);
    check(server.addr, "x.example.", RecordType::A, ResponseCode::ServFail, &[], &[]);
}

/// The one TXT string of the first answer.
fn txt(reply: &Message) -> String {
    lines(&reply.answers).first().cloned().unwrap_or_default()
}

#[test]
fn answers_that_read_the_message_or_the_client_are_never_reused_or_cached() {
    let server = serve(concat!(
        ".:0 {\n  bind 127.0.0.1\n  cache 30\n",
        "  template IN TXT example {\n",
        "    answer \"{{ .Name }} 60 IN TXT \\\"id {{ .Message.Id }}\\\" \\\"from {{ .Remote }}\\\"\"\n",
        "  }\n}\n",
    ));
    // The same question with another ID: neither the listener's copy of encoded answers nor
    // `cache` may give the first ID back.
    for transport in [Transport::Udp, Transport::Udp, Transport::Tcp, Transport::Udp] {
        let q = query("a.example.", RecordType::TXT);
        let reply = ask(server.addr, transport, &q);
        let want = format!("a.example. 60 IN TXT \"id {}\" \"from 127.0.0.1\"", q.metadata.id);
        assert_eq!(txt(&reply), want, "{transport:?}");
    }
}

#[test]
fn failing_templates_answer_servfail_and_are_counted() {
    let server = serve(concat!(
        ".:0 {\n  bind 127.0.0.1\n",
        "  template IN A example {\n    match ^(?P<x>[a-z]+)[.]example[.]$\n",
        "    answer \"{{ .Name }} 60 IN A {{ index .Match 5 }}\"\n  }\n",
        "  template IN AAAA example {\n    answer \"{{ .Name }} 60 IN AAAA {{ .Group.x }}\"\n  }\n",
        "  template IN TXT example {\n    answer \"{{ .Name }} 60 IN TXT {{ .Zone }} {{ .Type }} {{ .Class }}\"\n  }\n",
        "  template IN MX example {\n    rcode SERVFAIL\n  }\n}\n",
    ));
    let fail = ResponseCode::ServFail;
    check(server.addr, "a.example.", RecordType::A, fail, &[], &[]);
    check(server.addr, "a.example.", RecordType::AAAA, fail, &[], &[]);
    check(server.addr, "a.example.", RecordType::MX, fail, &[], &[]);
    let txt = "a.example. 60 IN TXT \"example.\" \"TXT\" \"IN\"";
    check(server.addr, "a.example.", RecordType::TXT, ResponseCode::NoError, &[txt], &[]);
    let metrics = server.metrics();
    let has = |s: &str| assert!(metrics.contains(s), "{s} in\n{metrics}");
    has(r#"coredns_template_matches_total{server="dns://127.0.0.1:0",zone="example.",view="",class="IN",type="A"} 2"#);
    has(r#"coredns_template_matches_total{server="dns://127.0.0.1:0",zone="example.",view="",class="IN",type="MX"} 2"#);
    has(r#"coredns_template_template_failures_total{server="dns://127.0.0.1:0",zone="example.",view="",class="IN",type="A",section="answer",template="{{ .Name }} 60 IN A {{ index .Match 5 }}"} 2"#);
    has(r#"coredns_template_rr_failures_total{server="dns://127.0.0.1:0",zone="example.",view="",class="IN",type="AAAA",section="answer",template="{{ .Name }} 60 IN AAAA {{ .Group.x }}"} 2"#);
}

#[test]
fn a_fabricated_cname_is_followed_through_forward_for_a_queries() {
    let upstream = Upstream::start(|q| {
        let mut m = response_to(q);
        if q.queries[0].name().to_ascii() == "google.com." {
            let rr = "google.com. 300 IN A 192.0.2.80";
            m.answers.push(super::record::parse(rr).expect("a record"));
        }
        m
    });
    let server = serve(&format!(
        ".:0 {{\n  bind 127.0.0.1\n  template IN ANY foogle.com {{\n    match \"^foogle\\.com\\.$\"\n    answer \"foogle.com 60 IN CNAME google.com\"\n  }}\n  forward . {}\n}}\n",
        upstream.addr
    ));
    let cname = "foogle.com. 60 IN CNAME google.com.";
    check(server.addr, "foogle.com.", RecordType::A, ResponseCode::NoError, &[cname, "google.com. 300 IN A 192.0.2.80"], &[]);
    check(server.addr, "foogle.com.", RecordType::TXT, ResponseCode::NoError, &[cname], &[]);
}

#[test]
fn rendered_lines_are_read_as_coredns_reads_them() {
    let cases = [
        ("a.example 60 IN A 192.0.2.1", Ok("a.example. 60 IN A 192.0.2.1")),
        ("a.example. A 192.0.2.1", Ok("a.example. 3600 IN A 192.0.2.1")),
        ("x. 5 CH TXT \"a b\" c", Ok("x. 5 CH TXT \"a b\" \"c\"")),
        ("_s._tcp.x. 5 IN SRV 0 10 53 t", Ok("_s._tcp.x. 5 IN SRV 0 10 53 t.")),
        ("x. 5 IN MX 10 mail", Ok("x. 5 IN MX 10 mail.")),
        ("x. 60 IN A <no value>", Err(())),
        ("$INCLUDE /etc/passwd", Err(())),
        ("x. 60 IN A 192.0.2.1\nx. 60 IN A 192.0.2.2", Err(())),
        (" 60 IN A 192.0.2.1", Err(())),
        ("", Err(())),
    ];
    for (text, want) in cases {
        let got = super::record::parse(text).map(|r| zone_line(&r)).map_err(|_| ());
        assert_eq!(got, want.map(str::to_string), "{text:?}");
    }
}

#[test]
fn templates_print_as_go_prints() {
    let m = query("ip0a7b7c0d.example.", RecordType::A);
    let data = super::eval::Data {
        name: "ip0a7b7c0d.example.",
        zone: "example.",
        class: "IN".into(),
        rtype: "A".into(),
        regex: "x",
        remote: "192.0.2.9".into(),
        matches: vec!["ip0a7b7c0d.example.".into(), "7b".into(), "0d".into()],
        groups: vec![("0".into(), "ip0a7b7c0d.example.".into()), ("1".into(), "7b".into()), ("2".into(), "0d".into()), ("b".into(), "7b".into()), ("d".into(), "0d".into())],
        question: &m.queries[0],
        message: &m,
    };
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("{{ .Name }}-{{.Zone}} {{ .Class }}/{{ .Type }} {{ .Remote }}", Ok("ip0a7b7c0d.example.-example. IN/A 192.0.2.9")),
        ("{{ index .Match 1 }} {{ index .Group \"d\" }} {{ index .Group \"zz\" }}|{{ .Group.zz }}", Ok("7b 0d |<no value>")),
        ("{{ parseInt .Group.b 16 8 }} {{ parseInt \"0x1f\" 0 0 }} {{ parseInt .Group.d 10 8 }}", Err("strconv.ParseUint: parsing \"0d\": invalid syntax")),
        ("{{ parseInt \"300\" 10 8 }}", Err("strconv.ParseUint: parsing \"300\": value out of range")),
        ("{{ parseInt .Group.b 16 8 }}.{{ parseInt \"0x1f\" 0 0 }}", Ok("123.31")),
        ("{{ printf \"%03s|%-4d|%x|%05d|%v\" .Group.d 7 255 -42 .Match }}", Ok("00d|7   |ff|-0042|[ip0a7b7c0d.example. 7b 0d]")),
        ("{{ printf \"%d %s\" \"x\" }}", Ok("%!d(string=x) %!s(MISSING)")),
        ("{{ len .Match }} {{ len .Name }} {{ print 1 2 \"a\" \"b\" }} {{ .Group.b | printf \"<%s>\" }}", Ok("3 19 1 2ab <7b>")),
        ("{{- \" x \" -}} y {{/* a comment */}}z", Ok(" x y z")),
        ("{{ .Question.Name }} {{ .Question.Qtype }} {{ .Question.Qclass }} {{ .Message.RecursionDesired }}", Ok("ip0a7b7c0d.example. 1 1 true")),
        ("{{ .Meta \"kubernetes/client-namespace\" }}|{{ (index .Match 2) | printf \"%s!\" }}", Ok("|0d!")),
        ("{{ index .Match 5 }}", Err("error calling index: index out of range: 5")),
        ("{{ index .Name \"x\" }}", Err("cannot index string with string")),
    ];
    for (source, want) in cases {
        let got = super::eval::render(&tmpl(source), &data);
        assert_eq!(got.as_deref(), want.map_err(|e| e.to_string()).as_deref(), "{source}");
    }
}
