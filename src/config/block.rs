//! One server block: its keys -> zones and port, `bind`, and every other directive handed to
//! the plugin it names ([`Kind::from_name`], the order list), whose setup reads it. Each plugin
//! may appear once per block. Every other CoreDNS plugin is rejected as "not supported yet",
//! anything else as an unknown plugin, each at its own file and line (imported lines name the
//! imported file).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use super::model::{Location, ServerBlock, ServerZone};
use super::plugins::is_coredns_plugin;
use crate::corefile::args::err;
use crate::corefile::parser::{Directive, RawBlock};
use crate::corefile::zone::parse_key;
use crate::corefile::{ConfigError, Files};
use crate::plugin::{BlockContext, Kind, Setup};

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
        let repeatable = Kind::from_name(&d.name).is_some_and(Setup::repeatable);
        if d.name != "bind" && !repeatable {
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
    let zones = block.zone_names();
    let context = BlockContext {
        zones: &zones,
        bind: &block.bind,
        files,
        plugins: &block.plugins,
    };
    for setup in &block.setups {
        if let Err(e) = setup.check(&context) {
            errors.push(e);
        }
    }
    Some(block)
}

/// Applies one directive to the block.
fn directive(block: &mut ServerBlock, d: &Directive, files: &dyn Files) -> Result<(), ConfigError> {
    if d.name == "bind" {
        return bind(block, d, &d.file);
    }
    let Some(kind) = Kind::from_name(&d.name) else {
        return Err(if is_coredns_plugin(&d.name) {
            not_supported(d)
        } else {
            ConfigError::new(&d.file, d.line, format!("unknown plugin `{}`", d.name))
        });
    };
    let zones = block.zone_names();
    let context = BlockContext {
        zones: &zones,
        bind: &block.bind,
        files,
        plugins: &block.plugins,
    };
    let setup = Setup::parse(kind, d, &context)?;
    block.add(setup);
    Ok(())
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
