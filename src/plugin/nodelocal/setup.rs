//! The `nodelocal` plugin (Cairn's own): `nodelocal { interface NAME; check DURATION }` ->
//! [`NodeLocalConfig`].
//!
//! It takes no arguments. The addresses it captures are its server block's `bind` addresses,
//! so the block must bind specific addresses (checked once the whole block is read, in
//! [`check_bind`]); the ports are the block's. At most one `nodelocal` per Corefile (checked in
//! `config.rs`, which sees every block).

use std::time::Duration;

use crate::corefile::args::{count, duration, err, location, no_block};
use crate::corefile::Directive;
use crate::corefile::{ConfigError, Location};

/// `nodelocal { interface NAME; check DURATION }`: the interface that holds the block's `bind`
/// addresses, and how often it and the nftables rules are verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLocalConfig {
    pub location: Location,
    /// Default `cairn0`.
    pub interface: String,
    /// Default 10 s.
    pub check: Duration,
}

/// The interface used without `interface`.
pub const DEFAULT_INTERFACE: &str = "cairn0";
/// The repair interval without `check`.
pub const DEFAULT_CHECK: Duration = Duration::from_secs(10);

/// Reads one `nodelocal` directive.
pub fn parse(d: &Directive) -> Result<NodeLocalConfig, ConfigError> {
    count(d, 0, 0, "nodelocal { interface NAME; check DURATION }")?;
    let mut n = NodeLocalConfig {
        location: location(d),
        interface: DEFAULT_INTERFACE.to_string(),
        check: DEFAULT_CHECK,
    };
    for o in d.block.iter().flatten() {
        no_block(o, "nodelocal block")?;
        match o.name.as_str() {
            "interface" => {
                count(o, 1, 1, "interface NAME")?;
                let name = &o.args[0].text;
                interface_name(name).map_err(|m| err(o, format!("nodelocal: {m}")))?;
                n.interface = name.clone();
            }
            "check" => {
                count(o, 1, 1, "check DURATION")?;
                n.check = duration(o, &o.args[0].text, "check")?;
                if n.check < Duration::from_secs(1) {
                    return Err(err(
                        o,
                        format!(
                            "nodelocal: check interval `{}` is too short: expected at least 1s",
                            o.args[0].text
                        ),
                    ));
                }
            }
            other => {
                return Err(err(
                    o,
                    format!(
                        "unknown property `{other}` in nodelocal block: expected `interface` or `check`"
                    ),
                ))
            }
        }
    }
    Ok(n)
}

/// A Linux interface name: 1 to 15 bytes, no `/`, whitespace or `:`.
fn interface_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "interface `{name}` is not an interface name: expected 1 to 15 characters without `/`, `:` or spaces"
        ))
    }
}

/// What a block with `nodelocal` must also have: specific `bind` addresses to capture.
pub fn check_bind(n: &NodeLocalConfig, bind: &[std::net::IpAddr]) -> Result<(), ConfigError> {
    if bind.is_empty() || bind.iter().any(|ip| ip.is_unspecified()) {
        return Err(ConfigError::new(
            &n.location.file,
            n.location.line,
            "nodelocal: the server block needs `bind` with the addresses to capture \
             (for example `bind 169.254.20.10 10.96.0.10`), not the wildcard",
        ));
    }
    Ok(())
}
