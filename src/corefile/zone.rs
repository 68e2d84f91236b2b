//! Zone names and server block keys: normalisation (lower-case FQDN, "." for the root), CIDR
//! expansion to reverse zones, `[dns://]ZONE[:PORT]` splitting, and the "is within" test.
//! Errors are plain messages; callers add the file and line.

use super::reverse::reverse_zones_for_cidr;

/// The port a key without `:PORT` gets unless `-dns.port` says otherwise.
pub const DEFAULT_PORT: u16 = 53;

/// The port keys without `:PORT` get in this process: [`DEFAULT_PORT`], or what CoreDNS's
/// `-dns.port` flag set at start (a process-wide setting, as CoreDNS's `dnsserver.Port`, so a
/// reload of the Corefile reads keys the same way).
static PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(DEFAULT_PORT);

/// Sets the port of keys without `:PORT` (`-dns.port`), once at start, before any Corefile is
/// read.
pub fn set_default_port(port: u16) {
    PORT.store(port, std::sync::atomic::Ordering::Relaxed);
}

/// The port a key without `:PORT` gets now.
pub fn default_port() -> u16 {
    PORT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Normalises one domain name: lower-case, trailing dot, "." for the root.
pub fn normalize_name(name: &str) -> Result<String, String> {
    if name == "." {
        return Ok(".".to_string());
    }
    let bare = name.strip_suffix('.').unwrap_or(name);
    let bad = |why: &str| Err(format!("invalid zone `{name}`: {why}"));
    if bare.is_empty() {
        return bad("expected a domain name such as `cluster.local` or `.`");
    }
    if bare.len() > 253 {
        return bad("a domain name is at most 253 characters");
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return bad("empty label (two dots in a row)");
        }
        if label.len() > 63 {
            return bad("a label is at most 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad("expected letters, digits, `-` or `_` between dots");
        }
    }
    Ok(format!("{}.", bare.to_ascii_lowercase()))
}

/// A zone as written in a key or argument: a CIDR expands to its reverse zones, anything else is
/// one normalised name.
pub fn zones_from_arg(arg: &str) -> Result<Vec<String>, String> {
    if arg.contains('/') {
        return reverse_zones_for_cidr(arg).ok_or_else(|| {
            format!("invalid CIDR `{arg}`: expected an address and prefix such as `10.0.0.0/24`")
        });
    }
    Ok(vec![normalize_name(arg)?])
}

/// Splits a server block key `[dns://]ZONE[:PORT]` into its zones (several for a CIDR) and port.
pub fn parse_key(key: &str) -> Result<(Vec<String>, u16), String> {
    if key.starts_with('(') && key.ends_with(')') {
        return Err(format!(
            "`{key}` is a snippet name, not a zone: a snippet is defined alone, as `{key} {{ ... }}`"
        ));
    }
    let rest = match key.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("dns") => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "transport `{scheme}://` in `{key}` is not supported yet; only `dns://` is"
            ))
        }
        None => key,
    };
    // A CIDR's IPv6 address has colons of its own: a port can only follow the `/PREFIX`.
    let port_colon = match (rest.rfind(':'), rest.find('/')) {
        (Some(colon), Some(slash)) if colon < slash => None,
        (colon, _) => colon,
    };
    let (zone, port) = match port_colon {
        Some(colon) => {
            let port = &rest[colon + 1..];
            let port = port.parse::<u16>().map_err(|_| {
                format!("invalid port `{port}` in `{key}`: expected a number from 0 to 65535")
            })?;
            (&rest[..colon], port)
        }
        None => (rest, default_port()),
    };
    if zone.is_empty() {
        return Err(format!(
            "empty zone in `{key}`: expected a zone such as `.` or `cluster.local`"
        ));
    }
    Ok((zones_from_arg(zone)?, port))
}

/// True when `zone` equals `parent` or is below it (both normalised).
pub fn is_within(zone: &str, parent: &str) -> bool {
    parent == "."
        || zone == parent
        || zone
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with('.'))
}
