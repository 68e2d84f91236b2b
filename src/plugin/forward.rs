//! The `forward` plugin: sends a query to upstream DNS servers and returns the answer.
//!
//! It owns the upstream list, the choice of upstream per query (`policy`), the transport (UDP by
//! default, TCP when forced, when the client came over TCP, or to fetch a truncated answer in
//! full), a small pool of idle TCP connections per upstream (closed after `expire`), in-band health
//! checking and the `max_concurrent` limit. It does not write answers to clients, cache, or decide
//! rcodes: its place in the chain (`handler`) SERVFAILs on an error and REFUSEs on
//! [`ForwardError::Refused`]. Doc page: `README.md` in its folder.
//!
//! Semantics follow CoreDNS's `forward`: on an error the next upstream in policy order is tried
//! until the overall deadline; an error also starts a health-check loop for that upstream (a
//! `. IN NS` query, any response counts as healthy) that repeats every `health_check` interval
//! while it keeps failing; after `max_fails` consecutive failed checks the upstream is skipped;
//! when every upstream is down a random one is tried anyway.
//!
//! Where Cairn differs from CoreDNS:
//! - CoreDNS cycles through the upstreams until its 5 s deadline even when each refuses at once;
//!   here another pass is made only if the previous one saw a timeout, so a refused or
//!   unreachable set of upstreams fails in milliseconds and the caller can SERVFAIL.
//! - A response whose question differs from the query is ignored like a wrong-ID one (keep
//!   waiting for the real answer) instead of answering the client FORMERR.
//! - UDP uses a fresh socket (a random source port) per exchange instead of pooled sockets.
//! - An upstream is down once it has `max_fails` consecutive failed checks, as the README says.
//! - No `tls`/`tls_servername` (DNS-over-TLS upstreams).

mod handler;
pub mod metrics;
mod policy;
mod setup;
mod transport;
mod upstream;

pub use setup::{address, resolv_conf, ForwardConfig, ForwardPolicy};

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::Name;
use tokio::time::Instant;

use crate::dns::Transport;
use crate::metrics::Metrics;
use metrics::ForwardMetrics;

use self::upstream::Upstream;

/// Why a query could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// `max_concurrent` queries are already in flight; answer REFUSED.
    #[error("max_concurrent reached: {0} queries in flight")]
    Refused(usize),
    /// No upstream could be tried before the deadline.
    #[error("no healthy upstream")]
    NoHealthyUpstream,
    /// Upstreams were tried and none answered in time.
    #[error("upstream {0} did not answer in time")]
    Timeout(SocketAddr),
    /// A socket error talking to an upstream.
    #[error("upstream {addr}: {source}")]
    Io {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// An upstream answered with something that is not a response to the query.
    #[error("upstream {addr}: bad response: {reason}")]
    BadResponse { addr: SocketAddr, reason: String },
    /// The query cannot be forwarded (not exactly one question, or not encodable).
    #[error("query cannot be forwarded: {0}")]
    BadQuery(String),
}

/// Time limits. The defaults are CoreDNS's; tests shorten them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP connection to one upstream.
    pub connect: Duration,
    /// Waiting for one upstream's response to one attempt.
    pub read: Duration,
    /// Everything one [`Forwarder::exchange`] call may take, all attempts included.
    pub overall: Duration,
    /// One health-check exchange (connect and read).
    pub health_check: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(2),
            overall: Duration::from_secs(5),
            health_check: Duration::from_secs(1),
        }
    }
}

/// Forwards queries for one `forward` block.
#[derive(Debug)]
pub struct Forwarder {
    /// `None` when the configured name was invalid: nothing is handled.
    from: Option<Name>,
    except: Vec<Name>,
    upstreams: Vec<Arc<Upstream>>,
    policy: ForwardPolicy,
    force_tcp: bool,
    prefer_udp: bool,
    max_fails: u32,
    max_concurrent: Option<usize>,
    expire: Duration,
    in_flight: AtomicUsize,
    robin: AtomicUsize,
    timeouts: Timeouts,
    metrics: Arc<ForwardMetrics>,
    started: AtomicBool,
    /// Dropped with the Forwarder: background tasks watch it and stop.
    shutdown: tokio::sync::watch::Sender<()>,
}

