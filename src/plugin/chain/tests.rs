use std::path::Path;
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::Chain;
use crate::cluster::model::ClusterState;
use crate::metrics::Metrics;
use crate::plugin::kubernetes::publish::Publisher;
use crate::plugin::{BuildEnv, Kind};

/// The chain of the first block of `corefile`.
fn chain_of(corefile: &str) -> Chain {
    let config = crate::config::parse_corefile(corefile, Path::new("Corefile"), &|_| None)
        .expect("a valid Corefile");
    let block = &config.servers[0];
    let names = block.zone_names();
    let zones: Vec<Name> = names.iter().map(|z| Name::from_ascii(z).unwrap()).collect();
    let label = block.server_label();
    let metrics = Arc::new(Metrics::new());
    let mut publisher = Publisher::default();
    let state = ClusterState::default();
    let mut cells = |k: &crate::plugin::kubernetes::KubernetesConfig, own| {
        Ok(publisher.add(k.clone(), own, &state, 1, true))
    };
    let env = BuildEnv::new(&zones, &names, &label, Vec::new(), &metrics, &mut cells);
    Chain::build(&block.setups, env, metrics.clone()).expect("builds")
}

#[test]
fn the_chain_runs_in_coredns_order_whatever_order_the_corefile_writes() {
    let lines = [
        "forward . 127.0.0.1:1053",
        "loop",
        "cache 30",
        "kubernetes cluster.local",
        "errors",
        "loadbalance",
        "hosts {\n  fallthrough\n }",
        "log",
        "health 127.0.0.1:0",
        "prometheus 127.0.0.1:0",
        "ready 127.0.0.1:0",
        "reload",
    ];
    let want = vec![
        Kind::Errors,
        Kind::Log,
        Kind::Loadbalance,
        Kind::Cache,
        Kind::Hosts,
        Kind::Kubernetes,
        Kind::Loop,
        Kind::Forward,
    ];
    let mut seen_orders = std::collections::HashSet::new();
    for round in 0..20 {
        let mut shuffled = lines.to_vec();
        if round > 0 {
            fastrand::shuffle(&mut shuffled);
        }
        seen_orders.insert(shuffled.clone());
        let corefile = format!(".:53 {{\n {}\n}}\n", shuffled.join("\n "));
        let chain = chain_of(&corefile);
        assert_eq!(chain.kinds(), want, "for the Corefile\n{corefile}");
    }
    assert!(seen_orders.len() > 1, "the lines were shuffled");
}

#[test]
fn plugins_outside_the_query_path_have_no_place_in_the_chain() {
    let chain = chain_of(".:53 {\n health 127.0.0.1:0\n ready 127.0.0.1:0\n reload\n}\n");
    assert!(chain.kinds().is_empty());
}

#[test]
fn the_order_list_is_coredns_plugin_cfg_order() {
    // CoreDNS's plugin.cfg, for the plugins Cairn has; Cairn's own `nodelocal` comes last.
    let coredns = crate::config::coredns_plugin_order();
    let mut at = 0;
    for kind in Kind::ALL {
        if *kind == Kind::Nodelocal {
            continue;
        }
        let pos = coredns
            .iter()
            .position(|n| *n == kind.name())
            .unwrap_or_else(|| panic!("{} is a CoreDNS plugin", kind.name()));
        assert!(pos >= at, "{} is out of CoreDNS's order", kind.name());
        at = pos;
    }
    assert_eq!(Kind::ALL.last(), Some(&Kind::Nodelocal));
}
