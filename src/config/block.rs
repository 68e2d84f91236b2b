//! One server block: its keys -> zones and port, and its directives dispatched by name.
//!
//! Dispatch is one `match` in [`directive`]: to implement a plugin, add its arm (and a field to
//! [`ServerBlock`]). Every other CoreDNS plugin is rejected as "not supported yet", anything else
//! as an unknown plugin, each at its own line.

use std::net::IpAddr;
use std::path::Path;

use super::error::ConfigError;
use super::kubernetes;
use super::model::{Location, ServerBlock, ServerZone};
use super::parser::{Directive, RawBlock};
use super::plugins::is_coredns_plugin;
use super::zone::parse_key;

/// Interprets a server block.
pub fn interpret(raw: &RawBlock, file: &Path) -> Result<ServerBlock, ConfigError> {
    let mut zones: Vec<ServerZone> = Vec::new();
    for key in &raw.keys {
        let (names, port) =
            parse_key(&key.text).map_err(|m| ConfigError::new(file, key.line, m))?;
        for zone in names {
            let sz = ServerZone { zone, port };
            if zones.contains(&sz) {
                return Err(ConfigError::new(
                    file,
                    key.line,
                    format!(
                        "zone `{}` on port {} is given twice in this server block's keys",
                        sz.zone, sz.port
                    ),
                ));
            }
            zones.push(sz);
        }
    }
    let mut block = ServerBlock::new(
        zones,
        Location {
            file: file.to_path_buf(),
            line: raw.line,
        },
    );
    for d in &raw.directives {
        directive(&mut block, d, file)?;
    }
    Ok(block)
}

/// Applies one plugin directive to the block.
fn directive(block: &mut ServerBlock, d: &Directive, file: &Path) -> Result<(), ConfigError> {
    match d.name.as_str() {
        "bind" => bind(block, d, file),
        "kubernetes" => {
            if let Some(first) = &block.kubernetes {
                return Err(ConfigError::new(
                    file,
                    d.line,
                    format!(
                        "only one `kubernetes` per server block; the first is on line {}",
                        first.location.line
                    ),
                ));
            }
            let mut server_zones: Vec<String> = Vec::new();
            for z in &block.zones {
                if !server_zones.contains(&z.zone) {
                    server_zones.push(z.zone.clone());
                }
            }
            block.kubernetes = Some(kubernetes::parse(d, &server_zones, file)?);
            Ok(())
        }
        name if is_coredns_plugin(name) => Err(not_supported(d, file)),
        name => Err(ConfigError::new(
            file,
            d.line,
            format!("unknown plugin `{name}`"),
        )),
    }
}

/// The error for a CoreDNS plugin Cairn does not implement yet.
pub fn not_supported(d: &Directive, file: &Path) -> ConfigError {
    ConfigError::new(
        file,
        d.line,
        format!("plugin `{}` is not supported yet", d.name),
    )
}

/// `bind ADDR...`: IP addresses only.
fn bind(block: &mut ServerBlock, d: &Directive, file: &Path) -> Result<(), ConfigError> {
    if d.block.is_some() {
        return Err(ConfigError::new(
            file,
            d.line,
            "a `bind` block (`except`) is not supported yet",
        ));
    }
    if d.args.is_empty() {
        return Err(ConfigError::new(
            file,
            d.line,
            "`bind` takes at least one IP address (`bind ADDR...`), got none",
        ));
    }
    for arg in &d.args {
        let ip: IpAddr = arg.text.parse().map_err(|_| {
            ConfigError::new(
                file,
                arg.line,
                format!(
                    "bind: `{}` is not an IP address; interface names are not supported yet; give an IP address",
                    arg.text
                ),
            )
        })?;
        if !block.bind.contains(&ip) {
            block.bind.push(ip);
        }
    }
    Ok(())
}
