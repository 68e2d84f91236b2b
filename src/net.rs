//! Addresses on this machine: how a local client reaches a listener (a wildcard listener is
//! reached on loopback) and where it binds to do so; and the machine's name (`chaos`, `nsid`).
//! No sockets are opened here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address to reach a listener from this machine (a wildcard becomes loopback).
pub fn loopback_of(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// Where a client on this machine binds to reach `addr`: loopback of the same family, any port.
pub fn loopback_client_for(addr: SocketAddr) -> SocketAddr {
    if addr.is_ipv6() {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0)
    } else {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
    }
}

/// The machine's host name (in a pod: the pod's name), as Go's `os.Hostname` reads it on Linux;
/// `localhost` when it cannot be read, as CoreDNS falls back.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
