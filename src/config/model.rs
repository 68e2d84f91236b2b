//! The typed configuration a Corefile becomes and the server runs from: server blocks, their
//! zones and listening addresses, and each block's plugins as typed [`Setup`]s (each plugin's
//! options type lives in its folder under `plugin/`).
//!
//! Names here are normalised: zones are lower-case, fully qualified with a trailing dot (the root
//! is "."), reverse CIDR zones are already expanded into `in-addr.arpa.`/`ip6.arpa.` zones.

use std::net::IpAddr;

pub use crate::corefile::Location;
use crate::plugin::registry::Pick;
use crate::plugin::{Kind, Setup};

/// A whole Corefile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub servers: Vec<ServerBlock>,
}

impl Config {
    /// The first block's options of plugin `T` (for the plugins that act once per process:
    /// `health`, `ready`, `prometheus`, `reload`, `nodelocal`).
    pub fn first<T: Pick>(&self) -> Option<&T> {
        self.servers.iter().find_map(|b| b.get::<T>())
    }
}

/// One zone key of a server block: `ZONE[:PORT]` (only the `dns://` scheme, or none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerZone {
    /// Lower-case FQDN with trailing dot; "." for the root.
    pub zone: String,
    /// 53 unless given.
    pub port: u16,
}

/// One server block: `ZONE[:PORT] ... { plugins }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerBlock {
    pub zones: Vec<ServerZone>,
    pub location: Location,
    /// `bind ADDR...`; empty means every address (the wildcard addresses).
    pub bind: Vec<IpAddr>,
    /// The plugins, each once, in the order they were written (imports spliced in). The order
    /// they run in is [`Kind`]'s, not this one.
    pub setups: Vec<Setup>,
    /// Every directive used, `bind` included, in the order written, each once: for reports
    /// such as `cairn validate`'s.
    pub plugins: Vec<String>,
}

impl ServerBlock {
    /// A block with these zones and no plugins.
    pub fn new(zones: Vec<ServerZone>, location: Location) -> Self {
        ServerBlock {
            zones,
            location,
            bind: Vec::new(),
            setups: Vec::new(),
            plugins: Vec::new(),
        }
    }

    /// The options of plugin `T`, when the block has it.
    pub fn get<T: Pick>(&self) -> Option<&T> {
        self.setups.iter().find_map(T::pick)
    }

    /// Whether the block has plugin `kind`.
    pub fn has(&self, kind: Kind) -> bool {
        self.setups.iter().any(|s| s.kind() == kind)
    }

    /// Adds a plugin's options: replaces those it had, or merges into them for a plugin whose
    /// directives add up ([`Kind::repeatable`]).
    pub fn set(&mut self, setup: Setup) {
        match self.setups.iter_mut().find(|s| s.kind() == setup.kind()) {
            Some(existing) if setup.kind().repeatable() => existing.merge(setup),
            Some(existing) => *existing = setup,
            None => self.setups.push(setup),
        }
    }

    /// The metrics' `server` label of the block, as CoreDNS writes it: `dns://:53` without
    /// `bind`, `dns://127.0.0.1:53` with it.
    pub fn server_label(&self) -> String {
        let port = self.zones.first().map_or(53, |z| z.port);
        match self.bind.first() {
            Some(ip) => format!("dns://{}", std::net::SocketAddr::new(*ip, port)),
            None => format!("dns://:{port}"),
        }
    }

    /// The block's zones, each once, in key order.
    pub fn zone_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for z in &self.zones {
            if !names.contains(&z.zone) {
                names.push(z.zone.clone());
            }
        }
        names
    }
}
