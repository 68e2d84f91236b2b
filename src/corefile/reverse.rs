//! CIDR -> reverse zones, as CoreDNS expands a CIDR zone key or argument.
//!
//! IPv4 zones sit on octet boundaries (`in-addr.arpa.`), IPv6 zones on nibble boundaries
//! (`ip6.arpa.`); a prefix between boundaries becomes every zone at the next boundary that it
//! covers (`10.0.0.0/12` -> 16 zones at /16). Host bits are masked off, as Go's `ParseCIDR` does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[cfg(test)]
mod tests;

/// The reverse zones covering `cidr` (`"10.96.0.0/24"` -> `["0.96.10.in-addr.arpa."]`), or `None`
/// when `cidr` is not `IP/PREFIX`.
pub fn reverse_zones_for_cidr(cidr: &str) -> Option<Vec<String>> {
    let (ip, prefix) = cidr.split_once('/')?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u32 = prefix.parse().ok()?;
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => (prefix <= 32).then(|| v4_zones(v4, prefix)),
        IpAddr::V6(v6) => (prefix <= 128).then(|| v6_zones(v6, prefix)),
    }
}

fn v4_zones(ip: Ipv4Addr, prefix: u32) -> Vec<String> {
    let bits = u32::from(ip) & mask32(prefix);
    let aligned = prefix.div_ceil(8) * 8;
    let octets = (aligned / 8) as usize;
    (0..1u32 << (aligned - prefix))
        .map(|i| {
            let net = if aligned == 0 {
                bits
            } else {
                bits | (i << (32 - aligned))
            };
            let bytes = net.to_be_bytes();
            let mut labels: Vec<String> = bytes[..octets].iter().map(|b| b.to_string()).collect();
            labels.reverse();
            labels.push("in-addr.arpa.".to_string());
            labels.join(".")
        })
        .collect()
}

fn v6_zones(ip: Ipv6Addr, prefix: u32) -> Vec<String> {
    let bits = u128::from(ip) & mask128(prefix);
    let aligned = prefix.div_ceil(4) * 4;
    let nibbles = (aligned / 4) as usize;
    (0..1u128 << (aligned - prefix))
        .map(|i| {
            let net = if aligned == 0 {
                bits
            } else {
                bits | (i << (128 - aligned))
            };
            let mut labels: Vec<String> = (0..nibbles)
                .map(|n| format!("{:x}", (net >> (124 - 4 * n)) & 0xf))
                .collect();
            labels.reverse();
            labels.push("ip6.arpa.".to_string());
            labels.join(".")
        })
        .collect()
}

fn mask32(prefix: u32) -> u32 {
    u32::MAX.checked_shl(32 - prefix).unwrap_or(0)
}

fn mask128(prefix: u32) -> u128 {
    u128::MAX.checked_shl(128 - prefix).unwrap_or(0)
}
