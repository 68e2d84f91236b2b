//! The HTTP listeners of the `health`, `ready` and `prometheus` plugins: `GET /health`,
//! `GET /ready` and `GET /metrics`, answered like CoreDNS answers them so kubelet probes and
//! Prometheus scrapes written for CoreDNS keep working.
//!
//! - `/health`: 200 `OK` while the [`Liveness`] check passes, 503 (empty body) when it fails,
//!   panics, or takes longer than [`LIVENESS_TIMEOUT`]. **Lameduck:** once the `lameduck`
//!   flag is set (shutdown began), `/health` answers 200 `OK` without running the check, as
//!   CoreDNS's `health` keeps answering OK during lameduck: the process is draining on
//!   purpose and must not be restarted for it. The listener closes when it is shut down.
//! - `/ready`: 200 `OK` once the [`Readiness`] latch is set; before that 503 with the name it
//!   waits on (CoreDNS prints the plugins not ready yet); after [`Readiness::shutting_down`]
//!   503 `Shutting down`.
//! - `/status` (on the `health` listener; Cairn's own): the [`crate::status::Status`] JSON
//!   document, with `live` from the same check `/health` runs.
//! - `/metrics`: [`Metrics::render`] as Prometheus text 0.0.4 with its content type.
//! - Anything else: 404 `404 page not found` (Go's `ServeMux` text). Like Go's mux, the three
//!   paths answer any method.
//!
//! Several roles configured on one address share one listener: build one [`Routes`] per
//! address ([`group_by_addr`]) and [`serve`] it. This module only serves; it does not decide
//! readiness or liveness, and never talks to the Kubernetes API.

mod probes;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use probes::{Liveness, Readiness};

use crate::metrics::Metrics;
use crate::status::StatusBoard;

/// Longest a liveness check may take before `/health` answers 503 (k0s probes time out
/// after 1 s).
pub const LIVENESS_TIMEOUT: Duration = Duration::from_millis(900);

/// How long [`BoundHttp::shutdown`] waits for requests in flight (CoreDNS's `ready` uses 5 s).
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The `health` role: the check and the flag the server sets when lameduck begins.
#[derive(Clone, Debug)]
pub struct Health {
    pub liveness: Liveness,
    pub lameduck: Arc<AtomicBool>,
    /// `GET /status` on the same listener.
    pub status: StatusBoard,
}

/// The roles one listener serves.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    pub health: Option<Health>,
    pub ready: Option<Readiness>,
    pub metrics: Option<Arc<Metrics>>,
}

impl Routes {
    /// Both sets of roles on one listener; where both have a role, `self`'s is kept.
    pub fn merge(self, other: Routes) -> Routes {
        Routes {
            health: self.health.or(other.health),
            ready: self.ready.or(other.ready),
            metrics: self.metrics.or(other.metrics),
        }
    }

    /// The axum router for these roles.
    pub fn router(self) -> Router {
        let mut router = Router::new();
        if let Some(h) = self.health {
            router = router.route("/status", any(status).with_state(h.clone()));
            router = router.route("/health", any(health).with_state(h));
        }
        if let Some(r) = self.ready {
            router = router.route("/ready", any(ready).with_state(r));
        }
        if let Some(m) = self.metrics {
            router = router.route("/metrics", any(metrics).with_state(m));
        }
        router.fallback(not_found)
    }
}

/// Merge listeners configured on the same address into one entry each, in first-seen order.
/// Addresses must be equal to merge: `0.0.0.0:8080` and `127.0.0.1:8080` stay separate (and
/// the second bind then fails, as it would for CoreDNS without `SO_REUSEPORT`).
pub fn group_by_addr(
    listeners: impl IntoIterator<Item = (SocketAddr, Routes)>,
) -> Vec<(SocketAddr, Routes)> {
    let mut grouped: Vec<(SocketAddr, Routes)> = Vec::new();
    for (addr, routes) in listeners {
        match grouped.iter_mut().find(|(a, _)| *a == addr) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(routes),
            None => grouped.push((addr, routes)),
        }
    }
    grouped
}

async fn health(State(h): State<Health>) -> Response {
    if is_live(&h).await {
        (StatusCode::OK, "OK").into_response()
    } else {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }
}

/// The liveness verdict `/health` gives (always true during lameduck).
async fn is_live(h: &Health) -> bool {
    if h.lameduck.load(Ordering::Acquire) {
        return true;
    }
    let liveness = h.liveness.clone();
    let check = tokio::task::spawn_blocking(move || liveness.check());
    matches!(
        tokio::time::timeout(LIVENESS_TIMEOUT, check).await,
        Ok(Ok(true))
    )
}

async fn status(State(h): State<Health>) -> Response {
    let board = h.status.clone();
    let mut document = match tokio::task::spawn_blocking(move || board.read()).await {
        Ok(document) => document,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    document.live = is_live(&h).await;
    match serde_json::to_string_pretty(&document) {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn ready(State(r): State<Readiness>) -> Response {
    if r.is_shutting_down() {
        (StatusCode::SERVICE_UNAVAILABLE, "Shutting down").into_response()
    } else if r.is_ready() {
        (StatusCode::OK, "OK").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, r.waiting_on().to_owned()).into_response()
    }
}

async fn metrics(State(m): State<Arc<Metrics>>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        m.render(),
    )
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// A running listener. Dropping it stops accepting connections (requests in flight finish);
/// [`BoundHttp::shutdown`] also waits for them.
#[derive(Debug)]
pub struct BoundHttp {
    /// The address actually bound (resolves port 0).
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl BoundHttp {
    /// Stop accepting and wait up to [`SHUTDOWN_TIMEOUT`] for requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_TIMEOUT, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for BoundHttp {
    fn drop(&mut self) {
        // Dropping the sender ends the graceful-shutdown wait just like sending.
        self.stop.take();
    }
}

/// Bind `addr` and serve `routes` on it until the returned handle is shut down or dropped.
/// Must be called inside a Tokio runtime.
pub async fn serve(addr: SocketAddr, routes: Routes) -> io::Result<BoundHttp> {
    serve_shared(addr, routes, false).await
}

/// [`serve`]; `shared` binds as the DNS TCP listeners are in node-local mode (SO_REUSEPORT on a
/// fixed port): during a node-local update both instances serve `/health` on one address.
pub async fn serve_shared(addr: SocketAddr, routes: Routes, shared: bool) -> io::Result<BoundHttp> {
    let listener = tokio::net::TcpListener::from_std(crate::net::tcp_listener(addr, shared)?)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = routes.router();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(%addr, error = %e, "HTTP listener failed");
        }
    });
    Ok(BoundHttp {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// `health`: `GET /health` on `addr`.
pub async fn serve_health(
    addr: SocketAddr,
    liveness: Liveness,
    lameduck: Arc<AtomicBool>,
) -> io::Result<BoundHttp> {
    let health = Health {
        liveness,
        lameduck,
        status: StatusBoard::default(),
    };
    serve(
        addr,
        Routes {
            health: Some(health),
            ..Routes::default()
        },
    )
    .await
}

/// `ready`: `GET /ready` on `addr`.
pub async fn serve_ready(addr: SocketAddr, readiness: Readiness) -> io::Result<BoundHttp> {
    serve(
        addr,
        Routes {
            ready: Some(readiness),
            ..Routes::default()
        },
    )
    .await
}

/// `prometheus`: `GET /metrics` on `addr`.
pub async fn serve_metrics(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<BoundHttp> {
    serve(
        addr,
        Routes {
            metrics: Some(metrics),
            ..Routes::default()
        },
    )
    .await
}
