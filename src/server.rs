//! Listeners and the query handler chain.
//!
//! [`start`] groups the Corefile's server blocks by listening address, binds UDP (one
//! SO_REUSEPORT socket per core) and TCP on the same port, publishes one index per `kubernetes`
//! block and answers from them. Port 0 picks one ephemeral port shared by UDP and TCP.

pub mod answer_cache;
pub mod handler;
pub mod tcp;
pub mod udp;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use hickory_proto::rr::Name;

use crate::cluster::model::ClusterState;
use crate::cluster::publish::Publisher;
use crate::config::model::Config;
use handler::{Block, Handler};

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the TCP runtime: {0}")]
    Runtime(std::io::Error),
}

/// A server whose sockets are bound and answering. Dropping it stops the UDP workers.
pub struct RunningServer {
    addrs: Vec<SocketAddr>,
    publisher: Publisher,
    stop: Arc<AtomicBool>,
}

impl RunningServer {
    /// One address per listener (UDP and TCP share it), in the order of the Corefile's blocks.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Publishes a new cluster state to every `kubernetes` block.
    pub fn publish(&self, state: &ClusterState, serial: u32, synced: bool) {
        self.publisher.publish(state, serial, synced);
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The SOA serial for state observed now: seconds since the epoch (opaque to clients).
pub fn serial_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| {
            u32::try_from(d.as_secs() % u64::from(u32::MAX)).unwrap_or(1)
        })
}

/// The addresses the server answers on, for the apex NS glue and `ns.dns.<zone>`: the bound
/// addresses, or every interface address when bound to the wildcard.
fn own_ips(bind: &[IpAddr]) -> Vec<IpAddr> {
    let specific: Vec<IpAddr> = bind
        .iter()
        .copied()
        .filter(|ip| !ip.is_unspecified())
        .collect();
    if !specific.is_empty() {
        return specific;
    }
    if_addrs::get_if_addrs()
        .map(|ifs| ifs.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

/// Binds `workers` UDP sockets and one TCP listener on the same address. For port 0 the port the
/// first UDP socket gets may already be taken for TCP (by any outgoing connection), so that case
/// retries with a new port a few times.
fn bind_listener(
    requested: SocketAddr,
    workers: usize,
) -> std::io::Result<(Vec<std::net::UdpSocket>, std::net::TcpListener, SocketAddr)> {
    let attempts = if requested.port() == 0 { 20 } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let first = udp::bind(requested)?;
        let addr = first.local_addr()?;
        let bound = tcp::bind(addr).and_then(|tcp| {
            let mut sockets = vec![first];
            for _ in 1..workers {
                sockets.push(udp::bind(addr)?);
            }
            Ok((sockets, tcp, addr))
        });
        match bound {
            Ok(bound) => return Ok(bound),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no attempt to bind was made")))
}

/// Binds every listener of `config` and starts answering from `state`.
pub fn start(config: Config, state: ClusterState) -> Result<RunningServer, ServerError> {
    let serial = serial_now();
    let mut publisher = Publisher::default();
    // Listening address -> the blocks it serves, in Corefile order.
    let mut listeners: BTreeMap<(IpAddr, u16), Vec<Block>> = BTreeMap::new();
    let mut order: Vec<(IpAddr, u16)> = Vec::new();
    for block in config.servers {
        let zones: Vec<Name> = block
            .zones
            .iter()
            .filter_map(|z| Name::from_ascii(&z.zone).ok())
            .collect();
        let kubernetes = block
            .kubernetes
            .map(|k| publisher.add(k, own_ips(&block.bind), &state, serial, true));
        let binds = if block.bind.is_empty() {
            vec![
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ]
        } else {
            block.bind.clone()
        };
        let ports: Vec<u16> = block.zones.iter().map(|z| z.port).collect();
        for ip in binds {
            for port in &ports {
                let key = (ip, *port);
                if !order.contains(&key) {
                    order.push(key);
                }
                let blocks = listeners.entry(key).or_default();
                blocks.push(Block {
                    zones: zones.clone(),
                    kubernetes: kubernetes.clone(),
                });
            }
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let mut tcp_listeners = Vec::new();
    let mut addrs = Vec::new();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    for key in order {
        let Some(blocks) = listeners.remove(&key) else {
            continue;
        };
        let requested = SocketAddr::new(key.0, key.1);
        let (sockets, tcp, addr) = match bind_listener(requested, workers) {
            Ok(bound) => bound,
            Err(source) if key.0 == IpAddr::V6(Ipv6Addr::UNSPECIFIED) => {
                tracing::warn!(addr = %requested, %source, "IPv6 wildcard unavailable; serving IPv4 only");
                continue;
            }
            Err(source) => {
                return Err(ServerError::Bind {
                    addr: requested,
                    source,
                })
            }
        };
        let bind_err = |source| ServerError::Bind { addr, source };
        let handler = Arc::new(Handler::new(blocks));
        for socket in sockets {
            udp::spawn(
                socket,
                handler.clone(),
                publisher.generation(),
                stop.clone(),
            )
            .map_err(bind_err)?;
        }
        tcp_listeners.push((tcp, handler));
        tracing::info!(%addr, "listening on UDP and TCP");
        addrs.push(addr);
    }
    std::thread::Builder::new()
        .name("cairn-tcp".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut tasks = Vec::new();
                for (listener, handler) in tcp_listeners {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => tasks.push(tokio::spawn(tcp::serve(l, handler))),
                        Err(err) => tracing::error!(%err, "cannot serve TCP"),
                    }
                }
                for task in tasks {
                    let _ = task.await;
                }
            });
        })
        .map_err(ServerError::Runtime)?;
    Ok(RunningServer {
        addrs,
        publisher,
        stop,
    })
}
