//! The Corefiles the distributions ship (tests/fixtures/corefiles/, verbatim from
//! docs/corefiles.md) parse, with `/etc/resolv.conf` supplied by a fake filesystem.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::config::model::Config;
use crate::config::parse_corefile_with;
use crate::corefile::files::FakeFiles;
use crate::plugin::cache::CacheConfig;
use crate::plugin::forward::ForwardConfig;
use crate::plugin::forward::ForwardPolicy;
use crate::plugin::health::HealthConfig;
use crate::plugin::hosts::HostsConfig;
use crate::plugin::kubernetes::KubernetesConfig;
use crate::plugin::kubernetes::PodMode;
use crate::plugin::log::LogConfig;
use crate::plugin::prometheus::PrometheusConfig;
use crate::plugin::ready::ReadyConfig;
use crate::plugin::reload::ReloadConfig;
use crate::plugin::Kind;

const KUBEADM: &str = include_str!("../../../tests/fixtures/corefiles/kubeadm.Corefile");
const KUBEADM_OLD: &str = include_str!("../../../tests/fixtures/corefiles/kubeadm-old.Corefile");
const K0S: &str = include_str!("../../../tests/fixtures/corefiles/k0s.Corefile");
const K3S: &str = include_str!("../../../tests/fixtures/corefiles/k3s.Corefile");

fn node() -> FakeFiles {
    FakeFiles::with(&[(
        "/etc/resolv.conf",
        "# systemd-resolved stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
    )])
}

fn parse(text: &str, files: &FakeFiles) -> Config {
    parse_corefile_with(text, Path::new("/etc/coredns/Corefile"), &|_| None, files)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// What every one of the three distributions' Corefiles has in common.
fn common(c: &Config, cache_disabled: bool) {
    assert_eq!(c.servers.len(), 1);
    let s = &c.servers[0];
    assert!(s.has(Kind::Errors) && s.has(Kind::Loop) && s.has(Kind::Loadbalance));
    assert!(s.get::<LogConfig>().is_none());
    let k = s.get::<KubernetesConfig>().expect("kubernetes");
    assert_eq!(k.zones, ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]);
    assert_eq!(k.pods, PodMode::Insecure);
    assert_eq!(
        k.fallthrough.as_deref(),
        Some(
            &[
                hickory_proto::rr::Name::from_ascii("in-addr.arpa.").unwrap(),
                hickory_proto::rr::Name::from_ascii("ip6.arpa.").unwrap()
            ][..]
        )
    );
    let ready = s.get::<ReadyConfig>().expect("ready");
    assert_eq!(ready.addr, sa("0.0.0.0:8181"));
    let prom = s.get::<PrometheusConfig>().expect("prometheus");
    assert_eq!(prom.addr, sa("0.0.0.0:9153"));
    let health = s.get::<HealthConfig>().expect("health");
    assert_eq!(health.addr, sa("0.0.0.0:8080"));
    let f = s.get::<ForwardConfig>().expect("forward");
    assert_eq!(f.from.to_ascii(), ".");
    assert_eq!(f.to, [sa("127.0.0.53:53")]);
    assert_eq!(f.expire, Duration::from_secs(10));
    assert_eq!(f.max_fails, 2);
    assert_eq!(f.health_check, Duration::from_millis(500));
    assert_eq!(f.policy, ForwardPolicy::Random);
    assert!(!f.force_tcp && !f.prefer_udp && f.except.is_empty());
    let cache = s.get::<CacheConfig>().expect("cache");
    assert_eq!((cache.success.max_ttl, cache.denial.max_ttl), (30, 30));
    assert_eq!(
        (cache.success.capacity, cache.denial.capacity),
        (9984, 9984)
    );
    assert_eq!((cache.success.min_ttl, cache.denial.min_ttl), (5, 5));
    assert!(cache.zones.is_empty() && cache.prefetch.is_none() && cache.serve_stale.is_none());
    if cache_disabled {
        let only = Some(vec![
            hickory_proto::rr::Name::from_ascii("cluster.local.").unwrap()
        ]);
        assert_eq!(cache.disable_success, only);
        assert_eq!(cache.disable_denial, only);
    } else {
        assert_eq!(
            (&cache.disable_success, &cache.disable_denial),
            (&None, &None)
        );
    }
    let reload = s.get::<ReloadConfig>().expect("reload");
    assert_eq!(
        (reload.interval, reload.jitter),
        (Duration::from_secs(30), Duration::from_secs(15))
    );
}

