//! Turning a Corefile into handler chains: one [`Chain`] per server block (built from its
//! plugins' setups), grouped by the listening address(es) each block serves. Used at start and
//! on reload; where the `kubernetes` indexes come from is the caller's choice (fresh cells at
//! start, the running ones on reload).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::handler::Block;
use super::own_ips;
use crate::config::model::Config;
use crate::metrics::Metrics;
use crate::plugin::registry::CellSource;
use crate::plugin::{BuildEnv, Chain};

/// The chains of a configuration, by listening address.
pub struct Assembly {
    /// Listening address -> the blocks it serves, in Corefile order.
    pub listeners: Vec<((IpAddr, u16), Vec<Block>)>,
}

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

/// Builds every block's chain.
pub fn assemble(
    config: &Config,
    metrics: &Arc<Metrics>,
    cells: &mut CellSource<'_>,
) -> Result<Assembly, String> {
    let mut listeners: Vec<((IpAddr, u16), Vec<Block>)> = Vec::new();
    for block in &config.servers {
        let zone_names = block.zone_names();
        let zones: Vec<Name> = zone_names
            .iter()
            .filter_map(|z| Name::from_ascii(z).ok())
            .collect();
        let server_label = block.server_label();
        let env = BuildEnv::new(
            &zones,
            &zone_names,
            &server_label,
            own_ips(&block.bind),
            metrics,
            cells,
        );
        let chain = Arc::new(Chain::build(&block.setups, env, metrics.clone())?);
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
    Ok(Assembly { listeners })
}
