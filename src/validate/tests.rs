//! The summary line: plugins in the order written, as they were read.

use std::path::Path;

use super::summary;
use crate::config::parse_corefile;

fn summarize(text: &str) -> String {
    let config = parse_corefile(text, Path::new("Corefile"), &|_| None).expect("valid Corefile");
    summary(Path::new("/etc/coredns/Corefile"), &config)
}

#[test]
fn one_block_lists_plugins_in_order_with_defaults_filled_in() {
    assert_eq!(
        summarize(
            ".:53 {\n  errors\n  health {\n    lameduck 5s\n  }\n  ready\n  kubernetes cluster.local in-addr.arpa ip6.arpa\n  prometheus :9153\n  forward . 10.0.0.10 [fd00::1]:5353\n  cache 30\n  loop\n  reload\n  loadbalance\n}\n"
        ),
        "/etc/coredns/Corefile: OK — 1 server block: .:53 (errors, health :8080 lameduck 5s, \
         ready :8181, kubernetes cluster.local in-addr.arpa ip6.arpa, prometheus :9153, \
         forward . 10.0.0.10 [fd00::1]:5353, cache 30, loop, reload, loadbalance)"
    );
}

#[test]
fn several_blocks_bind_hosts_and_long_zone_lists() {
    assert_eq!(
        summarize(
            "Example.ORG:1053 10.0.0.0/24 {\n  bind 127.0.0.1 ::1\n  hosts /etc/hosts.extra example.org\n  cache\n  prometheus\n}\n.:53 {\n  kubernetes cluster.local 10.96.0.0/12\n  log\n}\n"
        ),
        "/etc/coredns/Corefile: OK — 2 server blocks: \
         example.org:1053 0.0.10.in-addr.arpa:53 (bind 127.0.0.1 ::1, hosts /etc/hosts.extra example.org, \
         cache, prometheus 127.0.0.1:9153); \
         .:53 (kubernetes cluster.local 96.10.in-addr.arpa 97.10.in-addr.arpa 98.10.in-addr.arpa … and 13 more, log)"
    );
}

#[test]
fn an_empty_corefile_has_no_server_block() {
    assert_eq!(
        summarize("# nothing\n"),
        "/etc/coredns/Corefile: OK — 0 server blocks"
    );
}
