//! Listeners and the query handler chain.
//!
//! [`start`] groups the Corefile's server blocks by listening address, binds UDP (one
//! SO_REUSEPORT socket per core) and TCP on the same port, publishes one index per `kubernetes`
//! block and answers from them. Port 0 picks one ephemeral port shared by UDP and TCP.

pub mod answer_cache;
pub mod assemble;
pub mod chain;
pub mod handler;
pub mod loop_guard;
pub mod plugins;
pub mod tcp;
pub mod udp;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::cluster::model::ClusterState;
use crate::cluster::publish::Publisher;
use crate::config::model::{Config, KubernetesConfig};
use crate::forward::Forwarder;
use crate::hosts::Hosts;
use crate::metrics::Metrics;
use handler::{Block, Handler};

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(std::io::Error),
}

/// A server whose sockets are bound and answering. Dropping it stops the UDP workers.
pub struct RunningServer {
    addrs: Vec<SocketAddr>,
    /// The listening addresses as configured (port 0 before binding), each with its handler.
    handlers: Vec<((IpAddr, u16), Arc<Handler>)>,
    configured: Vec<(IpAddr, u16)>,
    publisher: Publisher,
    stop: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    /// TCP listeners, upstream traffic and health checks run here.
    runtime: Option<tokio::runtime::Runtime>,
}

impl RunningServer {
    /// One address per listener (UDP and TCP share it), in the order of the Corefile's blocks.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Applies a new configuration without dropping a query: every listener's chains are
    /// replaced at once. The listening addresses and the `kubernetes` blocks must stay as they
    /// are (their indexes and watches carry on); a change to those needs a restart and is
    /// refused with the reason.
    pub fn reload(&self, config: Config) -> Result<(), String> {
        let keys = assemble::listen_keys(&config);
        let mut wanted = keys.clone();
        let mut have = self.configured.clone();
        wanted.sort();
        have.sort();
        if wanted != have {
            return Err(format!(
                "the listening addresses changed ({} -> {}); restart Cairn to apply",
                describe(&have),
                describe(&wanted)
            ));
        }
        let cells = self.publisher.cells();
        let mut reuse = |k: KubernetesConfig, own: Vec<IpAddr>| {
            cells
                .iter()
                .find(|c| same_kubernetes(c.config(), &k) && c.own_ips() == own.as_slice())
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "the kubernetes block at {} changed; restart Cairn to apply",
                        k.location
                    )
                })
        };
        let assembly = assemble::assemble(config, &self.metrics, &mut reuse)?;
        if let Some(runtime) = &self.runtime {
            let _entered = runtime.enter();
            for forwarder in &assembly.forwarders {
                forwarder.start();
            }
            for h in &assembly.hosts {
                h.start();
            }
        }
        for (key, blocks) in assembly.listeners {
            if let Some((_, handler)) = self.handlers.iter().find(|(k, _)| *k == key) {
                handler.replace(blocks);
            }
        }
        self.publisher.bump();
        Ok(())
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Publishes a new cluster state to every `kubernetes` block.
    pub fn publish(&self, state: &ClusterState, serial: u32, synced: bool) {
        self.publisher.publish(state, serial, synced);
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn describe(keys: &[(IpAddr, u16)]) -> String {
    keys.iter()
        .map(|(ip, port)| SocketAddr::new(*ip, *port).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Two `kubernetes` blocks that build the same index (where they are written does not matter).
fn same_kubernetes(a: &KubernetesConfig, b: &KubernetesConfig) -> bool {
    let mut b = b.clone();
    b.location = a.location.clone();
    *a == b
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

/// A server whose indexes exist but whose sockets are not bound yet: a source can publish into
/// it (through [`Prepared::publisher`]) before it starts answering.
pub struct Prepared {
    publisher: Publisher,
    forwarders: Vec<Arc<Forwarder>>,
    hosts: Vec<Arc<Hosts>>,
    metrics: Arc<Metrics>,
    /// Listening address -> the blocks it serves, in Corefile order.
    listeners: Vec<((IpAddr, u16), Vec<Block>)>,
}

/// Builds the handler chains and one index per `kubernetes` block from `state`.
pub fn prepare(config: Config, state: &ClusterState, synced: bool) -> Prepared {
    let serial = serial_now();
    let metrics = Arc::new(Metrics::new());
    let mut publisher = Publisher::default();
    let assembly = assemble::assemble(config, &metrics, &mut |k, own| {
        Ok(publisher.add(k, own, state, serial, synced))
    })
    .unwrap_or_else(|never: String| unreachable!("a fresh cell is always made: {never}"));
    Prepared {
        publisher,
        listeners: assembly.listeners,
        forwarders: assembly.forwarders,
        hosts: assembly.hosts,
        metrics,
    }
}

/// Binds every listener of `config` and starts answering from `state`.
pub fn start(config: Config, state: ClusterState) -> Result<RunningServer, ServerError> {
    prepare(config, &state, true).listen()
}

impl Prepared {
    /// Where a source publishes new cluster state.
    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// Binds every listener and starts answering.
    pub fn listen(self) -> Result<RunningServer, ServerError> {
        let Prepared {
            publisher,
            listeners,
            forwarders,
            hosts,
            metrics,
        } = self;
        let stop = Arc::new(AtomicBool::new(false));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cairn-io")
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        {
            let _entered = runtime.enter();
            for forwarder in &forwarders {
                forwarder.start();
            }
            for h in &hosts {
                h.start();
            }
        }
        let mut tcp_listeners = Vec::new();
        let mut addrs = Vec::new();
        let mut handlers = Vec::new();
        let configured: Vec<(IpAddr, u16)> = listeners.iter().map(|(k, _)| *k).collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        for (key, blocks) in listeners {
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
            handlers.push((key, handler.clone()));
            for socket in sockets {
                udp::spawn(
                    socket,
                    handler.clone(),
                    publisher.generation(),
                    stop.clone(),
                    runtime.handle().clone(),
                )
                .map_err(bind_err)?;
            }
            for chain in handler.chains() {
                if chain.loop_guard.is_some() && chain.forward.is_some() {
                    let chain = chain.clone();
                    let target = match addr.ip() {
                        IpAddr::V4(ip) if ip.is_unspecified() => {
                            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
                        }
                        IpAddr::V6(ip) if ip.is_unspecified() => {
                            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
                        }
                        _ => addr,
                    };
                    runtime.spawn(async move {
                        if let Some(guard) = &chain.loop_guard {
                            guard.probe(target).await;
                        }
                    });
                }
            }
            tcp_listeners.push((tcp, handler));
            tracing::info!(%addr, "listening on UDP and TCP");
            addrs.push(addr);
        }
        for (listener, handler) in tcp_listeners {
            let _entered = runtime.enter();
            match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => {
                    runtime.spawn(tcp::serve(l, handler));
                }
                Err(err) => tracing::error!(%err, "cannot serve TCP"),
            }
        }
        Ok(RunningServer {
            addrs,
            handlers,
            configured,
            publisher,
            stop,
            metrics,
            runtime: Some(runtime),
        })
    }
}
