//! The `hosts` directive: `hosts [FILE [ZONES...]] { options and inline entries }` ->
//! [`HostsConfig`].
//!
//! Defaults are CoreDNS's: `/etc/hosts`, TTL 3600, reload every 5 s. Lines in the block that are
//! not options are inline hosts entries (`IP NAME...`) and are checked here. The hosts file is
//! not read at parse time: CoreDNS only warns when it is missing, and it is re-read while running.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use hickory_proto::rr::Name;

use crate::corefile::args::{count, duration, err, location, names, no_block};
use crate::corefile::zone::normalize_name;
use crate::corefile::Directive;
use crate::corefile::{ConfigError, Location};

/// `hosts [FILE [ZONES...]] { options }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostsConfig {
    pub location: Location,
    /// Default `/etc/hosts`.
    pub file: PathBuf,
    /// Zones answered (lower-case FQDNs); empty means the server block's zones.
    pub zones: Vec<Name>,
    /// Lines given inline in the block, in hosts-file syntax.
    pub inline: Vec<String>,
    /// Default 3600.
    pub ttl: u32,
    /// Re-read interval (default 5 s; zero disables).
    pub reload: Duration,
    pub fallthrough: Option<Vec<Name>>,
    pub no_reverse: bool,
}

/// Reads one `hosts` directive.
pub fn parse(d: &Directive) -> Result<HostsConfig, ConfigError> {
    let args = d.arg_texts();
    let mut h = HostsConfig {
        location: location(d),
        file: PathBuf::from(args.first().copied().unwrap_or("/etc/hosts")),
        zones: if args.len() > 1 {
            names(d, &args[1..], "hosts")?
        } else {
            Vec::new()
        },
        inline: Vec::new(),
        ttl: 3600,
        reload: Duration::from_secs(5),
        fallthrough: None,
        no_reverse: false,
    };
    for o in d.block.iter().flatten() {
        option(&mut h, o)?;
    }
    Ok(h)
}

fn option(h: &mut HostsConfig, o: &Directive) -> Result<(), ConfigError> {
    no_block(o, "hosts block")?;
    let args = o.arg_texts();
    match o.name.as_str() {
        "ttl" => {
            count(o, 1, 1, "ttl SECONDS")?;
            h.ttl = args[0]
                .parse::<u32>()
                .ok()
                .filter(|t| (1..=65535).contains(t))
                .ok_or_else(|| {
                    err(
                        o,
                        format!(
                            "invalid hosts `ttl` `{}`: expected an integer from 1 to 65535",
                            args[0]
                        ),
                    )
                })?;
        }
        "reload" => {
            count(o, 1, 1, "reload DURATION")?;
            h.reload = duration(o, args[0], "reload")?;
        }
        "no_reverse" => {
            count(o, 0, 0, "no_reverse")?;
            h.no_reverse = true;
        }
        "fallthrough" => h.fallthrough = Some(names(o, &args, "fallthrough")?),
        _ => h.inline.push(inline_entry(o)?),
    }
    Ok(())
}

/// An inline `IP NAME...` line, checked and returned as one hosts-file line.
fn inline_entry(o: &Directive) -> Result<String, ConfigError> {
    let bad = |why: String| {
        err(
            o,
            format!(
                "`{}` in hosts block is neither an option (`ttl`, `reload`, `no_reverse`, `fallthrough`) nor a hosts entry: {why}",
                o.name
            ),
        )
    };
    let ip = o.name.split('%').next().unwrap_or("");
    if ip.parse::<IpAddr>().is_err() {
        return Err(bad("expected `IP NAME...`".to_string()));
    }
    if o.args.is_empty() {
        return Err(bad(
            "expected at least one name after the address".to_string()
        ));
    }
    for name in o.arg_texts() {
        normalize_name(name).map_err(|m| bad(m.replace("zone", "name")))?;
    }
    let mut line = o.name.clone();
    for a in o.arg_texts() {
        line.push(' ');
        line.push_str(a);
    }
    Ok(line)
}
