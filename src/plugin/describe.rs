//! How a plugin's options are shown to people (`cairn validate`'s one-line summary): zones as
//! written (`cluster.local`, `.`), listener and upstream addresses, lists that stay short.

use std::net::SocketAddr;

use hickory_proto::rr::Name;

/// Space-separated.
pub fn words(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(" ")
}

/// A zone as people write it: `cluster.local`, and `.` for the root.
pub fn zone(z: &str) -> &str {
    if z == "." {
        z
    } else {
        z.strip_suffix('.').unwrap_or(z)
    }
}

pub fn zones(zs: &[String]) -> String {
    let shown: Vec<String> = zs.iter().map(|z| zone(z).to_string()).collect();
    zone_list(&shown)
}

/// Space-separated, the middle elided when a CIDR expanded to many reverse zones.
pub fn zone_list(items: &[String]) -> String {
    const MAX: usize = 6;
    if items.len() <= MAX {
        return items.join(" ");
    }
    format!(
        "{} … and {} more",
        items[..MAX - 2].join(" "),
        items.len() - (MAX - 2)
    )
}

/// A listener address: `:PORT` for every address, else `IP:PORT`.
pub fn listen(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!(":{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// An upstream: the bare IP on port 53.
pub fn upstream(addr: SocketAddr) -> String {
    if addr.port() == 53 {
        addr.ip().to_string()
    } else {
        addr.to_string()
    }
}

/// Zones given as DNS names, as [`zones`] shows them.
pub fn names(ns: &[Name]) -> String {
    let shown: Vec<String> = ns.iter().map(|n| n.to_ascii()).collect();
    zones(&shown)
}
