//! Node-local mode as a Corefile asks for it: the block with `nodelocal` becomes the
//! [`NodeLocal`] that `main` prepares, arms and stops, and `pods verified` in such a Corefile
//! narrows the pod watch to this node.

use crate::config::model::Config;
use crate::plugin::kubernetes::{KubernetesConfig, PodMode};
use crate::plugin::nodelocal::{NodeLocal, NodeLocalConfig, NodeLocalError};
use crate::plugin::Kind;

/// Node-local mode for `config`, or `None` without a `nodelocal` block.
pub fn from_config(config: &Config) -> Option<NodeLocal> {
    let block = config.servers.iter().find(|b| b.has(Kind::Nodelocal))?;
    let options = block.get::<NodeLocalConfig>()?;
    let ports = block.zones.iter().map(|z| z.port).collect();
    Some(NodeLocal::new(
        options,
        &block.bind,
        ports,
        block.server_label(),
    ))
}

/// The node name pods are filtered on: `Some` when a `nodelocal` Corefile has `pods verified`
/// (its clients are this node's pods only), from `NODE_NAME`.
pub fn pods_node(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, NodeLocalError> {
    let node_local = config.servers.iter().any(|b| b.has(Kind::Nodelocal));
    let verified = config
        .servers
        .iter()
        .filter_map(|b| b.get::<KubernetesConfig>())
        .any(|k| k.pods == PodMode::Verified);
    if !(node_local && verified) {
        return Ok(None);
    }
    match env("NODE_NAME").filter(|n| !n.trim().is_empty()) {
        Some(node) => Ok(Some(node.trim().to_string())),
        None => Err(NodeLocalError::NoNodeName),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::time::Duration;

    fn config(text: &str) -> Config {
        crate::config::parse_corefile(text, std::path::Path::new("Corefile"), &|_| None)
            .expect("a valid Corefile")
    }

    #[test]
    fn pods_are_filtered_on_node_name_only_for_a_node_local_verified_block() {
        let local = ".:53 {\n bind 169.254.20.10\n nodelocal\n kubernetes cluster.local {\n  pods verified\n }\n}\n";
        let node = |name: &str| {
            let name = name.to_string();
            move |k: &str| (k == "NODE_NAME").then(|| name.clone())
        };
        assert_eq!(
            pods_node(&config(local), &node("node-a")).expect("named"),
            Some("node-a".to_string())
        );
        let err = pods_node(&config(local), &|_| None).expect_err("no NODE_NAME");
        assert!(err.to_string().contains("NODE_NAME"), "{err}");
        let central = ".:53 {\n kubernetes cluster.local {\n  pods verified\n }\n}\n";
        assert_eq!(
            pods_node(&config(central), &node("node-a")).expect("ok"),
            None
        );
        let insecure = ".:53 {\n bind 169.254.20.10\n nodelocal\n kubernetes cluster.local {\n  pods insecure\n }\n}\n";
        assert_eq!(pods_node(&config(insecure), &|_| None).expect("ok"), None);
    }

    #[test]
    fn the_captured_addresses_and_ports_come_from_the_block() {
        let n = from_config(&config(
            ".:53 {\n bind 169.254.20.10 10.96.0.10\n nodelocal {\n  interface nl0\n  check 2s\n }\n}\n",
        ))
        .expect("nodelocal");
        assert_eq!(n.interface(), "nl0");
        assert_eq!(n.check_interval(), Duration::from_secs(2));
        assert_eq!(n.spec().ports, vec![53]);
        assert_eq!(
            n.spec().addrs,
            vec![
                "169.254.20.10".parse::<IpAddr>().unwrap(),
                "10.96.0.10".parse().unwrap()
            ]
        );
        assert_eq!(n.server_label(), "dns://169.254.20.10:53");
        assert!(from_config(&config(".:53 {\n kubernetes cluster.local\n}\n")).is_none());
    }
}
