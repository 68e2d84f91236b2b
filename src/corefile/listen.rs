//! The address a listener plugin (`health`, `ready`, `prometheus`) is given: `:PORT` (every
//! address), `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT` (127.0.0.1). Other host names are
//! refused: Cairn does not resolve names at startup.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::args::{count, err};
use super::error::ConfigError;
use super::parser::Directive;

/// Parses a listener address; the error says what was expected.
pub fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    let bad = || {
        format!(
            "invalid address `{text}`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`"
        )
    };
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let ip = match host {
        "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        h if h.eq_ignore_ascii_case("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h.parse::<IpAddr>().map_err(|_| bad())?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// The address argument of a listener plugin (`NAME [ADDRESS]`), `default` when none is given.
pub fn addr_arg(d: &Directive, default: &str) -> Result<SocketAddr, ConfigError> {
    count(d, 0, 1, &format!("{} [ADDRESS]", d.name))?;
    let text = d.args.first().map_or(default, |a| a.text.as_str());
    listen_addr(text).map_err(|m| err(d, format!("{}: {m}", d.name)))
}
