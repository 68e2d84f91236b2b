//! Listeners and the query handler chain.
//!
//! [`start`] groups the Corefile's server blocks by listening address, binds UDP (one
//! SO_REUSEPORT socket per core) and TCP on the same port, publishes one index per `kubernetes`
//! block and answers from them. Port 0 picks one ephemeral port shared by UDP and TCP.

pub mod answer_cache;
pub mod assemble;
pub mod handler;
pub mod mmsg;
pub mod tcp;
pub mod udp;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::cluster::model::ClusterState;
use crate::config::model::Config;
use crate::http::Readiness;
use crate::metrics::Metrics;
use crate::plugin::health::HealthConfig;
use crate::plugin::kubernetes::publish::serial_now;
use crate::plugin::kubernetes::publish::Publisher;
use crate::plugin::kubernetes::KubernetesConfig;
use crate::plugin::prometheus::PrometheusConfig;
use crate::plugin::ready::ReadyConfig;
use crate::plugin::Kind;
use crate::status::StatusBoard;
use handler::{Block, Handler};

/// Longest [`RunningServer::hand_over`] waits for forwarded queries to be answered.
pub const HAND_OVER_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

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
    pub(crate) addrs: Vec<SocketAddr>,
    /// The HTTP listeners and the roles each serves.
    pub(crate) http: Vec<(Vec<HttpRole>, crate::http::BoundHttp)>,
    pub(crate) readiness: Readiness,
    pub(crate) lameduck: Arc<AtomicBool>,
    pub(crate) lameduck_after: std::time::Duration,
    /// The listening addresses as configured (port 0 before binding), each with its handler.
    pub(crate) handlers: Vec<((IpAddr, u16), SocketAddr, Arc<Handler>)>,
    pub(crate) configured: Vec<(IpAddr, u16)>,
    pub(crate) publisher: Publisher,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) metrics: Arc<Metrics>,
    /// Every UDP socket and its queries waiting for upstreams, for
    /// [`RunningServer::hand_over`].
    pub(crate) udp_sockets: Vec<(Arc<std::net::UdpSocket>, Arc<tokio::sync::Semaphore>)>,
    /// TCP listeners, upstream traffic and health checks run here.
    pub(crate) runtime: Option<tokio::runtime::Runtime>,
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
        let mut reuse = |k: &KubernetesConfig, own: Vec<IpAddr>| {
            cells
                .iter()
                .find(|c| same_kubernetes(c.config(), k) && c.own_ips() == own.as_slice())
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "the kubernetes block at {} changed; restart Cairn to apply",
                        k.location
                    )
                })
        };
        let assembly = assemble::assemble(&config, &self.metrics, &mut reuse)?;
        for (key, blocks) in assembly.listeners {
            if let Some((_, addr, handler)) = self.handlers.iter().find(|(k, _, _)| *k == key) {
                handler.replace(blocks);
                if let Some(runtime) = &self.runtime {
                    start_chains(runtime.handle(), handler, *addr);
                }
            }
        }
        self.publisher.bump();
        Ok(())
    }

    /// Where the listener serving `role` is bound.
    pub fn http_addr(&self, role: HttpRole) -> Option<SocketAddr> {
        self.http
            .iter()
            .find(|(roles, _)| roles.contains(&role))
            .map(|(_, bound)| bound.addr)
    }

    /// The `/ready` latch (the API source sets it once synced).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Shutdown begins: `/ready` turns false at once, `/health` stays OK, DNS keeps being
    /// answered; returns how long to keep answering (`lameduck`).
    pub fn begin_lameduck(&self) -> std::time::Duration {
        self.readiness.shutting_down();
        self.lameduck
            .store(true, std::sync::atomic::Ordering::Release);
        self.lameduck_after
    }

    /// Another instance serves the same addresses and carries on (a node-local update): new
    /// UDP queries go to it from now on, and the ones already received here are still
    /// answered (see [`udp::hand_over`]). Returns once they have been: the queued ones within
    /// a worker's turn, the ones waiting for an upstream when their exchange ends (at most
    /// [`HAND_OVER_LIMIT`]).
    pub fn hand_over(&self) {
        let mut failed = 0;
        for (socket, _) in &self.udp_sockets {
            if let Err(err) = udp::hand_over(socket) {
                failed += 1;
                tracing::debug!(%err, "cannot hand a UDP socket over");
            }
        }
        // The workers wake at least every 250 ms; a queued batch is answered within one turn.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let started = std::time::Instant::now();
        let waiting = || {
            self.udp_sockets
                .iter()
                .map(|(_, w)| udp::MAX_PENDING - w.available_permits())
                .sum::<usize>()
        };
        while waiting() > 0 && started.elapsed() < HAND_OVER_LIMIT {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        tracing::info!(
            sockets = self.udp_sockets.len() - failed,
            still_waiting = waiting(),
            "handed UDP over to the instance that carries on"
        );
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

/// Starts the background work of a listener's chains (again after a reload: the new chains
/// have not started; a chain shared by several listeners starts once).
pub(crate) fn start_chains(runtime: &tokio::runtime::Handle, handler: &Handler, addr: SocketAddr) {
    for chain in handler.chains() {
        chain.start(runtime, addr);
    }
}

/// The HTTP endpoints a Corefile can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpRole {
    Health,
    Ready,
    Metrics,
}

/// The HTTP listeners of `config` (the first block that names each plugin decides its address,
/// as every block shares one process).
pub(crate) fn http_roles(config: &Config) -> Vec<(SocketAddr, HttpRole)> {
    let mut out = Vec::new();
    if let Some(h) = config.first::<HealthConfig>() {
        out.push((h.addr, HttpRole::Health));
    }
    if let Some(r) = config.first::<ReadyConfig>() {
        out.push((r.addr, HttpRole::Ready));
    }
    if let Some(p) = config.first::<PrometheusConfig>() {
        out.push((p.addr, HttpRole::Metrics));
    }
    out
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
pub(crate) fn bind_listener(
    requested: SocketAddr,
    workers: usize,
    shared: bool,
) -> std::io::Result<(Vec<std::net::UdpSocket>, std::net::TcpListener, SocketAddr)> {
    let attempts = if requested.port() == 0 { 20 } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let first = udp::bind(requested)?;
        let addr = first.local_addr()?;
        let bound = crate::net::tcp_listener(addr, shared).and_then(|tcp| {
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
    pub(crate) publisher: Publisher,
    /// The `health`, `ready` and `prometheus` listeners the Corefile asks for.
    pub(crate) http: Vec<(SocketAddr, HttpRole)>,
    pub(crate) readiness: Readiness,
    pub(crate) status: StatusBoard,
    pub(crate) lameduck: Arc<AtomicBool>,
    /// The state given at preparation is complete (a dump): ready as soon as listening.
    pub(crate) ready_at_start: bool,
    /// `health { lameduck DUR }`.
    pub(crate) lameduck_after: std::time::Duration,
    pub(crate) metrics: Arc<Metrics>,
    /// Listening address -> the blocks it serves, in Corefile order.
    pub(crate) listeners: Vec<((IpAddr, u16), Vec<Block>)>,
    /// Fixed ports bound with SO_REUSEPORT for TCP and HTTP too (node-local mode: an update
    /// runs two instances on the same addresses).
    pub(crate) shared_ports: bool,
}

/// Builds the handler chains and one index per `kubernetes` block from `state`; `/status`
/// and the `cairn_*` metrics read `status`.
pub fn prepare(
    config: Config,
    state: &ClusterState,
    synced: bool,
    status: StatusBoard,
) -> Prepared {
    let serial = serial_now();
    let metrics = Arc::new(Metrics::with_status(status.clone()));
    let http = http_roles(&config);
    let lameduck_after = config
        .first::<HealthConfig>()
        .map(|h| h.lameduck)
        .unwrap_or_default();
    let has_kubernetes = config.servers.iter().any(|b| b.has(Kind::Kubernetes));
    let shared_ports = config.servers.iter().any(|b| b.has(Kind::Nodelocal));
    for block in &config.servers {
        let server = block.server_label();
        for zone in &block.zones {
            for setup in &block.setups {
                metrics.plugin_enabled(&server, &zone.zone, setup.kind().name());
            }
        }
    }
    let mut publisher = Publisher::default();
    let assembly = assemble::assemble(&config, &metrics, &mut |k, own| {
        Ok(publisher.add(k.clone(), own, state, serial, synced))
    })
    .unwrap_or_else(|never: String| unreachable!("a fresh cell is always made: {never}"));
    Prepared {
        publisher,
        http,
        readiness: Readiness::new("kubernetes"),
        status,
        lameduck: Arc::new(AtomicBool::new(false)),
        ready_at_start: synced || !has_kubernetes,
        lameduck_after,
        listeners: assembly.listeners,
        metrics,
        shared_ports,
    }
}

impl Prepared {
    /// Where a source publishes new cluster state.
    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// The `/ready` latch the listeners will serve.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Where `/status` reads its document from.
    pub fn status_board(&self) -> &StatusBoard {
        &self.status
    }

    /// `/ready` stays false after listening until [`Readiness::set_ready`], even though the
    /// prepared state is complete (`require_fresh` with a restored snapshot).
    pub fn hold_readiness(&mut self) {
        self.ready_at_start = false;
    }
}
