//! Name helpers for the cluster zone: endpoint names from IPs, pod-name labels back to IPs, and
//! reverse (`in-addr.arpa` / `ip6.arpa`) names to addresses. Pure functions, no allocation beyond
//! the result.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The endpoint name CoreDNS derives from an address when an endpoint has no hostname:
/// `10-11-12-13` for IPv4; the IPv6 text form with `:` turned into `-`, with a `0` added where the
/// result would start or end with `-` (`5678:abcd::1` -> `5678-abcd--1`, `2001:db8::` ->
/// `2001-db8--0`).
pub fn dashed_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string().replace('.', "-"),
        IpAddr::V6(v6) => {
            let mut s = v6.to_string().replace(':', "-");
            if s.ends_with('-') {
                s.push('0');
            }
            if s.starts_with('-') {
                s.insert(0, '0');
            }
            s
        }
    }
}

/// Reads a `pods insecure|verified` label back into an address: a label with exactly three `-`
/// and no `--` is IPv4 (`10-244-0-5`); anything else is tried as IPv6 with `-` read as `:`.
pub fn pod_label_ip(label: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(label).ok()?;
    let dashes = text.bytes().filter(|&b| b == b'-').count();
    if dashes == 3 && !text.contains("--") {
        text.replace('-', ".")
            .parse::<Ipv4Addr>()
            .ok()
            .map(IpAddr::V4)
    } else {
        text.replace('-', ":")
            .parse::<Ipv6Addr>()
            .ok()
            .map(IpAddr::V6)
    }
}

/// Reads a complete reverse name into an address. `labels` are the name's labels in wire order
/// (leftmost first), including the `in-addr`/`ip6` and `arpa` labels. Partial names (fewer than
/// 4 octets or 32 nibbles) and anything malformed give `None`.
pub fn arpa_ip(labels: &[&[u8]]) -> Option<IpAddr> {
    let (body, suffix) = labels.split_at(labels.len().checked_sub(2)?);
    let [family, arpa] = suffix else { return None };
    if !arpa.eq_ignore_ascii_case(b"arpa") {
        return None;
    }
    if family.eq_ignore_ascii_case(b"in-addr") {
        if body.len() != 4 {
            return None;
        }
        let mut octets = [0u8; 4];
        for (i, label) in body.iter().rev().enumerate() {
            let text = std::str::from_utf8(label).ok()?;
            if text.len() > 1 && text.starts_with('0') {
                return None;
            }
            octets[i] = text.parse().ok()?;
        }
        Some(IpAddr::V4(Ipv4Addr::from(octets)))
    } else if family.eq_ignore_ascii_case(b"ip6") {
        if body.len() != 32 {
            return None;
        }
        let mut value: u128 = 0;
        for label in body.iter().rev() {
            let [digit] = label else { return None };
            let nibble = (*digit as char).to_digit(16)?;
            value = (value << 4) | u128::from(nibble);
        }
        Some(IpAddr::V6(Ipv6Addr::from(value)))
    } else {
        None
    }
}

/// True when `zone` (with or without its trailing dot, any case) is a reverse zone.
pub fn is_reverse_zone(zone: &str) -> bool {
    let zone = zone.trim_end_matches('.').to_ascii_lowercase();
    ["in-addr.arpa", "ip6.arpa"]
        .iter()
        .any(|r| zone == *r || zone.ends_with(&format!(".{r}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashed_forms_follow_coredns() {
        let cases = [
            ("10.11.12.13", "10-11-12-13"),
            ("5678:abcd::1", "5678-abcd--1"),
            (
                "2001:db8:3333:4444:5555:6666::",
                "2001-db8-3333-4444-5555-6666--0",
            ),
            ("::1", "0--1"),
        ];
        for (ip, want) in cases {
            assert_eq!(dashed_ip(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn pod_labels_read_back() {
        assert_eq!(
            pod_label_ip(b"10-244-0-5"),
            Some("10.244.0.5".parse().unwrap())
        );
        assert_eq!(pod_label_ip(b"fd00--5"), Some("fd00::5".parse().unwrap()));
        assert_eq!(pod_label_ip(b"10-244-0"), None);
        assert_eq!(pod_label_ip(b"web"), None);
        assert_eq!(pod_label_ip(b"1-2-3-256"), None);
    }

    #[test]
    fn arpa_names_read_back() {
        let v4: Vec<&[u8]> = vec![b"1", b"0", b"96", b"10", b"in-addr", b"arpa"];
        assert_eq!(arpa_ip(&v4), Some("10.96.0.1".parse().unwrap()));
        let partial: Vec<&[u8]> = vec![b"96", b"10", b"IN-ADDR", b"arpa"];
        assert_eq!(arpa_ip(&partial), None);
        let ip: Ipv6Addr = "fd00:10:96::30".parse().unwrap();
        let hex = format!("{:032x}", u128::from(ip));
        let nibbles: Vec<Vec<u8>> = hex.bytes().rev().map(|b| vec![b]).collect();
        let mut v6: Vec<&[u8]> = nibbles.iter().map(|n| n.as_slice()).collect();
        v6.push(b"ip6");
        v6.push(b"arpa");
        assert_eq!(arpa_ip(&v6), Some(IpAddr::V6(ip)));
    }
}
