//! Turning a Corefile into handler chains: one [`Chain`] per server block (its plugins built
//! from the typed configuration), grouped by the listening address(es) each block serves.
//! Used at start and on reload; where the `kubernetes` indexes come from is the caller's
//! choice (fresh cells at start, the running ones on reload).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::chain::{Chain, Kubernetes};
use super::handler::Block;
use super::loop_guard::LoopGuard;
use super::own_ips;
use crate::cache::Cache;
use crate::cluster::publish::IndexCell;
use crate::config::model::{Config, KubernetesConfig};
use crate::forward::Forwarder;
use crate::hosts::Hosts;
use crate::metrics::Metrics;

/// The chains of a configuration, by listening address, and the plugins that need starting.
pub struct Assembly {
    /// Listening address -> the blocks it serves, in Corefile order.
    pub listeners: Vec<((IpAddr, u16), Vec<Block>)>,
    pub forwarders: Vec<Arc<Forwarder>>,
    pub hosts: Vec<Arc<Hosts>>,
}

/// Where each `kubernetes` block's index cell comes from: given the block's options and the
/// server's own addresses, a cell, or why none can be had.
pub type CellSource<'a> =
    dyn FnMut(KubernetesConfig, Vec<IpAddr>) -> Result<Arc<IndexCell>, String> + 'a;

/// The listening addresses of `config`'s blocks (the wildcard ones when a block has no `bind`).
pub fn listen_keys(config: &Config) -> Vec<(IpAddr, u16)> {
    let mut keys = Vec::new();
    for block in &config.servers {
        for ip in binds(&block.bind) {
            for zone in &block.zones {
                if !keys.contains(&(ip, zone.port)) {
                    keys.push((ip, zone.port));
                }
            }
        }
    }
    keys
}

fn binds(bind: &[IpAddr]) -> Vec<IpAddr> {
    if bind.is_empty() {
        vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ]
    } else {
        bind.to_vec()
    }
}

/// The metrics' `server` label of a block, as CoreDNS writes it: `dns://:53` without `bind`,
/// `dns://127.0.0.1:53` with it.
pub fn server_label(block: &crate::config::model::ServerBlock) -> String {
    let port = block.zones.first().map_or(53, |z| z.port);
    match block.bind.first() {
        Some(ip) => format!("dns://{}", SocketAddr::new(*ip, port)),
        None => format!("dns://:{port}"),
    }
}

/// Builds every block's chain.
pub fn assemble(
    config: Config,
    metrics: &Arc<Metrics>,
    cell: &mut CellSource<'_>,
) -> Result<Assembly, String> {
    let mut forwarders = Vec::new();
    let mut all_hosts = Vec::new();
    let mut listeners: Vec<((IpAddr, u16), Vec<Block>)> = Vec::new();
    for block in config.servers {
        let zones: Vec<Name> = block
            .zones
            .iter()
            .filter_map(|z| Name::from_ascii(&z.zone).ok())
            .collect();
        let server_label = server_label(&block);
        let names = |zs: &[String]| -> Vec<Name> {
            zs.iter().filter_map(|z| Name::from_ascii(z).ok()).collect()
        };
        let kubernetes = match block.kubernetes {
            Some(k) => {
                let fallthrough = k.fallthrough.as_deref().map(names);
                Some(Kubernetes {
                    cell: cell(k, own_ips(&block.bind))?,
                    fallthrough,
                })
            }
            None => None,
        };
        let block_zones: Vec<String> = block.zones.iter().map(|z| z.zone.clone()).collect();
        let hosts = block.hosts.map(|h| Hosts::new(h, &block_zones));
        all_hosts.extend(hosts.clone());
        let forward = block.forward.map(|f| Forwarder::new(f, metrics.clone()));
        forwarders.extend(forward.clone());
        let cache = block.cache.map(|mut c| {
            if c.zones.is_empty() {
                c.zones = block_zones.clone();
            }
            Arc::new(Cache::new(c, server_label.clone(), metrics.clone()))
        });
        let chain = Arc::new(Chain {
            zones: zones.clone(),
            server_label,
            kubernetes,
            cache,
            hosts,
            forward,
            loadbalance: block.loadbalance,
            loop_guard: if block.loop_detect {
                zones
                    .first()
                    .and_then(|z| LoopGuard::new(z, metrics.clone()))
            } else {
                None
            },
            errors: block.errors,
            log: block.log,
            metrics: metrics.clone(),
            runtime: std::sync::OnceLock::new(),
        });
        for ip in binds(&block.bind) {
            for zone in &block.zones {
                let key = (ip, zone.port);
                let at = match listeners.iter().position(|(k, _)| *k == key) {
                    Some(at) => at,
                    None => {
                        listeners.push((key, Vec::new()));
                        listeners.len() - 1
                    }
                };
                let blocks = &mut listeners[at].1;
                if !blocks.iter().any(|b| Arc::ptr_eq(&b.chain, &chain)) {
                    blocks.push(Block {
                        zones: zones.clone(),
                        chain: chain.clone(),
                    });
                }
            }
        }
    }
    Ok(Assembly {
        listeners,
        forwarders,
        hosts: all_hosts,
    })
}
