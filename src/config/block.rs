//! One server block: its keys -> zones and port, and its directives dispatched by name.
//!
//! Dispatch is one `match` in [`directive`]: to implement a plugin, add its arm (a file of its
//! own under `config/` and a field of [`ServerBlock`]). Each plugin may appear once per block.
//! Every other CoreDNS plugin is rejected as "not supported yet", anything else as an unknown
//! plugin, each at its own file and line (imported lines name the imported file).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use super::args::err;
use super::error::ConfigError;
use super::files::Files;
use super::model::{Location, ServerBlock, ServerZone};
use super::parser::{Directive, RawBlock};
use super::plugins::is_coredns_plugin;
use super::zone::parse_key;
use super::{cache, forward, hosts, kubernetes, listener, log, nodelocal, reload, switches};

/// Interprets a server block; `files` reads the files directives name (`forward`'s resolv.conf).
/// Every bad key or directive is added to `errors`, in order. The block is returned when its
/// keys are good, without its bad directives; when a key is bad the directives are not looked
/// at (their zones would be wrong, and so would the errors about them).
pub fn interpret(
    raw: &RawBlock,
    files: &dyn Files,
    errors: &mut Vec<ConfigError>,
) -> Option<ServerBlock> {
    let before = errors.len();
    let mut zones: Vec<ServerZone> = Vec::new();
    for key in &raw.keys {
        let names = match parse_key(&key.text) {
            Ok((names, port)) => names.into_iter().map(move |zone| ServerZone { zone, port }),
            Err(m) => {
                errors.push(ConfigError::new(&key.file, key.line, m));
                continue;
            }
        };
        for sz in names {
            if zones.contains(&sz) {
                errors.push(ConfigError::new(
                    &key.file,
                    key.line,
                    format!(
                        "zone `{}` on port {} is given twice in this server block's keys",
                        sz.zone, sz.port
                    ),
                ));
                break;
            }
            zones.push(sz);
        }
    }
    if errors.len() > before {
        return None;
    }
    let mut block = ServerBlock::new(
        zones,
        Location {
            file: raw.file.to_path_buf(),
            line: raw.line,
        },
    );
    // Where each plugin was first used, for "only one per block".
    let mut seen: HashMap<&str, &Directive> = HashMap::new();
    for d in &raw.directives {
        if d.name != "bind" {
            if let Some(first) = seen.get(d.name.as_str()) {
                let place = if Path::new(&*first.file) == Path::new(&*d.file) {
                    format!("line {}", first.line)
                } else {
                    format!("{}:{}", first.file.display(), first.line)
                };
                errors.push(err(
                    d,
                    format!(
                        "only one `{}` per server block; the first is on {place}",
                        d.name
                    ),
                ));
                continue;
            }
            seen.insert(&d.name, d);
        }
        match directive(&mut block, d, files) {
            Ok(()) if !block.plugins.contains(&d.name) => block.plugins.push(d.name.clone()),
            Ok(()) => {}
            Err(e) => errors.push(e),
        }
    }
    if let Err(e) = nodelocal::check_block(&block) {
        errors.push(e);
    }
    Some(block)
}

/// Applies one plugin directive to the block.
fn directive(block: &mut ServerBlock, d: &Directive, files: &dyn Files) -> Result<(), ConfigError> {
    let file: &Path = &d.file;
    match d.name.as_str() {
        "bind" => bind(block, d, file),
        "forward" => {
            block.forward = Some(forward::parse(d, files)?);
            Ok(())
        }
        "cache" => {
            block.cache = Some(cache::parse(d)?);
            Ok(())
        }
        "hosts" => {
            block.hosts = Some(hosts::parse(d)?);
            Ok(())
        }
        "health" => {
            block.health = Some(listener::health(d)?);
            Ok(())
        }
        "ready" => {
            block.ready = Some(listener::ready(d)?);
            Ok(())
        }
        "prometheus" => {
            block.prometheus = Some(listener::prometheus(d)?);
            Ok(())
        }
        "errors" => {
            switches::errors(d)?;
            block.errors = true;
            Ok(())
        }
        "log" => {
            block.log = Some(log::parse(d)?);
            Ok(())
        }
        "loop" => {
            switches::loop_detect(d)?;
            block.loop_detect = true;
            Ok(())
        }
        "reload" => {
            block.reload = Some(reload::parse(d)?);
            Ok(())
        }
        "nodelocal" => {
            block.nodelocal = Some(nodelocal::parse(d)?);
            Ok(())
        }
        "loadbalance" => {
            switches::loadbalance(d)?;
            block.loadbalance = true;
            Ok(())
        }
        "kubernetes" => {
            let mut server_zones: Vec<String> = Vec::new();
            for z in &block.zones {
                if !server_zones.contains(&z.zone) {
                    server_zones.push(z.zone.clone());
                }
            }
            block.kubernetes = Some(kubernetes::parse(d, &server_zones, file)?);
            Ok(())
        }
        name if is_coredns_plugin(name) => Err(not_supported(d)),
        name => Err(ConfigError::new(
            file,
            d.line,
            format!("unknown plugin `{name}`"),
        )),
    }
}

/// The error for a CoreDNS plugin Cairn does not implement yet.
pub fn not_supported(d: &Directive) -> ConfigError {
    err(d, format!("plugin `{}` is not supported yet", d.name))
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
