use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::Name;

use super::policy;
use super::Forwarder;
use crate::config::model::Location;
use crate::metrics::Metrics;
use crate::plugin::forward::{ForwardConfig, ForwardPolicy};

fn config(from: &str, except: &[&str]) -> ForwardConfig {
    ForwardConfig {
        location: Location {
            file: "Corefile".into(),
            line: 1,
        },
        from: Name::from_ascii(from).unwrap(),
        to: vec!["127.0.0.1:53".parse().unwrap()],
        except: except.iter().map(|s| Name::from_ascii(s).unwrap()).collect(),
        force_tcp: false,
        prefer_udp: false,
        expire: Duration::from_secs(10),
        max_fails: 2,
        health_check: Duration::from_millis(500),
        health_check_no_rec: false,
        health_check_domain: Name::root(),
        policy: ForwardPolicy::Random,
        max_concurrent: None,
    }
}

#[test]
fn handles_from_and_except() {
    // (from, except, qname, forwarded)
    let cases: &[(&str, &[&str], &str, bool)] = &[
        (".", &[], "example.com.", true),
        (".", &[], ".", true),
        (".", &["cluster.local."], "svc.cluster.local.", false),
        (".", &["cluster.local."], "cluster.local.", false),
        (".", &["cluster.local."], "notcluster.local.", true),
        (".", &["cluster.local."], "SVC.Cluster.LOCAL.", false),
        ("example.com.", &[], "www.example.com.", true),
        ("example.com.", &[], "WWW.EXAMPLE.COM.", true),
        ("example.com.", &[], "example.com.", true),
        ("example.com.", &[], "example.org.", false),
        ("example.com.", &[], "badexample.com.", false),
        ("example.com.", &[], "com.", false),
        (
            "example.com.",
            &["internal.example.com."],
            "a.internal.example.com.",
            false,
        ),
        (
            "example.com.",
            &["internal.example.com."],
            "a.external.example.com.",
            true,
        ),
        // CoreDNS: the FROM name itself is always forwarded.
        ("example.com.", &["example.com."], "example.com.", true),
        ("example.com.", &["example.com."], "a.example.com.", false),
    ];
    for (from, except, qname, want) in cases {
        let f = Forwarder::new(config(from, except), Arc::new(Metrics::new()));
        let name = Name::from_ascii(qname).unwrap();
        assert_eq!(
            f.handles(&name),
            *want,
            "forward {from} except {except:?}: {qname}"
        );
    }
}

#[test]
fn sequential_keeps_configured_order() {
    let robin = AtomicUsize::new(0);
    for _ in 0..3 {
        assert_eq!(
            policy::order(ForwardPolicy::Sequential, 3, &robin),
            [0, 1, 2]
        );
    }
}

#[test]
fn round_robin_rotates_the_first() {
    let robin = AtomicUsize::new(0);
    let firsts: Vec<Vec<usize>> = (0..4)
        .map(|_| policy::order(ForwardPolicy::RoundRobin, 3, &robin))
        .collect();
    assert_eq!(
        firsts,
        [vec![0, 1, 2], vec![1, 0, 2], vec![2, 0, 1], vec![0, 1, 2]]
    );
}

#[test]
fn random_is_a_permutation_and_varies() {
    let robin = AtomicUsize::new(0);
    let mut firsts = [0usize; 4];
    for _ in 0..400 {
        let mut order = policy::order(ForwardPolicy::Random, 4, &robin);
        firsts[order[0]] += 1;
        order.sort();
        assert_eq!(order, [0, 1, 2, 3]);
    }
    assert!(firsts.iter().all(|&n| n > 40), "first picks {firsts:?}");
}

#[test]
fn no_upstreams_is_an_error_not_a_panic() {
    let mut c = config(".", &[]);
    c.to.clear();
    let f = Forwarder::new(c, Arc::new(Metrics::new()));
    assert!(f.upstreams().is_empty());
    assert_eq!(
        policy::order(ForwardPolicy::RoundRobin, 0, &AtomicUsize::new(0)),
        Vec::<usize>::new()
    );
}
