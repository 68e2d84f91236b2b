//! The options table (Corefile snippet → rules, or the error as users see it) and the pure
//! pieces; `tests/queries.rs` asks a running server over UDP and TCP.

mod queries;

use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RecordType};

use super::edns0::client_subnet;
use super::setup::ttl_range;
use super::*;
use crate::plugin::test_support::options;

fn name(s: &str) -> Name {
    Name::from_str(s).expect("a test name")
}

fn pat(s: &str) -> Pattern {
    Pattern(regex::Regex::new(s).expect("a test regex"))
}

fn stop(action: Action) -> Rule {
    Rule {
        mode: Mode::Stop,
        action,
    }
}

fn cont(action: Action) -> Rule {
    Rule {
        mode: Mode::Continue,
        action,
    }
}

fn named(rewrite: NameRewrite, auto: bool, answers: Vec<AnswerRule>) -> Action {
    Action::Name(NameRule {
        rewrite,
        auto,
        answers,
    })
}

fn text(s: &str) -> String {
    s.to_string()
}

fn local(action: Edns0Action, code: u16, data: LocalData, revert: bool) -> Action {
    Action::Edns0(Edns0Rule {
        action,
        option: Edns0Option::Local { code, data },
        revert,
    })
}

#[test]
fn options_table() {
    let exact = |from: &str, to: &str| NameRewrite::Exact {
        from: name(from),
        to: name(to),
    };
    let cases: Vec<(&str, Result<Vec<Rule>, &str>)> = vec![
        // name rules: exact (the default) always rewrites the answer back.
        ("rewrite name A.org b.org", Ok(vec![stop(named(exact("a.org.", "b.org."), true, vec![]))])),
        ("rewrite stop name exact a.org. b.org.", Ok(vec![stop(named(exact("a.org.", "b.org."), true, vec![]))])),
        ("rewrite CONTINUE name prefix foo bar", Ok(vec![cont(named(NameRewrite::Prefix { from: text("foo."), to: text("bar.") }, false, vec![]))])),
        (
            "rewrite name suffix .svc.Example .svc.cluster.local. answer auto",
            Ok(vec![stop(named(NameRewrite::Suffix { from: text(".svc.example."), to: text(".svc.cluster.local.") }, true, vec![]))]),
        ),
        (
            "rewrite name substring service.us-west-1.example.org service.us-west-1.consul",
            Ok(vec![stop(named(NameRewrite::Substring { from: text("service.us-west-1.example.org."), to: text("service.us-west-1.consul.") }, false, vec![]))]),
        ),
        (
            r"rewrite name regex (.*)-(us-west-1)\.example\.org {1}.service.{2}.consul answer auto",
            Ok(vec![stop(named(NameRewrite::Regex { from: pat(r"(.*)-(us-west-1)\.example\.org"), to: text("{1}.service.{2}.consul.") }, true, vec![]))]),
        ),
        (
            "rewrite stop {\n    name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul\n    answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.example.org\n    value (.*)\\.consul\\. {1}.example.\n  }",
            Ok(vec![stop(named(
                NameRewrite::Regex { from: pat(r"(.*)-(us-west-1)\.example\.org"), to: text("{1}.service.{2}.consul.") },
                false,
                vec![
                    AnswerRule { field: AnswerField::Name, from: pat(r"(.*)\.service\.(us-west-1)\.consul"), to: text("{1}-{2}.example.org.") },
                    AnswerRule { field: AnswerField::Value, from: pat(r"(.*)\.consul\."), to: text("{1}.example.") },
                ],
            ))]),
        ),
        (
            r"rewrite name suffix .arpa .arpa answer auto answer value (.*)\.service\.consul\. {1}.coredns.rocks.",
            Ok(vec![stop(named(
                NameRewrite::Suffix { from: text(".arpa."), to: text(".arpa.") },
                true,
                vec![AnswerRule { field: AnswerField::Value, from: pat(r"(.*)\.service\.consul\."), to: text("{1}.coredns.rocks.") }],
            ))]),
        ),
        // type and class.
        ("rewrite type any hinfo", Ok(vec![stop(Action::Type { from: RecordType::ANY, to: RecordType::HINFO })])),
        ("rewrite continue class CH IN", Ok(vec![cont(Action::Class { from: DNSClass::CH, to: DNSClass::IN })])),
        // ttl: a value, a range, open ranges; exact by default.
        ("rewrite ttl example.com 15", Ok(vec![stop(Action::Ttl { name: Match::Exact(name("example.com.")), min: 15, max: 15 })])),
        ("rewrite ttl example.com. 30-300", Ok(vec![stop(Action::Ttl { name: Match::Exact(name("example.com.")), min: 30, max: 300 })])),
        ("rewrite ttl suffix .example -30", Ok(vec![stop(Action::Ttl { name: Match::Suffix(text(".example.")), min: 0, max: 30 })])),
        (
            r"rewrite continue ttl regex (.*)\.coredns\.rocks 30-",
            Ok(vec![cont(Action::Ttl { name: Match::Regex(pat(r"(.*)\.coredns\.rocks")), min: 30, max: i32::MAX as u32 })]),
        ),
        // rcode: names or numbers.
        (
            r"rewrite continue rcode regex (.*)\.coredns\.rocks SERVFAIL noerror",
            Ok(vec![cont(Action::Rcode { name: Match::Regex(pat(r"(.*)\.coredns\.rocks")), from: ResponseCode::ServFail, to: ResponseCode::NoError })]),
        ),
        ("rewrite rcode nx.example 3 0", Ok(vec![stop(Action::Rcode { name: Match::Exact(name("nx.example.")), from: ResponseCode::NXDomain, to: ResponseCode::NoError })])),
        // edns0.
        ("rewrite edns0 local set 0xffee 0x61626364", Ok(vec![stop(local(Edns0Action::Set, 0xffee, LocalData::Bytes(b"abcd".to_vec()), false))])),
        ("rewrite edns0 local APPEND 65518 abcd revert", Ok(vec![stop(local(Edns0Action::Append, 0xffee, LocalData::Bytes(b"abcd".to_vec()), true))])),
        ("rewrite edns0 local replace 0xffee {client_ip}", Ok(vec![stop(local(Edns0Action::Replace, 0xffee, LocalData::Variable(Variable::ClientIp), false))])),
        ("rewrite edns0 local unset 0xffee", Ok(vec![stop(local(Edns0Action::Unset, 0xffee, LocalData::Bytes(vec![]), false))])),
        ("rewrite edns0 nsid set", Ok(vec![stop(Action::Edns0(Edns0Rule { action: Edns0Action::Set, option: Edns0Option::Nsid, revert: false }))])),
        ("rewrite edns0 subnet set 24 56", Ok(vec![stop(Action::Edns0(Edns0Rule { action: Edns0Action::Set, option: Edns0Option::Subnet { v4: 24, v6: 56 }, revert: false }))])),
        // Several directives: one rule each, in order.
        (
            "rewrite continue name exact a.example b.example\n  rewrite ttl b.example 60",
            Ok(vec![
                cont(named(exact("a.example.", "b.example."), true, vec![])),
                stop(Action::Ttl { name: Match::Exact(name("b.example.")), min: 60, max: 60 }),
            ]),
        ),
        // Errors, at their line.
        ("rewrite", Err("Corefile:2: expected a rule: `rewrite [continue|stop] name|type|class|ttl|rcode|edns0 ...`")),
        ("rewrite continue", Err("Corefile:2: expected a rule: `rewrite [continue|stop] name|type|class|ttl|rcode|edns0 ...`")),
        ("rewrite frob a b", Err("Corefile:2: invalid rule type `frob`: expected name, type, class, ttl, rcode or edns0")),
        ("rewrite cname exact a. b.", Err("Corefile:2: the `cname` rewrite rule is not supported yet")),
        ("rewrite answer name a b", Err("Corefile:2: response rewrites must begin with a name rule")),
        ("rewrite name a.com", Err("Corefile:2: too few arguments for a name rule: `name [exact|prefix|suffix|substring|regex] FROM TO [answer auto | answer name|value FROM TO ...]`")),
        ("rewrite name a.com b.com c.com", Err("Corefile:2: invalid match type `a.com` for a name rule: expected exact, prefix, suffix, substring or regex (`name [exact|prefix|suffix|substring|regex] FROM TO [answer auto | answer name|value FROM TO ...]`)")),
        ("rewrite name exact a..com b.com", Err("Corefile:2: `a..com` is not a valid DNS name")),
        (r"rewrite name regex ([a]\.com new-{1}.com", Err(r"Corefile:2: invalid regex `([a]\.com`: regex parse error:
    ([a]\.com
    ^
error: unclosed group")),
        (r"rewrite name regex (a)\.com {2}.{1}.com", Err(r"Corefile:2: `{2}.{1}.com` uses {2} but `(a)\.com` has 1 group")),
        ("rewrite name substring a.com b.com c.com", Err("Corefile:2: unexpected `c.com` after the substring name rule's FROM and TO: expected `answer auto`, `answer name FROM TO` or `answer value FROM TO`")),
        ("rewrite name regex a b answer", Err("Corefile:2: expected `auto`, `name FROM TO` or `value FROM TO` after `answer` in the regex name rule")),
        ("rewrite name regex a b answer ttl a b", Err("Corefile:2: invalid answer rewrite `ttl` in the regex name rule: expected auto, name or value")),
        ("rewrite name regex a b answer name x", Err("Corefile:2: `answer name` in the regex name rule takes 2 arguments, FROM and TO")),
        ("rewrite name prefix a b answer auto answer name x y", Err("Corefile:2: `answer auto` cannot be combined with `answer name FROM TO` in one name rule")),
        (
            "rewrite stop {\n    answer name bar foo\n    name regex foo bar\n  }",
            Err("Corefile:3: response rewrites must begin with a name rule"),
        ),
        (
            "rewrite stop {\n    name regex foo bar\n    answer name bar foo\n    name baz\n  }",
            Err("Corefile:5: `answer name` in the regex name rule takes 2 arguments, FROM and TO"),
        ),
        (
            "rewrite stop {\n    name regex foo bar\n    answer name [bad[ foo\n  }",
            Err("Corefile:4: invalid regex `[bad[`: regex parse error:\n    [bad[\n        ^\nerror: unclosed character class"),
        ),
        ("rewrite name a b {\n  }", Err("Corefile:2: a `rewrite` block follows only `rewrite`, `rewrite stop` or `rewrite continue`")),
        ("rewrite type A", Err("Corefile:2: type rules take exactly two arguments (`type FROM TO`), got 1")),
        ("rewrite type any a a", Err("Corefile:2: type rules take exactly two arguments (`type FROM TO`), got 3")),
        ("rewrite type XY A", Err("Corefile:2: invalid type `XY`: expected a record type such as A, AAAA or ANY")),
        ("rewrite class IN WV", Err("Corefile:2: invalid class `WV`: expected IN, CH, HS, NONE or ANY")),
        ("rewrite ttl a.example", Err("Corefile:2: a ttl rule takes 2 or 3 arguments (`ttl [exact|prefix|suffix|substring|regex] NAME SECONDS|MIN-MAX`), got 1")),
        ("rewrite ttl a.example -", Err("Corefile:2: invalid TTL `-` for a ttl rule: expected SECONDS or MIN-MAX (either side may be left out, MIN <= MAX)")),
        ("rewrite ttl a.example 300-30", Err("Corefile:2: invalid TTL `300-30` for a ttl rule: expected SECONDS or MIN-MAX (either side may be left out, MIN <= MAX)")),
        ("rewrite ttl glob a.example 30", Err("Corefile:2: invalid match type `glob` for a ttl rule: expected exact, prefix, suffix, substring or regex")),
        ("rewrite rcode a.example SERVFAIL", Err("Corefile:2: an rcode rule takes 3 or 4 arguments (`rcode [exact|prefix|suffix|substring|regex] NAME FROM TO`), got 2")),
        ("rewrite rcode a.example 24 0", Err("Corefile:2: invalid rcode `24`: expected a number from 0 to 23 or a name such as NOERROR, SERVFAIL or NXDOMAIN")),
        ("rewrite edns0 local", Err("Corefile:2: too few arguments for an edns0 rule: expected `edns0 local|nsid|subnet set|append|replace|unset ...`")),
        ("rewrite edns0 local foo 0xffee abc", Err("Corefile:2: invalid edns0 action `foo`: expected set, append, replace or unset")),
        ("rewrite edns0 cookie set", Err("Corefile:2: invalid edns0 option `cookie`: expected local, nsid or subnet")),
        ("rewrite edns0 local set 0xffee", Err("Corefile:2: wrong number of arguments for `edns0 local set`: expected `edns0 local set|append|replace CODE DATA [revert] | edns0 local unset CODE`, got 1 after the action")),
        ("rewrite edns0 local unset 0xffee revert", Err("Corefile:2: wrong number of arguments for `edns0 local unset`: expected `edns0 local set|append|replace CODE DATA [revert] | edns0 local unset CODE`, got 2 after the action")),
        ("rewrite edns0 local set 70000 abc", Err("Corefile:2: invalid EDNS0 option code `70000`: expected a number from 0 to 65535 (0x... for hex)")),
        ("rewrite edns0 local set 0xffee 0xabcdefg", Err("Corefile:2: invalid hex data `0xabcdefg` for edns0 local: expected an even number of hex digits after 0x")),
        ("rewrite edns0 local set 0xffee {dummy}", Err("Corefile:2: unknown variable `{dummy}` for edns0 local data: expected one of {qname}, {qtype}, {client_ip}, {client_port}, {protocol}")),
        ("rewrite edns0 local set 0xffee {server_ip}", Err("Corefile:2: not supported yet: variable `{server_ip}` for edns0 local data: expected one of {qname}, {qtype}, {client_ip}, {client_port}, {protocol}")),
        ("rewrite edns0 nsid set junk", Err("Corefile:2: wrong number of arguments for `edns0 nsid set`: expected `edns0 nsid set|append|replace [revert] | edns0 nsid unset`, got 1 after the action")),
        ("rewrite edns0 subnet set 33 56", Err("Corefile:2: invalid IPv4 prefix length `33` for edns0 subnet: expected a number from 0 to 32")),
    ];
    for (lines, want) in cases {
        let corefile = format!(".:53 {{\n  {lines}\n}}\n");
        let got = options::<RewriteConfig>(&corefile).map(|c| c.rules);
        assert_eq!(got, want.map_err(|e| e.to_string()), "for `{lines}`");
    }
}

#[test]
fn a_second_rewrite_is_a_second_rule_but_other_plugins_stay_once_per_block() {
    let twice = ".:53 {\n  cache\n  rewrite name a.example b.example\n  cache 10\n}\n";
    assert_eq!(
        options::<RewriteConfig>(twice),
        Err("Corefile:4: only one `cache` per server block; the first is on line 2".to_string())
    );
}

#[test]
fn regex_replacement_fills_groups_and_leaves_other_braces() {
    let p = pat(r"^(\w+)-(\w+)?\.example\.$");
    assert_eq!(
        p.replace("web-eu.example.", "{2}.{1}.{0}.x{"),
        Some("eu.web.web-eu.example..x{".to_string())
    );
    assert_eq!(
        p.replace("web-.example.", "{1}.{2}.{x}."),
        Some("web..{x}.".to_string())
    );
    assert_eq!(p.replace("other.org.", "{1}"), None);
}

#[test]
fn ttl_ranges_as_coredns_reads_them() {
    assert_eq!(ttl_range("30"), Some((30, 30)));
    assert_eq!(ttl_range("30-300"), Some((30, 300)));
    assert_eq!(ttl_range("-30"), Some((0, 30)));
    assert_eq!(ttl_range("30-"), Some((30, 2_147_483_647)));
    assert_eq!(ttl_range("-"), None);
    assert_eq!(ttl_range("5-4"), None);
    assert_eq!(ttl_range("1-2-3"), None);
    assert_eq!(ttl_range("4294967296"), None);
}

#[test]
fn the_client_subnet_keeps_only_its_first_bits() {
    let cut = |ip: &str, v4, v6| {
        let s = client_subnet(ip.parse().expect("test IP"), v4, v6);
        (s.addr().to_string(), s.source_prefix())
    };
    assert_eq!(cut("192.0.2.77", 24, 56), ("192.0.2.0".to_string(), 24));
    assert_eq!(cut("::ffff:192.0.2.77", 16, 56), ("192.0.0.0".to_string(), 16));
    assert_eq!(cut("192.0.2.77", 0, 56), ("0.0.0.0".to_string(), 0));
    assert_eq!(cut("192.0.2.77", 32, 56), ("192.0.2.77".to_string(), 32));
    assert_eq!(
        cut("2001:db8:1234:5678::1", 24, 56),
        ("2001:db8:1234:5600::".to_string(), 56)
    );
}

#[test]
fn only_rules_that_write_who_asked_make_answers_per_client() {
    let rule = |option, action| Edns0Rule {
        action,
        option,
        revert: false,
    };
    let var = |v| Edns0Option::Local {
        code: 0xffee,
        data: LocalData::Variable(v),
    };
    let subnet = Edns0Option::Subnet { v4: 24, v6: 56 };
    assert!(rule(subnet.clone(), Edns0Action::Set).depends_on_client());
    assert!(!rule(subnet, Edns0Action::Unset).depends_on_client());
    assert!(rule(var(Variable::ClientIp), Edns0Action::Set).depends_on_client());
    assert!(rule(var(Variable::ClientPort), Edns0Action::Append).depends_on_client());
    assert!(rule(var(Variable::Protocol), Edns0Action::Set).depends_on_client());
    assert!(!rule(var(Variable::Qname), Edns0Action::Set).depends_on_client());
    assert!(!rule(Edns0Option::Nsid, Edns0Action::Set).depends_on_client());
}
