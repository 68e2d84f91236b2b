//! The `forward` directive: `forward FROM TO... { options }` -> [`ForwardConfig`].
//!
//! `TO` is an IP with an optional port (`1.1.1.1`, `1.1.1.1:5353`, `[::1]:53`, `dns://...`) or a
//! resolv.conf-style file whose `nameserver` lines become upstreams; the file is read here,
//! through [`Files`], so parsing is testable without the machine's `/etc/resolv.conf`. Defaults
//! are CoreDNS's: expire 10 s, max_fails 2, health_check 0.5 s, policy random, at most 15
//! upstreams. DNS-over-TLS is not implemented and is rejected by name.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use hickory_proto::rr::Name;

use crate::corefile::args::{count, duration, err, location, name, names, no_block, number};
use crate::corefile::zone::normalize_name;
use crate::corefile::Directive;
use crate::corefile::Files;
use crate::corefile::{ConfigError, Location};

/// `forward FROM TO... { options }`: send queries for `from` to upstream servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardConfig {
    pub location: Location,
    /// The zone forwarded (lower-case FQDN; "." for everything).
    pub from: Name,
    /// Upstream addresses, in order; `/etc/resolv.conf`-style files are expanded to their
    /// `nameserver` lines at parse time (port 53 unless given).
    pub to: Vec<std::net::SocketAddr>,
    /// `except ZONE...`: names not forwarded (lower-case FQDNs).
    pub except: Vec<Name>,
    pub force_tcp: bool,
    pub prefer_udp: bool,
    /// `expire DUR`: idle upstream connections are closed after this (default 10 s).
    pub expire: Duration,
    /// `max_fails N`: consecutive failed health checks before an upstream is down (default 2;
    /// 0 never marks it down).
    pub max_fails: u32,
    /// `health_check DUR [no_rec] [domain NAME]` (default 0.5 s, RD set, `.`).
    pub health_check: Duration,
    pub health_check_no_rec: bool,
    pub health_check_domain: Name,
    pub policy: ForwardPolicy,
    /// `max_concurrent N`: queries beyond this many in flight are REFUSED.
    pub max_concurrent: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardPolicy {
    #[default]
    Random,
    RoundRobin,
    Sequential,
}

/// CoreDNS's limit on upstreams.
pub const MAX_UPSTREAMS: usize = 15;

/// Reads one `forward` directive.
pub fn parse(d: &Directive, files: &dyn Files) -> Result<ForwardConfig, ConfigError> {
    count(d, 2, usize::MAX, "forward FROM TO...")?;
    let from = normalize_name(&d.args[0].text).map_err(|m| err(d, format!("forward: {m}")))?;
    let from = name(d, &from, "forward")?;
    let mut to: Vec<SocketAddr> = Vec::new();
    for arg in &d.args[1..] {
        to.extend(upstream(d, &arg.text, files)?);
    }
    if to.len() > MAX_UPSTREAMS {
        return Err(err(
            d,
            format!(
                "forward: {} upstreams given, at most {MAX_UPSTREAMS} are allowed",
                to.len()
            ),
        ));
    }
    let mut f = ForwardConfig {
        location: location(d),
        from,
        to,
        except: Vec::new(),
        force_tcp: false,
        prefer_udp: false,
        expire: Duration::from_secs(10),
        max_fails: 2,
        health_check: Duration::from_millis(500),
        health_check_no_rec: false,
        health_check_domain: Name::root(),
        policy: ForwardPolicy::Random,
        max_concurrent: None,
    };
    for o in d.block.iter().flatten() {
        option(&mut f, o)?;
    }
    if f.force_tcp && f.prefer_udp {
        return Err(err(
            d,
            "forward: `force_tcp` and `prefer_udp` are both set: choose one",
        ));
    }
    Ok(f)
}