#[test]
fn kubeadm() {
    let c = parse(KUBEADM, &node());
    common(&c, true);
    let s = &c.servers[0];
    assert_eq!(s.get::<KubernetesConfig>().map(|k| k.ttl), Some(30));
    assert_eq!(
        s.get::<HealthConfig>().map(|h| h.lameduck),
        Some(Duration::from_secs(5))
    );
    assert_eq!(
        s.get::<ForwardConfig>().and_then(|f| f.max_concurrent),
        Some(1000)
    );
    assert_eq!(s.get::<ForwardConfig>().map(|f| f.location.line), Some(13));
}

#[test]
fn kubeadm_old() {
    let c = parse(KUBEADM_OLD, &node());
    common(&c, false);
    let s = &c.servers[0];
    assert_eq!(
        s.get::<HealthConfig>().map(|h| h.lameduck),
        Some(Duration::from_secs(5))
    );
}

#[test]
fn k0s() {
    let c = parse(K0S, &node());
    common(&c, false);
    let s = &c.servers[0];
    assert_eq!(s.get::<KubernetesConfig>().map(|k| k.ttl), Some(30));
    assert_eq!(
        s.get::<HealthConfig>().map(|h| h.lameduck),
        Some(Duration::ZERO)
    );
    assert_eq!(
        s.get::<ForwardConfig>().and_then(|f| f.max_concurrent),
        None
    );
    assert!(s.get::<HostsConfig>().is_none());
}

#[test]
fn k3s_without_custom_files() {
    let c = parse(K3S, &node());
    common(&c, false);
    let s = &c.servers[0];
    assert_eq!(s.get::<KubernetesConfig>().map(|k| k.ttl), Some(5));
    let h = s.get::<HostsConfig>().expect("hosts");
    assert_eq!(h.file, Path::new("/etc/coredns/NodeHosts"));
    assert_eq!(h.ttl, 60);
    assert_eq!(h.reload, Duration::from_secs(15));
    assert_eq!(h.fallthrough, Some(vec![]));
    assert!(h.zones.is_empty() && h.inline.is_empty() && !h.no_reverse);
}

#[test]
fn k3s_with_custom_files() {
    let mut files = node();
    for (path, text) in [
        ("/etc/coredns/custom/a.override", "log\n"),
        ("/etc/coredns/custom/b.override", "# nothing\n"),
        (
            "/etc/coredns/custom/example.server",
            "example.org:53 {\n    forward . 10.0.0.10\n    cache\n}\n",
        ),
    ] {
        files.files.insert(path.into(), text.into());
    }
    let c = parse(K3S, &files);
    assert_eq!(c.servers.len(), 2);
    let log = c.servers[0]
        .get::<LogConfig>()
        .expect("log from a.override");
    assert_eq!(
        log.location.file,
        Path::new("/etc/coredns/custom/a.override")
    );
    assert_eq!(log.location.line, 1);
    let ex = &c.servers[1];
    assert_eq!(ex.zones[0].zone, "example.org.");
    assert_eq!(
        ex.location.file,
        Path::new("/etc/coredns/custom/example.server")
    );
    assert_eq!(
        ex.get::<ForwardConfig>().map(|f| f.to.clone()),
        Some(vec![sa("10.0.0.10:53")])
    );
    assert_eq!(
        ex.get::<CacheConfig>().map(|c| c.success.max_ttl),
        Some(3600)
    );
}

#[test]
fn a_missing_resolv_conf_is_named_at_the_forward_line() {
    let err = parse_corefile_with(K0S, Path::new("Corefile"), &|_| None, &FakeFiles::default())
        .expect_err("no resolv.conf");
    assert_eq!(
        err.to_string(),
        "Corefile:11: forward: `/etc/resolv.conf` is not an IP address and cannot be read as a resolv.conf file: No such file or directory"
    );
}