impl Forwarder {
    /// A forwarder with CoreDNS's time limits.
    pub fn new(config: ForwardConfig, metrics: Arc<Metrics>) -> Arc<Forwarder> {
        Forwarder::with_timeouts(config, metrics, Timeouts::default())
    }

    /// A forwarder with the given time limits.
    pub fn with_timeouts(
        config: ForwardConfig,
        metrics: Arc<Metrics>,
        timeouts: Timeouts,
    ) -> Arc<Forwarder> {
        let health = upstream::HealthCheck::new(&config, timeouts.health_check);
        let upstreams = config
            .to
            .iter()
            .map(|addr| Arc::new(Upstream::new(*addr, config.expire, health.clone())))
            .collect();
        let (shutdown, _) = tokio::sync::watch::channel(());
        Arc::new(Forwarder {
            from: Some(config.from.clone()),
            except: config.except.clone(),
            upstreams,
            policy: config.policy,
            force_tcp: config.force_tcp,
            prefer_udp: config.prefer_udp,
            max_fails: config.max_fails,
            max_concurrent: config.max_concurrent,
            expire: config.expire,
            in_flight: AtomicUsize::new(0),
            robin: AtomicUsize::new(0),
            timeouts,
            metrics: metrics.plugin::<ForwardMetrics>(),
            started: AtomicBool::new(false),
            shutdown,
        })
    }

    /// Starts the background tasks: one health checker per upstream (idle until an exchange with
    /// it fails; not started when `max_fails` is 0) and a sweeper closing idle TCP connections
    /// after `expire`. They stop when the Forwarder is dropped. Call inside a tokio runtime; later
    /// calls do nothing. Without it, forwarding works but no upstream is ever marked down.
    pub fn start(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        for up in &self.upstreams {
            if self.max_fails > 0 {
                tokio::spawn(upstream::health_loop(
                    up.clone(),
                    self.metrics.clone(),
                    self.shutdown.subscribe(),
                ));
            }
        }
        // Sweep a few times per `expire`, but not more than once a second.
        let every = (self.expire / 4).max(Duration::from_secs(1));
        tokio::spawn(upstream::sweep_loop(
            self.upstreams.clone(),
            every,
            self.shutdown.subscribe(),
        ));
    }

    /// True when `qname` is inside `from` and not inside any `except` zone (case-insensitive).
    /// As in CoreDNS, `from` itself is always forwarded.
    pub fn handles(&self, qname: &Name) -> bool {
        let Some(from) = &self.from else {
            return false;
        };
        if !from.zone_of(qname) {
            return false;
        }
        if from.num_labels() == qname.num_labels() {
            return true;
        }
        !self.except.iter().any(|z| z.zone_of(qname))
    }

    /// Forwards `query` from a client that came over UDP; see [`Forwarder::exchange_via`].
    pub async fn exchange(&self, query: &Message) -> Result<Message, ForwardError> {
        self.exchange_via(query, Transport::Udp).await
    }

