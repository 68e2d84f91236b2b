//! The plugins that open an HTTP listener: `health [ADDR] { lameduck DUR }` ->
//! [`HealthConfig`], `ready [ADDR]` and `prometheus [ADDR]` -> [`HttpListener`].
//!
//! ADDR is `:PORT` (every address), `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT` (127.0.0.1).
//! Defaults are CoreDNS's: health `:8080`, ready `:8181`, prometheus `localhost:9153`. Other host
//! names are refused: Cairn does not resolve names at startup.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::args::{count, duration, err, location, no_block};
use super::error::ConfigError;
use super::model::{HealthConfig, HttpListener};
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

fn addr_arg(d: &Directive, default: &str) -> Result<SocketAddr, ConfigError> {
    count(d, 0, 1, &format!("{} [ADDRESS]", d.name))?;
    let text = d.args.first().map_or(default, |a| a.text.as_str());
    listen_addr(text).map_err(|m| err(d, format!("{}: {m}", d.name)))
}

/// `health [ADDR] { lameduck DURATION }`.
pub fn health(d: &Directive) -> Result<HealthConfig, ConfigError> {
    let mut h = HealthConfig {
        location: location(d),
        addr: addr_arg(d, ":8080")?,
        lameduck: Duration::ZERO,
    };
    for o in d.block.iter().flatten() {
        no_block(o, "health block")?;
        match o.name.as_str() {
            "lameduck" => {
                count(o, 1, 1, "lameduck DURATION")?;
                h.lameduck = duration(o, &o.args[0].text, "lameduck")?;
            }
            other => {
                return Err(err(
                    o,
                    format!("unknown property `{other}` in health block"),
                ))
            }
        }
    }
    Ok(h)
}

/// `ready [ADDR]` (default `:8181`).
pub fn ready(d: &Directive) -> Result<HttpListener, ConfigError> {
    no_block(d, "the server block")?;
    Ok(HttpListener {
        location: location(d),
        addr: addr_arg(d, ":8181")?,
    })
}

/// `prometheus [ADDR]` (default `localhost:9153`).
pub fn prometheus(d: &Directive) -> Result<HttpListener, ConfigError> {
    no_block(d, "the server block")?;
    Ok(HttpListener {
        location: location(d),
        addr: addr_arg(d, "localhost:9153")?,
    })
}
