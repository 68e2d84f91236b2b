//! Configuration: a CoreDNS Corefile becomes the typed [`model::Config`] — server blocks,
//! their zones and addresses, and each block's plugins as typed setups.
//!
//! The syntax (tokens, `import`, blocks of directives, errors at file:line) is `corefile`'s;
//! what each directive means is its plugin's (`plugin/NAME/`). This module owns the entry
//! points, the server block (`block`: keys, `bind`, directives handed to their plugins) and the
//! checks across blocks. Every file read (the Corefile, imports, a `forward`'s resolv.conf)
//! goes through [`Files`], so tests can parse without touching the machine's files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub mod model;

mod block;
mod plugins;

#[cfg(test)]
mod tests;

pub use crate::corefile::listen::listen_addr;
pub use crate::corefile::reverse::reverse_zones_for_cidr;
pub use crate::corefile::{parse_duration, ConfigError, Files, RealFiles};
pub use crate::plugin::forward::{address, resolv_conf};
pub use plugins::coredns_plugin_order;

use crate::corefile::parser::{self, Item};
use crate::corefile::{include, lexer, zone};
use crate::plugin::kubernetes::KubernetesConfig;
use crate::plugin::nodelocal::NodeLocalConfig;
use crate::plugin::{Kind, Setup};
use model::{Config, Location, ServerBlock, ServerZone};

/// Parses Corefile `text` read from `file` (used in errors), substituting `{$NAME}` and
/// `{%NAME%}` with `env` (unset -> empty).
pub fn parse_corefile(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    parse_corefile_with(text, file, env, &RealFiles)
}

/// [`parse_corefile`] reading imported files and resolv.conf files through `files`.
pub fn parse_corefile_with(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    files: &dyn Files,
) -> Result<Config, ConfigError> {
    check_corefile_with(text, file, env, files).map_err(|errors| {
        errors
            .into_iter()
            .next()
            .unwrap_or_else(|| ConfigError::new(file, 0, "invalid Corefile"))
    })
}

/// [`parse_corefile`], reporting every problem it can find rather than the first (never an empty
/// list). Each bad server block key and each bad directive is reported; an error in the
/// structure (quotes, braces, `import`) is reported alone, since the blocks cannot be told apart
/// reliably around it.
pub fn check_corefile(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    check_corefile_with(text, file, env, &RealFiles)
}

/// [`check_corefile`] reading imported files and resolv.conf files through `files`.
pub fn check_corefile_with(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    files: &dyn Files,
) -> Result<Config, Vec<ConfigError>> {
    let tokens = lexer::lex(text, file, env).map_err(|e| vec![e])?;
    let tokens = include::expand(&tokens, file, files, env).map_err(|e| vec![e])?;
    let items = parser::parse(&tokens).map_err(|e| vec![e])?;
    let mut servers: Vec<ServerBlock> = Vec::new();
    let mut errors = Vec::new();
    for item in &items {
        let raw = match item {
            Item::Block(raw) => raw,
            Item::Directive(d) => {
                errors.push(block::not_supported(d));
                continue;
            }
        };
        // A block with bad directives still claims its zones: overlaps are reported too.
        if let Some(server) = block::interpret(raw, files, &mut errors) {
            if let Err(e) = check_overlap(&servers, &server) {
                errors.push(e);
            }
            if let Some(e) = second_nodelocal(&servers, &server) {
                errors.push(e);
            }
            servers.push(server);
        }
    }
    if errors.is_empty() {
        Ok(Config { servers })
    } else {
        Err(errors)
    }
}

/// Reads and parses the Corefile at `path` with the process environment.
pub fn load_corefile(path: &Path) -> Result<Config, ConfigError> {
    read_corefile(path).map(|(_, config)| config)
}

/// Reads and parses the Corefile at `path` (the process environment fills `{$ENV}`), returning
/// the text it parsed too, so a caller that watches the file compares against exactly that.
pub fn read_corefile(path: &Path) -> Result<(String, Config), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot read the Corefile: {e}"),
    })?;
    let config = parse_corefile(&text, path, &|name| std::env::var(name).ok())?;
    Ok((text, config))
}

/// The configuration used without a Corefile: `.:PORT { bind IP; kubernetes ZONE in-addr.arpa
/// ip6.arpa }`, with no `bind` when `listen`'s IP is unspecified.
pub fn default_config(listen: SocketAddr, zone: &str) -> Config {
    let location = Location {
        file: PathBuf::from("<command line>"),
        line: 1,
    };
    let zone = zone::normalize_name(zone).unwrap_or_else(|_| {
        let bare = zone.trim_end_matches('.').to_ascii_lowercase();
        if bare.is_empty() {
            ".".to_string()
        } else {
            format!("{bare}.")
        }
    });
    let mut zones = vec![zone];
    for reverse in ["in-addr.arpa.", "ip6.arpa."] {
        if !zones.iter().any(|z| z == reverse) {
            zones.push(reverse.to_string());
        }
    }
    let bind = if listen.ip().is_unspecified() {
        Vec::new()
    } else {
        vec![listen.ip()]
    };
    let mut block = ServerBlock::new(
        vec![ServerZone {
            zone: ".".to_string(),
            port: listen.port(),
        }],
        location.clone(),
    );
    if !bind.is_empty() {
        block.plugins.push("bind".to_string());
    }
    block.bind = bind;
    block.set(Setup::Kubernetes(KubernetesConfig::with_zones(
        zones, location,
    )));
    block.plugins.push(Kind::Kubernetes.name().to_string());
    Config {
        servers: vec![block],
    }
}

/// One node-local interface per Cairn: a second `nodelocal` block is refused at its line.
fn second_nodelocal(earlier: &[ServerBlock], block: &ServerBlock) -> Option<ConfigError> {
    let second = block.get::<NodeLocalConfig>()?;
    let first = earlier.iter().find_map(|b| b.get::<NodeLocalConfig>())?;
    Some(ConfigError::new(
        &second.location.file,
        second.location.line,
        format!(
            "only one `nodelocal` per Corefile; the first is at {}",
            first.location
        ),
    ))
}

/// CoreDNS refuses two blocks serving the same zone on the same port and address.
fn check_overlap(earlier: &[ServerBlock], block: &ServerBlock) -> Result<(), ConfigError> {
    for other in earlier {
        let same_addr = (other.bind.is_empty() && block.bind.is_empty())
            || other.bind.iter().any(|ip| block.bind.contains(ip));
        if !same_addr {
            continue;
        }
        if let Some(z) = block.zones.iter().find(|z| other.zones.contains(z)) {
            return Err(ConfigError {
                file: block.location.file.clone(),
                line: block.location.line,
                message: format!(
                    "zone `{}` on port {} is already served by the server block on line {}",
                    z.zone, z.port, other.location.line
                ),
            });
        }
    }
    Ok(())
}