    /// Forwards `query` (one question; RD, CD, EDNS and its options are sent as received) and
    /// returns the upstream's response carrying the query's ID.
    ///
    /// `client` is the transport the query arrived on. The upstream is asked over TCP when
    /// `force_tcp` is set or the client used TCP (unless `prefer_udp`), otherwise over UDP. A
    /// truncated UDP answer is passed on as is to a UDP client (which retries over TCP, reaching
    /// us with `client` = TCP); with `prefer_udp` it is re-asked over TCP to the same upstream,
    /// as CoreDNS does, so a TCP client always gets the full answer.
    pub async fn exchange_via(
        &self,
        query: &Message,
        client: Transport,
    ) -> Result<Message, ForwardError> {
        let _slot = self.acquire()?;
        if query.queries.len() != 1 {
            return Err(ForwardError::BadQuery(format!(
                "{} questions, expected 1",
                query.queries.len()
            )));
        }
        let tcp = self.force_tcp || (client == Transport::Tcp && !self.prefer_udp);
        let retry_tc = !self.force_tcp && self.prefer_udp;
        let udp_buffer = query.edns.as_ref().map_or(512, |e| e.max_payload().into());
        let mode = transport::Mode {
            tcp,
            retry_tc,
            udp_buffer,
        };
        let wire = query
            .to_vec()
            .map_err(|e| ForwardError::BadQuery(format!("cannot encode: {e}")))?;
        let deadline = Instant::now() + self.timeouts.overall;
        // Every attempt is bounded by `deadline` already; this is a safety net.
        let hard_stop = deadline + Duration::from_millis(100);
        match tokio::time::timeout_at(hard_stop, self.try_upstreams(query, &wire, mode, deadline))
            .await
        {
            Ok(result) => result,
            Err(_) => Err(ForwardError::NoHealthyUpstream),
        }
    }

    /// Per-upstream health for /status: (address, healthy, consecutive failed health checks).
    pub fn upstreams(&self) -> Vec<(SocketAddr, bool, u32)> {
        self.upstreams
            .iter()
            .map(|u| (u.addr, !u.down(self.max_fails), u.fails()))
            .collect()
    }

    /// CoreDNS's loop: walk the upstreams in policy order, skipping those down; when all are
    /// down try a random one. Passes over the list repeat until the deadline, but only while the
    /// previous pass saw a timeout (a lost datagram is worth a retry; a refused connection is not).
    async fn try_upstreams(
        &self,
        query: &Message,
        wire: &[u8],
        mode: transport::Mode,
        deadline: Instant,
    ) -> Result<Message, ForwardError> {
        let question = &query.queries[0];
        let n = self.upstreams.len();
        if n == 0 {
            return Err(ForwardError::NoHealthyUpstream);
        }
        let order = policy::order(self.policy, n, &self.robin);
        let mut last_error = None;
        loop {
            let mut down = 0;
            let mut timed_out = false;
            for &i in &order {
                let mut up = &self.upstreams[i];
                if up.down(self.max_fails) {
                    down += 1;
                    if down < n {
                        continue;
                    }
                    // Every upstream is down: assume health checking is broken, try one anyway.
                    self.metrics.all_down();
                    up = &self.upstreams[policy::random_below(n)];
                }
                let start = Instant::now();
                let result = up
                    .exchange(
                        wire,
                        question,
                        query.metadata.id,
                        mode,
                        &self.timeouts,
                        deadline,
                    )
                    .await;
                let rcode = result.as_ref().ok().map(|m| m.metadata.response_code);
                self.metrics.exchange(&up.name, rcode, start.elapsed());
                match result {
                    Ok(response) => return Ok(response),
                    Err(e) => {
                        tracing::debug!(upstream = %up.addr, error = %e, "forward exchange failed");
                        if self.max_fails > 0 {
                            up.kick_health_check();
                        }
                        timed_out |= matches!(e, ForwardError::Timeout(_));
                        last_error = Some(e);
                    }
                }
            }
            if !timed_out || Instant::now() >= deadline {
                return Err(last_error.unwrap_or(ForwardError::NoHealthyUpstream));
            }
        }
    }

    /// Takes a `max_concurrent` slot, released when the guard drops.
    fn acquire(&self) -> Result<Slot<'_>, ForwardError> {
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot(&self.in_flight);
        if let Some(max) = self.max_concurrent {
            if now > max {
                drop(slot);
                self.metrics.max_concurrent_reject();
                return Err(ForwardError::Refused(max));
            }
        }
        Ok(slot)
    }
}

/// One query in flight.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