/// One `TO`: an address, or a file of `nameserver` lines.
fn upstream(d: &Directive, text: &str, files: &dyn Files) -> Result<Vec<SocketAddr>, ConfigError> {
    if let Some((scheme, _)) = text.split_once("://") {
        let rest = match scheme.to_ascii_lowercase().as_str() {
            "dns" => &text[scheme.len() + 3..],
            "tls" => {
                return Err(err(
                    d,
                    format!("forward: DNS-over-TLS upstream `{text}` is not supported yet"),
                ))
            }
            _ => {
                return Err(err(
                    d,
                    format!("forward: transport `{scheme}://` in `{text}` is not supported yet; only `dns://` is"),
                ))
            }
        };
        return address(rest, 53).map(|a| vec![a]).ok_or_else(|| {
            err(
                d,
                format!("forward: `{text}` is not an address: expected `dns://IP[:PORT]`"),
            )
        });
    }
    if let Some(addr) = address(text, 53) {
        return Ok(vec![addr]);
    }
    let looks_like_path = text.contains('/') || !text.contains(|c: char| c.is_ascii_digit());
    if !looks_like_path {
        return Err(err(
            d,
            format!(
                "forward: `{text}` is not an upstream: expected `IP`, `IP:PORT`, `[IPv6]:PORT` or a resolv.conf file"
            ),
        ));
    }
    let contents = files.read_to_string(Path::new(text)).map_err(|e| {
        err(
            d,
            format!("forward: `{text}` is not an IP address and cannot be read as a resolv.conf file: {e}"),
        )
    })?;
    let servers = resolv_conf(&contents)
        .map_err(|(line, m)| err(d, format!("forward: {text}:{line}: {m}")))?;
    if servers.is_empty() {
        return Err(err(
            d,
            format!("forward: `{text}` has no `nameserver` line: expected at least one upstream"),
        ));
    }
    Ok(servers)
}

/// `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`, with `default_port` when none is given.
pub fn address(text: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, default_port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|ip| SocketAddr::new(IpAddr::V6(ip), default_port))
}

/// The `nameserver` addresses of a resolv.conf (port 53), in order. An unparsable address is
/// `(line, message)`. Zone indexes (`fe80::1%eth0`) are not supported.
pub fn resolv_conf(text: &str) -> Result<Vec<SocketAddr>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        let Some(addr) = words.next() else {
            return Err((i + 1, "`nameserver` without an address".to_string()));
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| (i + 1, format!("nameserver `{addr}` is not an IP address")))?;
        let sa = SocketAddr::new(ip, 53);
        if !out.contains(&sa) {
            out.push(sa);
        }
    }
    Ok(out)
}

fn option(f: &mut ForwardConfig, o: &Directive) -> Result<(), ConfigError> {
    no_block(o, "forward block")?;
    let args = o.arg_texts();
    match o.name.as_str() {
        "except" => {
            count(o, 1, usize::MAX, "except ZONE...")?;
            for z in names(o, &args, "except")? {
                if !f.except.contains(&z) {
                    f.except.push(z);
                }
            }
        }
        "force_tcp" => {
            count(o, 0, 0, "force_tcp")?;
            f.force_tcp = true;
        }
        "prefer_udp" => {
            count(o, 0, 0, "prefer_udp")?;
            f.prefer_udp = true;
        }
        "expire" => {
            count(o, 1, 1, "expire DURATION")?;
            f.expire = duration(o, args[0], "expire")?;
        }
        "max_fails" => {
            count(o, 1, 1, "max_fails INTEGER")?;
            f.max_fails = number(o, args[0], "max_fails", "a non-negative integer")?;
        }
        "health_check" => {
            count(o, 1, 4, "health_check DURATION [no_rec] [domain NAME]")?;
            f.health_check = duration(o, args[0], "health_check")?;
            let mut rest = args[1..].iter();
            while let Some(word) = rest.next() {
                match *word {
                    "no_rec" => f.health_check_no_rec = true,
                    "domain" => {
                        let name = rest.next().ok_or_else(|| {
                            err(o, "health_check: `domain` needs a name (`domain NAME`)")
                        })?;
                        let normal = normalize_name(name)
                            .map_err(|m| err(o, format!("health_check: {m}")))?;
                        f.health_check_domain = self::name(o, &normal, "health_check")?;
                    }
                    other => {
                        return Err(err(
                            o,
                            format!("health_check: unknown option `{other}`: expected `no_rec` or `domain NAME`"),
                        ))
                    }
                }
            }
        }
        "policy" => {
            count(o, 1, 1, "policy random|round_robin|sequential")?;
            f.policy = match args[0] {
                "random" => ForwardPolicy::Random,
                "round_robin" => ForwardPolicy::RoundRobin,
                "sequential" => ForwardPolicy::Sequential,
                other => {
                    return Err(err(
                        o,
                        format!("unknown policy `{other}`: expected `random`, `round_robin` or `sequential`"),
                    ))
                }
            };
        }
        "max_concurrent" => {
            count(o, 1, 1, "max_concurrent INTEGER")?;
            f.max_concurrent = Some(number(
                o,
                args[0],
                "max_concurrent",
                "a non-negative integer",
            )?);
        }
        "tls" | "tls_servername" | "next" | "failfast_all_unhealthy_upstreams" | "failover" => {
            return Err(err(
                o,
                format!("forward option `{}` is not supported yet", o.name),
            ))
        }
        other => {
            return Err(err(
                o,
                format!("unknown property `{other}` in forward block"),
            ))
        }
    }
    Ok(())
}
