//! Addresses and listening sockets on this machine: how a local client reaches a listener (a
//! wildcard listener is reached on loopback), where it binds to do so, the TCP listening socket
//! DNS and HTTP share ([`tcp_listener`]), and the machine's name (`chaos`, `nsid`).

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

/// Binds a TCP listener on `addr` (must be called inside the runtime); `shared`: with
/// SO_REUSEPORT on a fixed port, as UDP is, so that a second Cairn can take over the same
/// address without a gap (node-local mode's updates). Otherwise a second process on the port
/// fails to bind, as it should; port 0 is never shared, so the kernel's pick is this one's.
pub fn tcp_listener(addr: SocketAddr, shared: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    if shared && addr.port() != 0 {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
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
