//! One upstream server: its address, health (consecutive failed health checks), idle TCP
//! connections, and the background tasks that check it and close idle connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::RecordType;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::transport::{self, Mode, Pool, TcpLimits};
use super::ForwardConfig;
use super::{ForwardError, Timeouts};
use super::metrics::ForwardMetrics;

/// The health-check query and how to send it.
#[derive(Clone, Debug)]
pub(super) struct HealthCheck {
    wire: Vec<u8>,
    question: Query,
    tcp: bool,
    interval: Duration,
    timeout: Duration,
}

impl HealthCheck {
    /// `DOMAIN IN NS` (default `.`), RD unless `no_rec`, over TCP when `force_tcp`.
    pub(super) fn new(config: &ForwardConfig, timeout: Duration) -> Self {
        let name = config.health_check_domain.clone();
        let question = Query::query(name, RecordType::NS);
        let mut message = Message::query();
        message.metadata.recursion_desired = !config.health_check_no_rec;
        message.add_query(question.clone());
        HealthCheck {
            wire: message.to_vec().unwrap_or_default(),
            question,
            tcp: config.force_tcp,
            // A zero interval would spin.
            interval: config.health_check.max(Duration::from_millis(1)),
            timeout,
        }
    }
}

#[derive(Debug)]
pub(super) struct Upstream {
    pub addr: SocketAddr,
    /// `addr` as the metrics' `to` label.
    pub name: String,
    fails: AtomicU32,
    pool: Pool,
    kick: Notify,
    health: HealthCheck,
}

impl Upstream {
    pub(super) fn new(addr: SocketAddr, expire: Duration, health: HealthCheck) -> Self {
        Upstream {
            addr,
            name: addr.to_string(),
            fails: AtomicU32::new(0),
            pool: Pool::new(expire),
            kick: Notify::new(),
            health,
        }
    }

    /// Consecutive failed health checks.
    pub(super) fn fails(&self) -> u32 {
        self.fails.load(Ordering::Relaxed)
    }

    /// Down after `max_fails` consecutive failed health checks; never when `max_fails` is 0.
    pub(super) fn down(&self, max_fails: u32) -> bool {
        max_fails > 0 && self.fails() >= max_fails
    }

    /// Starts the health-check loop (if it is not already running).
    pub(super) fn kick_health_check(&self) {
        self.kick.notify_one();
    }

    /// One attempt: `wire` (the encoded query) goes out with a fresh ID; the response comes back
    /// with `original_id`.
    pub(super) async fn exchange(
        &self,
        wire: &[u8],
        question: &Query,
        original_id: u16,
        mode: Mode,
        timeouts: &Timeouts,
        deadline: Instant,
    ) -> Result<Message, ForwardError> {
        let limits = TcpLimits {
            connect: timeouts.connect,
            read: timeouts.read,
            deadline,
        };
        let mut response = if mode.tcp {
            transport::tcp(self.addr, Some(&self.pool), wire, question, limits).await?
        } else {
            let until = (Instant::now() + timeouts.read).min(deadline);
            let response =
                transport::udp(self.addr, wire, question, mode.udp_buffer, until).await?;
            if response.metadata.truncation && mode.retry_tc {
                transport::tcp(self.addr, Some(&self.pool), wire, question, limits).await?
            } else {
                response
            }
        };
        response.metadata.id = original_id;
        Ok(response)
    }

    /// One health check: any response is healthy.
    async fn check(&self) -> bool {
        let h = &self.health;
        let deadline = Instant::now() + h.timeout;
        let result = if h.tcp {
            let limits = TcpLimits {
                connect: h.timeout,
                read: h.timeout,
                deadline,
            };
            transport::tcp(self.addr, None, &h.wire, &h.question, limits).await
        } else {
            transport::udp(self.addr, &h.wire, &h.question, 512, deadline).await
        };
        if let Err(e) = &result {
            tracing::debug!(upstream = %self.addr, error = %e, "health check failed");
        }
        result.is_ok()
    }
}

/// Waits for a kick, then checks every `health_check` interval until a check succeeds (CoreDNS's
/// in-band health checking). Ends when `shutdown`'s sender is dropped.
pub(super) async fn health_loop(
    up: Arc<Upstream>,
    metrics: Arc<ForwardMetrics>,
    mut shutdown: watch::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = up.kick.notified() => {}
            _ = shutdown.changed() => return,
        }
        loop {
            if up.check().await {
                up.fails.store(0, Ordering::Relaxed);
                break;
            }
            up.fails.fetch_add(1, Ordering::Relaxed);
            metrics.healthcheck_failure(&up.name);
            tokio::select! {
                _ = tokio::time::sleep(up.health.interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Closes expired idle TCP connections every `every`.
pub(super) async fn sweep_loop(
    upstreams: Vec<Arc<Upstream>>,
    every: Duration,
    mut shutdown: watch::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        for up in &upstreams {
            up.pool.sweep();
        }
    }
}
