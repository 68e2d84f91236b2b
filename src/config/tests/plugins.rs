//! Table tests for every plugin option: snippet -> typed values, or the exact error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::model::{Config, ServerBlock};
use crate::config::{parse_corefile_with, resolv_conf, ConfigError};
use crate::corefile::files::{FakeFiles, RealFiles};
use crate::plugin::cache::CacheConfig;
use crate::plugin::forward::ForwardConfig;
use crate::plugin::forward::ForwardPolicy;
use crate::plugin::health::HealthConfig;
use crate::plugin::hosts::HostsConfig;
use crate::plugin::log::LogConfig;
use crate::plugin::nodelocal::NodeLocalConfig;
use crate::plugin::prometheus::PrometheusConfig;
use crate::plugin::ready::ReadyConfig;
use crate::plugin::reload::ReloadConfig;
use crate::plugin::Kind;

fn files() -> FakeFiles {
    FakeFiles::with(&[
        (
            "/etc/resolv.conf",
            "nameserver 10.0.0.2\nnameserver ::1 # local\nnameserver 10.0.0.2\n",
        ),
        ("/empty.conf", "search cluster.local\n"),
        (
            "/bad.conf",
            "nameserver 10.0.0.1\n\nnameserver dns.google\n",
        ),
        (
            "/fifteen.conf",
            &(1..=15)
                .map(|i| format!("nameserver 10.0.1.{i}\n"))
                .collect::<String>(),
        ),
    ])
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_corefile_with(text, Path::new("Corefile"), &|_| None, &files())
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn names(v: &[&str]) -> Vec<hickory_proto::rr::Name> {
    v.iter()
        .map(|s| hickory_proto::rr::Name::from_ascii(s).expect("a name"))
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `.:53 { LINES }`, the plugin lines starting on line 2.
fn block(lines: &str) -> String {
    format!(".:53 {{\n{lines}\n}}\n")
}

#[test]
fn plugin_errors_name_file_line_and_expectation() {
    let cases: Vec<(&str, &str)> = vec![
        // forward
        ("forward", "Corefile:2: `forward` takes at least 2 arguments (`forward FROM TO...`), got 0"),
        ("forward .", "Corefile:2: `forward` takes at least 2 arguments (`forward FROM TO...`), got 1"),
        ("forward a..b 1.1.1.1", "Corefile:2: forward: invalid zone `a..b`: empty label (two dots in a row)"),
        ("forward . 1.1.1.1:99999", "Corefile:2: forward: `1.1.1.1:99999` is not an upstream: expected `IP`, `IP:PORT`, `[IPv6]:PORT` or a resolv.conf file"),
        ("forward . 300.1.1.1", "Corefile:2: forward: `300.1.1.1` is not an upstream: expected `IP`, `IP:PORT`, `[IPv6]:PORT` or a resolv.conf file"),
        ("forward . tls://9.9.9.9", "Corefile:2: forward: DNS-over-TLS upstream `tls://9.9.9.9` is not supported yet"),
        ("forward . https://dns.google", "Corefile:2: forward: transport `https://` in `https://dns.google` is not supported yet; only `dns://` is"),
        ("forward . dns://dns.google", "Corefile:2: forward: `dns://dns.google` is not an address: expected `dns://IP[:PORT]`"),
        ("forward . /missing.conf", "Corefile:2: forward: `/missing.conf` is not an IP address and cannot be read as a resolv.conf file: No such file or directory"),
        ("forward . dns.google", "Corefile:2: forward: `dns.google` is not an IP address and cannot be read as a resolv.conf file: No such file or directory"),
        ("forward . /empty.conf", "Corefile:2: forward: `/empty.conf` has no `nameserver` line: expected at least one upstream"),
        ("forward . /bad.conf", "Corefile:2: forward: /bad.conf:3: nameserver `dns.google` is not an IP address"),
        ("forward . /fifteen.conf 1.1.1.1", "Corefile:2: forward: 16 upstreams given, at most 15 are allowed"),
        ("forward . 1.1.1.1\nforward example.org 8.8.8.8", "Corefile:3: only one `forward` per server block; the first is on line 2"),
        ("forward . 1.1.1.1 {\n force_tcp\n prefer_udp\n}", "Corefile:2: forward: `force_tcp` and `prefer_udp` are both set: choose one"),
        ("forward . 1.1.1.1 {\n force_tcp yes\n}", "Corefile:3: `force_tcp` takes no arguments (`force_tcp`), got 1"),
        ("forward . 1.1.1.1 {\n prefer_udp 1\n}", "Corefile:3: `prefer_udp` takes no arguments (`prefer_udp`), got 1"),
        ("forward . 1.1.1.1 {\n except\n}", "Corefile:3: `except` takes at least 1 argument (`except ZONE...`), got 0"),
        ("forward . 1.1.1.1 {\n except a..b\n}", "Corefile:3: except: invalid zone `a..b`: empty label (two dots in a row)"),
        ("forward . 1.1.1.1 {\n expire\n}", "Corefile:3: `expire` takes exactly 1 argument (`expire DURATION`), got 0"),
        ("forward . 1.1.1.1 {\n expire 10\n}", "Corefile:3: expire: invalid duration `10`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("forward . 1.1.1.1 {\n expire -1s\n}", "Corefile:3: expire: invalid duration `-1s`: must not be negative"),
        ("forward . 1.1.1.1 {\n max_fails -1\n}", "Corefile:3: invalid max_fails `-1`: expected a non-negative integer"),
        ("forward . 1.1.1.1 {\n max_fails\n}", "Corefile:3: `max_fails` takes exactly 1 argument (`max_fails INTEGER`), got 0"),
        ("forward . 1.1.1.1 {\n health_check\n}", "Corefile:3: `health_check` takes 1 to 4 arguments (`health_check DURATION [no_rec] [domain NAME]`), got 0"),
        ("forward . 1.1.1.1 {\n health_check soon\n}", "Corefile:3: health_check: invalid duration `soon`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("forward . 1.1.1.1 {\n health_check 1s domain\n}", "Corefile:3: health_check: `domain` needs a name (`domain NAME`)"),
        ("forward . 1.1.1.1 {\n health_check 1s domain a..b\n}", "Corefile:3: health_check: invalid zone `a..b`: empty label (two dots in a row)"),
        ("forward . 1.1.1.1 {\n health_check 1s rec\n}", "Corefile:3: health_check: unknown option `rec`: expected `no_rec` or `domain NAME`"),
        ("forward . 1.1.1.1 {\n policy fastest\n}", "Corefile:3: unknown policy `fastest`: expected `random`, `round_robin` or `sequential`"),
        ("forward . 1.1.1.1 {\n policy\n}", "Corefile:3: `policy` takes exactly 1 argument (`policy random|round_robin|sequential`), got 0"),
        ("forward . 1.1.1.1 {\n max_concurrent many\n}", "Corefile:3: invalid max_concurrent `many`: expected a non-negative integer"),
        ("forward . 1.1.1.1 {\n max_concurrent -5\n}", "Corefile:3: invalid max_concurrent `-5`: expected a non-negative integer"),
        ("forward . 1.1.1.1 {\n tls /c /k /ca\n}", "Corefile:3: forward option `tls` is not supported yet"),
        ("forward . 1.1.1.1 {\n tls_servername dns.quad9.net\n}", "Corefile:3: forward option `tls_servername` is not supported yet"),
        ("forward . 1.1.1.1 {\n upstream 8.8.8.8\n}", "Corefile:3: unknown property `upstream` in forward block"),
        ("forward . 1.1.1.1 {\n expire 5s {\n }\n}", "Corefile:3: unexpected `{` after `expire` in forward block: this takes no block"),
        // cache
        ("cache 0", "Corefile:2: invalid cache TTL `0`: expected a positive number of seconds"),
        ("cache -5", "Corefile:2: invalid cache TTL `-5`: expected a positive number of seconds"),
        ("cache 30s", "Corefile:2: invalid cache TTL `30s`: expected a positive number of seconds"),
        ("cache 30 a..b", "Corefile:2: cache: invalid zone `a..b`: empty label (two dots in a row)"),
        ("cache\ncache 30", "Corefile:3: only one `cache` per server block; the first is on line 2"),
        ("cache {\n success\n}", "Corefile:3: `success` takes 1 to 3 arguments (`success CAPACITY [TTL] [MINTTL]`), got 0"),
        ("cache {\n denial 1 2 3 4\n}", "Corefile:3: `denial` takes 1 to 3 arguments (`denial CAPACITY [TTL] [MINTTL]`), got 4"),
        ("cache {\n success lots\n}", "Corefile:3: invalid capacity `lots`: expected a non-negative integer"),
        ("cache {\n success 100 0\n}", "Corefile:3: invalid cache TTL `0`: expected a positive number of seconds"),
        ("cache {\n denial 100 60 -1\n}", "Corefile:3: invalid minimum TTL `-1`: expected a non-negative number of seconds"),
        ("cache {\n prefetch\n}", "Corefile:3: `prefetch` takes 1 to 3 arguments (`prefetch AMOUNT [[DURATION] [PERCENTAGE%]]`), got 0"),
        ("cache {\n prefetch 0\n}", "Corefile:3: invalid prefetch amount `0`: expected a positive integer"),
        ("cache {\n prefetch x\n}", "Corefile:3: invalid prefetch amount `x`: expected a positive integer"),
        ("cache {\n prefetch 2 soon\n}", "Corefile:3: prefetch: invalid duration `soon`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("cache {\n prefetch 2 1m 101%\n}", "Corefile:3: invalid prefetch percentage `101%`: expected 0% to 100%"),
        ("cache {\n serve_stale 1h immediate extra\n}", "Corefile:3: `serve_stale` takes at most 2 arguments (`serve_stale [DURATION] [immediate|verify]`), got 3"),
        ("cache {\n serve_stale -1h\n}", "Corefile:3: serve_stale: invalid duration `-1h`: must not be negative"),
        ("cache {\n serve_stale 1h later\n}", "Corefile:3: invalid serve_stale refresh mode `later`: expected `immediate` or `verify`"),
        ("cache {\n disable\n}", "Corefile:3: `disable` takes at least 1 argument (`disable success|denial [ZONES...]`), got 0"),
        ("cache {\n disable errors\n}", "Corefile:3: invalid `disable` class `errors`: expected `success` or `denial`"),
        ("cache {\n disable success a..b\n}", "Corefile:3: disable: invalid zone `a..b`: empty label (two dots in a row)"),
        ("cache {\n keepttl 5\n}", "Corefile:3: `keepttl` takes no arguments (`keepttl`), got 1"),
        ("cache {\n servfail 5s\n}", "Corefile:3: cache option `servfail` is not supported yet"),
        ("cache {\n size 5\n}", "Corefile:3: unknown property `size` in cache block"),
        // hosts
        ("hosts /etc/hosts a..b", "Corefile:2: hosts: invalid zone `a..b`: empty label (two dots in a row)"),
        ("hosts {\n ttl 0\n}", "Corefile:3: invalid hosts `ttl` `0`: expected an integer from 1 to 65535"),
        ("hosts {\n ttl 65536\n}", "Corefile:3: invalid hosts `ttl` `65536`: expected an integer from 1 to 65535"),
        ("hosts {\n ttl\n}", "Corefile:3: `ttl` takes exactly 1 argument (`ttl SECONDS`), got 0"),
        ("hosts {\n reload 5\n}", "Corefile:3: reload: invalid duration `5`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("hosts {\n no_reverse please\n}", "Corefile:3: `no_reverse` takes no arguments (`no_reverse`), got 1"),
        ("hosts {\n fallthrough a..b\n}", "Corefile:3: fallthrough: invalid zone `a..b`: empty label (two dots in a row)"),
        ("hosts {\n tll 60\n}", "Corefile:3: `tll` in hosts block is neither an option (`ttl`, `reload`, `no_reverse`, `fallthrough`) nor a hosts entry: expected `IP NAME...`"),
        ("hosts {\n 10.0.0.1\n}", "Corefile:3: `10.0.0.1` in hosts block is neither an option (`ttl`, `reload`, `no_reverse`, `fallthrough`) nor a hosts entry: expected at least one name after the address"),
        ("hosts {\n 10.0.0.1 bad..name\n}", "Corefile:3: `10.0.0.1` in hosts block is neither an option (`ttl`, `reload`, `no_reverse`, `fallthrough`) nor a hosts entry: invalid name `bad..name`: empty label (two dots in a row)"),
        ("hosts {\n ttl 5 {\n }\n}", "Corefile:3: unexpected `{` after `ttl` in hosts block: this takes no block"),
        // health, ready, prometheus
        ("health :80 :81", "Corefile:2: `health` takes at most 1 argument (`health [ADDRESS]`), got 2"),
        ("health 8080", "Corefile:2: health: invalid address `8080`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`"),
        ("health example.org:8080", "Corefile:2: health: invalid address `example.org:8080`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`"),
        ("health :http", "Corefile:2: health: invalid address `:http`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`"),
        ("health {\n lameduck\n}", "Corefile:3: `lameduck` takes exactly 1 argument (`lameduck DURATION`), got 0"),
        ("health {\n lameduck 5\n}", "Corefile:3: lameduck: invalid duration `5`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("health {\n grace 5s\n}", "Corefile:3: unknown property `grace` in health block"),
        ("health\nhealth :8081", "Corefile:3: only one `health` per server block; the first is on line 2"),
        ("ready :8181 :8182", "Corefile:2: `ready` takes at most 1 argument (`ready [ADDRESS]`), got 2"),
        ("ready 127.0.0.1", "Corefile:2: ready: invalid address `127.0.0.1`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`"),
        ("ready {\n}", "Corefile:2: unexpected `{` after `ready` in the server block: this takes no block"),
        ("prometheus :99999", "Corefile:2: prometheus: invalid address `:99999`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`"),
        ("prometheus\nprometheus :9154", "Corefile:3: only one `prometheus` per server block; the first is on line 2"),
        // errors, log, loop, reload, loadbalance
        ("errors stdout", "Corefile:2: `errors` takes no arguments (`errors [{ consolidate DURATION REGEXP [LEVEL] [show_first] }]`), got 1"),
        ("errors {\n consolidate 5m\n}", "Corefile:3: `consolidate` takes 2 to 4 arguments (`consolidate DURATION REGEXP [LEVEL] [show_first]`), got 1"),
        ("errors {\n consolidate often .*\n}", "Corefile:3: consolidate: invalid duration `often`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("errors {\n stacktrace on\n}", "Corefile:3: `stacktrace` takes no arguments (`stacktrace`), got 1"),
        ("errors {\n verbose\n}", "Corefile:3: unknown property `verbose` in errors block"),
        ("errors\nerrors", "Corefile:3: only one `errors` per server block; the first is on line 2"),
        ("log a..b", "Corefile:2: log: invalid zone `a..b`: empty label (two dots in a row)"),
        ("log {\n class\n}", "Corefile:3: `class` takes at least 1 argument (`class all|denial|error|success...`), got 0"),
        ("log {\n class failure\n}", "Corefile:3: invalid log class `failure`: expected `all`, `denial`, `error` or `success`"),
        ("log {\n format json\n}", "Corefile:3: unknown property `format` in log block"),
        ("loop 5", "Corefile:2: `loop` takes no arguments (`loop`), got 1"),
        ("loop {\n}", "Corefile:2: unexpected `{` after `loop` in the server block: this takes no block"),
        ("reload 1s", "Corefile:2: reload: interval `1s` is too short: expected at least 2s"),
        ("reload 10s 500ms", "Corefile:2: reload: jitter `500ms` is too short: expected at least 1s"),
        ("reload 10s 6s", "Corefile:2: reload: jitter 6s is more than half the interval 10s"),
        ("reload 10s", "Corefile:2: reload: jitter 15s is more than half the interval 10s"),
        ("reload soon", "Corefile:2: reload: invalid duration `soon`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("reload 30s 15s 1s", "Corefile:2: `reload` takes at most 2 arguments (`reload [INTERVAL [JITTER]]`), got 3"),
        ("loadbalance random", "Corefile:2: unknown loadbalance policy `random`: expected `round_robin`"),
        ("loadbalance weighted /w.txt", "Corefile:2: `loadbalance` takes at most 1 argument (`loadbalance [round_robin]`), got 2"),
        ("loadbalance weighted", "Corefile:2: loadbalance policy `weighted` is not supported yet"),
        // nodelocal
        ("bind 169.254.20.10\nnodelocal eth0", "Corefile:3: `nodelocal` takes no arguments (`nodelocal { interface NAME; check DURATION }`), got 1"),
        ("nodelocal", "Corefile:2: nodelocal: the server block needs `bind` with the addresses to capture (for example `bind 169.254.20.10 10.96.0.10`), not the wildcard"),
        ("bind 0.0.0.0\nnodelocal", "Corefile:3: nodelocal: the server block needs `bind` with the addresses to capture (for example `bind 169.254.20.10 10.96.0.10`), not the wildcard"),
        ("bind 169.254.20.10\nnodelocal {\n interface averyveryverylongname\n}", "Corefile:4: nodelocal: interface `averyveryverylongname` is not an interface name: expected 1 to 15 characters without `/`, `:` or spaces"),
        ("bind 169.254.20.10\nnodelocal {\n interface a/b\n}", "Corefile:4: nodelocal: interface `a/b` is not an interface name: expected 1 to 15 characters without `/`, `:` or spaces"),
        ("bind 169.254.20.10\nnodelocal {\n check 500ms\n}", "Corefile:4: nodelocal: check interval `500ms` is too short: expected at least 1s"),
        ("bind 169.254.20.10\nnodelocal {\n check often\n}", "Corefile:4: check: invalid duration `often`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        ("bind 169.254.20.10\nnodelocal {\n device cairn0\n}", "Corefile:4: unknown property `device` in nodelocal block: expected `interface` or `check`"),
        ("bind 169.254.20.10\nnodelocal {\n check 5s {\n }\n}", "Corefile:4: unexpected `{` after `check` in nodelocal block: this takes no block"),
        // Plugins Cairn lacks keep their error.
        ("etcd skydns.local", "Corefile:2: plugin `etcd` is not supported yet"),
        ("dnssec", "Corefile:2: plugin `dnssec` is not supported yet"),
    ];
    for (lines, want) in cases {
        let text = block(lines);
        match parse(&text) {
            Ok(config) => panic!("{text:?}: expected error {want:?}, got {config:?}"),
            Err(err) => assert_eq!(err.to_string(), want, "{text:?}"),
        }
    }
}

#[test]
fn plugin_options_produce_typed_values() {
    type Check = fn(&ServerBlock);
    let cases: Vec<(&str, Check)> = vec![
        ("forward . 1.1.1.1 1.0.0.1:5353 [2606:4700::1111]:53 [::1] dns://9.9.9.9 DNS://9.9.9.10:5300 /etc/resolv.conf", |s| {
            let f = s.get::<ForwardConfig>().expect("forward");
            assert_eq!(f.to, [
                sa("1.1.1.1:53"), sa("1.0.0.1:5353"), sa("[2606:4700::1111]:53"), sa("[::1]:53"),
                sa("9.9.9.9:53"), sa("9.9.9.10:5300"), sa("10.0.0.2:53"), sa("[::1]:53"),
            ]);
            assert_eq!(f.location.line, 2);
            assert_eq!(f.health_check_domain.to_ascii(), ".");
            assert!(!f.health_check_no_rec);
        }),
        ("forward Example.ORG /fifteen.conf", |s| {
            let f = s.get::<ForwardConfig>().expect("forward");
            assert_eq!(f.from.to_ascii(), "example.org.");
            assert_eq!(f.to.len(), 15);
        }),
        ("forward . 1.1.1.1 {\n except Cluster.Local 10.0.0.0/8 cluster.local\n force_tcp\n expire 1m\n max_fails 0\n health_check 2s no_rec domain Example.com\n policy sequential\n max_concurrent 0\n}", |s| {
            let f = s.get::<ForwardConfig>().expect("forward");
            assert_eq!(f.except, names(&["cluster.local.", "10.in-addr.arpa."]));
            assert!(f.force_tcp && !f.prefer_udp);
            assert_eq!(f.expire, Duration::from_secs(60));
            assert_eq!(f.max_fails, 0);
            assert_eq!(f.health_check, Duration::from_secs(2));
            assert!(f.health_check_no_rec);
            assert_eq!(f.health_check_domain.to_ascii(), "example.com.");
            assert_eq!(f.policy, ForwardPolicy::Sequential);
            assert_eq!(f.max_concurrent, Some(0));
        }),
        ("forward . 1.1.1.1 {\n prefer_udp\n policy round_robin\n health_check 0s domain a.b\n}", |s| {
            let f = s.get::<ForwardConfig>().expect("forward");
            assert!(f.prefer_udp);
            assert_eq!(f.policy, ForwardPolicy::RoundRobin);
            assert_eq!(f.health_check, Duration::ZERO);
            assert_eq!(f.health_check_domain.to_ascii(), "a.b.");
        }),
        ("forward . 1.1.1.1 {\n policy random\n}", |s| {
            assert_eq!(s.get::<ForwardConfig>().map(|f| f.policy), Some(ForwardPolicy::Random));
        }),
        ("cache", |s| {
            let c = s.get::<CacheConfig>().expect("cache");
            assert_eq!((c.success.capacity, c.success.max_ttl, c.success.min_ttl), (9984, 3600, 5));
            assert_eq!((c.denial.capacity, c.denial.max_ttl, c.denial.min_ttl), (9984, 1800, 5));
            assert!(c.zones.is_empty() && !c.keepttl);
            assert_eq!(c.location.line, 2);
        }),
        ("cache Example.org 10.0.0.0/8", |s| {
            let c = s.get::<CacheConfig>().expect("cache");
            assert_eq!(c.zones, names(&["example.org.", "10.in-addr.arpa."]));
            assert_eq!(c.success.max_ttl, 3600);
        }),
        ("cache 300 example.org {\n success 5000 600 10\n denial 100 30\n prefetch 10\n serve_stale\n disable success\n keepttl\n}", |s| {
            let c = s.get::<CacheConfig>().expect("cache");
            assert_eq!(c.zones, names(&["example.org."]));
            assert_eq!((c.success.capacity, c.success.max_ttl, c.success.min_ttl), (5000, 600, 10));
            assert_eq!((c.denial.capacity, c.denial.max_ttl, c.denial.min_ttl), (100, 30, 5));
            let p = c.prefetch.as_ref().expect("prefetch");
            assert_eq!((p.amount, p.duration, p.percentage), (10, Duration::from_secs(60), 10));
            let st = c.serve_stale.as_ref().expect("serve_stale");
            assert_eq!((st.duration, st.verify), (Duration::from_secs(3600), false));
            assert_eq!(c.disable_success, Some(vec![]));
            assert_eq!(c.disable_denial, None);
            assert!(c.keepttl);
        }),
        ("cache {\n prefetch 2 10m 25%\n serve_stale 30m verify\n denial 0\n}", |s| {
            let c = s.get::<CacheConfig>().expect("cache");
            let p = c.prefetch.as_ref().expect("prefetch");
            assert_eq!((p.amount, p.duration, p.percentage), (2, Duration::from_secs(600), 25));
            let st = c.serve_stale.as_ref().expect("serve_stale");
            assert_eq!((st.duration, st.verify), (Duration::from_secs(1800), true));
            assert_eq!(c.denial.capacity, 0);
        }),
        ("cache {\n prefetch 3 50%\n serve_stale 2h immediate\n}", |s| {
            let c = s.get::<CacheConfig>().expect("cache");
            let p = c.prefetch.as_ref().expect("prefetch");
            assert_eq!((p.amount, p.duration, p.percentage), (3, Duration::from_secs(60), 50));
            assert_eq!(c.serve_stale.as_ref().map(|s| s.duration), Some(Duration::from_secs(7200)));
        }),
        ("hosts", |s| {
            let h = s.get::<HostsConfig>().expect("hosts");
            assert_eq!(h.file, PathBuf::from("/etc/hosts"));
            assert_eq!((h.ttl, h.reload), (3600, Duration::from_secs(5)));
            assert!(h.zones.is_empty() && h.inline.is_empty() && h.fallthrough.is_none() && !h.no_reverse);
        }),
        ("hosts /etc/custom.hosts Example.org 10.0.0.0/24 {\n 10.0.0.1 a.example.org b.example.org\n fd00::1 v6.example.org\n ttl 60\n reload 0\n no_reverse\n fallthrough example.org\n}", |s| {
            let h = s.get::<HostsConfig>().expect("hosts");
            assert_eq!(h.file, PathBuf::from("/etc/custom.hosts"));
            assert_eq!(h.zones, names(&["example.org.", "0.0.10.in-addr.arpa."]));
            assert_eq!(h.inline, strings(&["10.0.0.1 a.example.org b.example.org", "fd00::1 v6.example.org"]));
            assert_eq!((h.ttl, h.reload), (60, Duration::ZERO));
            assert!(h.no_reverse);
            assert_eq!(h.fallthrough, Some(names(&["example.org."])));
        }),
        ("health localhost:8091 {\n lameduck 1m\n}\nready 127.0.0.1:8182\nprometheus [::1]:9154", |s| {
            let h = s.get::<HealthConfig>().expect("health");
            assert_eq!((h.addr, h.lameduck), (sa("127.0.0.1:8091"), Duration::from_secs(60)));
            assert_eq!(s.get::<ReadyConfig>().map(|r| r.addr), Some(sa("127.0.0.1:8182")));
            assert_eq!(s.get::<PrometheusConfig>().map(|p| p.addr), Some(sa("[::1]:9154")));
            assert_eq!(s.get::<PrometheusConfig>().map(|p| p.location.line), Some(6));
        }),
        ("health\nready\nprometheus", |s| {
            let h = s.get::<HealthConfig>().expect("health");
            assert_eq!((h.addr, h.lameduck), (sa("0.0.0.0:8080"), Duration::ZERO));
            assert_eq!(s.get::<ReadyConfig>().map(|r| r.addr), Some(sa("0.0.0.0:8181")));
            assert_eq!(s.get::<PrometheusConfig>().map(|p| p.addr), Some(sa("127.0.0.1:9153")));
        }),
        ("prometheus 0.0.0.0:9153\nready :0", |s| {
            assert_eq!(s.get::<PrometheusConfig>().map(|p| p.addr), Some(sa("0.0.0.0:9153")));
            assert_eq!(s.get::<ReadyConfig>().map(|r| r.addr), Some(sa("0.0.0.0:0")));
        }),
        ("errors {\n consolidate 5m \".* i/o timeout$\" warning\n stacktrace\n}\nloop\nloadbalance round_robin", |s| {
            assert!(s.has(Kind::Errors) && s.has(Kind::Loop) && s.has(Kind::Loadbalance));
        }),
        ("errors {\n}", |s| assert!(s.has(Kind::Errors) && !s.has(Kind::Loop) && !s.has(Kind::Loadbalance))),
        ("log", |s| {
            let l = s.get::<LogConfig>().expect("log");
            assert!(l.names.is_empty() && l.classes.is_empty() && l.format.is_none());
        }),
        ("log Example.org", |s| {
            let l = s.get::<LogConfig>().expect("log");
            assert_eq!(l.names, names(&["example.org."]));
            assert_eq!(l.format, None);
        }),
        ("log . {common}", |s| {
            let l = s.get::<LogConfig>().expect("log");
            assert!(l.names.is_empty());
            assert_eq!(l.format.as_deref(), Some("{common}"));
        }),
        ("log a.org b.org \"{remote} {name}\" {\n class denial error\n class denial\n}", |s| {
            let l = s.get::<LogConfig>().expect("log");
            assert_eq!(l.names, names(&["a.org.", "b.org."]));
            assert_eq!(l.format.as_deref(), Some("{remote} {name}"));
            assert_eq!(l.classes, strings(&["denial", "error"]));
        }),
        ("log {\n class success all\n}", |s| {
            assert_eq!(s.get::<LogConfig>().map(|l| l.classes.clone()), Some(strings(&["all"])));
        }),
        ("reload", |s| {
            let r = s.get::<ReloadConfig>().expect("reload");
            assert_eq!((r.interval, r.jitter), (Duration::from_secs(30), Duration::from_secs(15)));
        }),
        ("reload 2s 1s", |s| {
            let r = s.get::<ReloadConfig>().expect("reload");
            assert_eq!((r.interval, r.jitter), (Duration::from_secs(2), Duration::from_secs(1)));
        }),
        ("bind 169.254.20.10 10.96.0.10\nnodelocal", |s| {
            let n = s.get::<NodeLocalConfig>().expect("nodelocal");
            assert_eq!((n.interface.as_str(), n.check), ("cairn0", Duration::from_secs(10)));
            assert_eq!(n.location.line, 3);
        }),
        ("bind 169.254.25.10\nnodelocal {\n interface nodelocaldns\n check 1m\n}", |s| {
            let n = s.get::<NodeLocalConfig>().expect("nodelocal");
            assert_eq!((n.interface.as_str(), n.check), ("nodelocaldns", Duration::from_secs(60)));
        }),
        ("reload 1m", |s| {
            let r = s.get::<ReloadConfig>().expect("reload");
            assert_eq!((r.interval, r.jitter), (Duration::from_secs(60), Duration::from_secs(15)));
        }),
    ];
    for (lines, check) in cases {
        let text = block(lines);
        match parse(&text) {
            Ok(config) => check(&config.servers[0]),
            Err(err) => panic!("{text:?}: unexpected error {err}"),
        }
    }
}

#[test]
fn resolv_conf_is_read_from_real_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("resolv.conf");
    std::fs::write(
        &path,
        "; comment\nsearch svc.cluster.local\nnameserver 127.0.0.53\nnameserver fd00::53\noptions ndots:5\n",
    )
    .expect("write");
    let text = format!(".:53 {{\n  forward . {}\n}}\n", path.display());
    let c =
        parse_corefile_with(&text, Path::new("Corefile"), &|_| None, &RealFiles).expect("parses");
    let f = c.servers[0].get::<ForwardConfig>().expect("forward");
    assert_eq!(f.to, [sa("127.0.0.53:53"), sa("[fd00::53]:53")]);

    let missing = dir.path().join("missing.conf");
    let text = format!(".:53 {{\n  forward . {}\n}}\n", missing.display());
    let err = parse_corefile_with(&text, Path::new("Corefile"), &|_| None, &RealFiles)
        .expect_err("missing");
    assert_eq!(err.line, 2);
    assert!(
        err.message.contains(&missing.display().to_string()),
        "{err}"
    );
}

#[test]
fn resolv_conf_lines() {
    assert_eq!(
        resolv_conf("nameserver 1.1.1.1\n#nameserver 2.2.2.2\n nameserver\t::1 \nsortlist x\n"),
        Ok(vec![sa("1.1.1.1:53"), sa("[::1]:53")])
    );
    assert_eq!(resolv_conf(""), Ok(vec![]));
    assert_eq!(
        resolv_conf("domain x\nnameserver\n"),
        Err((2, "`nameserver` without an address".to_string()))
    );
    assert_eq!(
        resolv_conf("nameserver fe80::1%eth0\n"),
        Err((
            1,
            "nameserver `fe80::1%eth0` is not an IP address".to_string()
        ))
    );
}
