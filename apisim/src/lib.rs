//! `apisim`: a small, faithful, in-memory implementation of the Kubernetes API's HTTP contract
//! for the resources Cairn watches (Namespaces, Services, Pods, EndpointSlices,
//! ServiceImports).
//!
//! Serves list (with `resourceVersion`, `limit`/`continue`, label and field selectors), watch
//! (from an RV, synthetic initial events, streaming lists, bookmarks, `timeoutSeconds`, `410`
//! after compaction), get, create, replace and delete over plain HTTP/1.1 on loopback, plus
//! enough discovery for `kubectl`. Tests drive it from Rust through [`ApiServer`] and inject
//! faults: dropped watches, compaction, response delays.
//!
//! Not a general API server: no auth, no admission, no PATCH, no defaulting beyond
//! `uid`/`creationTimestamp`/`resourceVersion`, no finalizers or graceful deletion.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

mod discovery;
mod error;
mod http;
mod resource;
mod selector;
mod store;
mod watch;

pub use error::ApiError;

use store::{Store, WriteMode};

/// State shared by the HTTP handlers and the [`ApiServer`] handle.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) addr: SocketAddr,
    /// Bumped by [`ApiServer::disconnect_watches`]; every watch task listens.
    pub(crate) disconnect: tokio::sync::watch::Sender<u64>,
    delay_nanos: AtomicU64,
    bookmark_nanos: AtomicU64,
    pub(crate) lists: [AtomicU64; 5],
    pub(crate) watches: [AtomicU64; 5],
    /// What `/readyz`, `/livez` and `/healthz` answer.
    pub(crate) ready: std::sync::atomic::AtomicBool,
    /// Served over TLS (the URL scheme is `https`).
    tls: bool,
}

impl Shared {
    pub(crate) fn delay(&self) -> Duration {
        Duration::from_nanos(self.delay_nanos.load(Ordering::Relaxed))
    }

    pub(crate) fn bookmark_interval(&self) -> Duration {
        Duration::from_nanos(self.bookmark_nanos.load(Ordering::Relaxed))
    }
}

enum Runner {
    /// The accept loop runs on the caller's runtime; aborting it drops every connection.
    Task(tokio::task::JoinHandle<()>),
    /// A runtime of its own on a thread; dropping the sender stops it.
    Thread {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

/// A running API test server. Dropping it stops the server and closes every connection.
pub struct ApiServer {
    shared: Arc<Shared>,
    runner: Runner,
}

fn resource_of(kind: &str) -> Result<&'static resource::Resource, ApiError> {
    resource::by_name(kind).ok_or_else(|| ApiError::UnknownKind(kind.to_string()))
}

/// The server's certificate chain and private key, PEM-encoded.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    pub cert_chain_pem: String,
    pub key_pem: String,
}

impl TlsIdentity {
    fn acceptor(&self) -> std::io::Result<tokio_rustls::TlsAcceptor> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"))
        };
        let certs = CertificateDer::pem_slice_iter(self.cert_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("certificate PEM", &e))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| invalid("key PEM", &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("TLS versions", &e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| invalid("certificate", &e))?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let app = http::router(shared);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let tls = tls.clone();
                connections.spawn(async move {
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        None => {
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let _ = http.serve_connection(io, service).await;
                        }
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let _ = http.serve_connection(io, service).await;
                        }
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

impl ApiServer {
    fn shared(addr: SocketAddr, tls: bool) -> Arc<Shared> {
        Arc::new(Shared {
            store: Store::new(),
            addr,
            disconnect: tokio::sync::watch::channel(0).0,
            delay_nanos: AtomicU64::new(0),
            bookmark_nanos: AtomicU64::new(1_000_000_000),
            lists: Default::default(),
            watches: Default::default(),
            ready: std::sync::atomic::AtomicBool::new(true),
            tls,
        })
    }

    /// Starts serving on `addr` (port 0 picks a free port) on the current tokio runtime.
    pub async fn start(addr: SocketAddr) -> std::io::Result<ApiServer> {
        Self::start_with(addr, None).await
    }

    /// Like [`ApiServer::start`], serving HTTPS with `tls` when given.
    pub async fn start_with(
        addr: SocketAddr,
        tls: Option<&TlsIdentity>,
    ) -> std::io::Result<ApiServer> {
        let acceptor = tls.map(TlsIdentity::acceptor).transpose()?;
        let listener = TcpListener::bind(addr).await?;
        let shared = Self::shared(listener.local_addr()?, acceptor.is_some());
        let task = tokio::spawn(accept_loop(listener, shared.clone(), acceptor));
        Ok(ApiServer {
            shared,
            runner: Runner::Task(task),
        })
    }

    /// Starts serving on `addr` on a runtime thread of its own (for sync tests and benchmarks).
    pub fn start_background(addr: SocketAddr) -> std::io::Result<ApiServer> {
        Self::start_background_with(addr, None)
    }

    /// Like [`ApiServer::start_background`], serving HTTPS with `tls` when given.
    pub fn start_background_with(
        addr: SocketAddr,
        tls: Option<&TlsIdentity>,
    ) -> std::io::Result<ApiServer> {
        let acceptor = tls.map(TlsIdentity::acceptor).transpose()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("apisim")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind(addr))?;
        let shared = Self::shared(listener.local_addr()?, acceptor.is_some());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("apisim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = accept_loop(listener, task_shared, acceptor) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_background();
            })?;
        Ok(ApiServer {
            shared,
            runner: Runner::Thread {
                stop: Some(stop),
                thread: Some(thread),
            },
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` when serving TLS).
    pub fn url(&self) -> String {
        let scheme = if self.shared.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.shared.addr)
    }

    /// What `/readyz` (and `/livez`, `/healthz`) answer: 200 `ok` when true, 500 otherwise.
    pub fn set_ready(&self, ready: bool) {
        self.shared
            .ready
            .store(ready, std::sync::atomic::Ordering::Relaxed);
    }

    /// Writes a kubeconfig (context `apisim`, namespace `default`, no auth) for this server.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        write_kubeconfig(path, &self.url(), None)
    }

    /// Creates or replaces an object (by kind, namespace and name), ignoring any
    /// resourceVersion precondition. Returns the new resourceVersion (unchanged for a no-op).
    pub fn apply(&self, object: Value) -> Result<String, ApiError> {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let api_version = object.get("apiVersion").and_then(Value::as_str);
        let r = match api_version {
            Some(av) => resource::by_kind(av, kind),
            None => resource::by_name(kind),
        }
        .ok_or_else(|| ApiError::UnknownKind(format!("{} {kind}", api_version.unwrap_or(""))))?;
        let mut object = object;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        let stored = self
            .shared
            .store
            .write(r, object, None, None, WriteMode::Upsert)?;
        Ok(stored["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Deletes an object; `kind` may be a kind, plural or short name. Returns the deletion's RV.
    pub fn delete(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<String, ApiError> {
        let r = resource_of(kind)?;
        let last = self.shared.store.delete(r, namespace, name)?;
        Ok(last["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Applies every object of a `kind: List` (or a JSON array) in order; returns how many.
    pub fn load_list(&self, list: Value) -> Result<usize, ApiError> {
        let items = match list {
            Value::Array(items) => items,
            Value::Object(mut map) => match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => {
                    return Err(ApiError::BadRequest(
                        "expected a `kind: List` with `items`, or an array of objects".into(),
                    ))
                }
            },
            _ => {
                return Err(ApiError::BadRequest(
                    "expected a `kind: List` with `items`, or an array of objects".into(),
                ))
            }
        };
        let count = items.len();
        for item in items {
            self.apply(item)?;
        }
        Ok(count)
    }

    /// The current objects of a kind (kind, plural or short name), in key order.
    pub fn objects(&self, kind: &str) -> Vec<Value> {
        resource_of(kind)
            .map(|r| self.shared.store.objects(r))
            .unwrap_or_default()
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> String {
        self.shared.store.resource_version().to_string()
    }

    /// Aborts every open watch stream without the terminating chunk.
    pub fn disconnect_watches(&self) {
        self.shared.disconnect.send_modify(|g| *g += 1);
    }

    /// Makes every resourceVersion issued so far too old: later watches from them, and
    /// continue tokens for them, get `410 Expired`. The current RV moves on by one.
    pub fn compact(&self) {
        self.shared.store.compact();
    }

    /// Delays every HTTP response by `d` (zero: no delay).
    pub fn set_delay(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.shared.delay_nanos.store(nanos, Ordering::Relaxed);
    }

    /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK (default 1 s).
    pub fn set_bookmark_interval(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1_000_000);
        self.shared.bookmark_nanos.store(nanos, Ordering::Relaxed);
    }

    /// How many list requests of `resource` (`services`, `pods`, ...) were answered.
    pub fn lists_served(&self, resource: &str) -> u64 {
        resource::by_name(resource).map_or(0, |r| {
            self.shared.lists[resource::index(r)].load(Ordering::Relaxed)
        })
    }

    /// How many watch requests of `resource` were opened.
    pub fn watches_opened(&self, resource: &str) -> u64 {
        resource::by_name(resource).map_or(0, |r| {
            self.shared.watches[resource::index(r)].load(Ordering::Relaxed)
        })
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.disconnect_watches();
        match &mut self.runner {
            Runner::Task(task) => task.abort(),
            Runner::Thread { stop, thread } => {
                drop(stop.take());
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// Writes a kubeconfig (context `apisim`, namespace `default`, no auth) for `server` — e.g. an
/// address in front of an [`ApiServer`] — trusting `ca_pem` when given.
pub fn write_kubeconfig(path: &Path, server: &str, ca_pem: Option<&str>) -> std::io::Result<()> {
    use base64::Engine;
    let ca = ca_pem
        .map(|pem| {
            format!(
                "\n    certificate-authority-data: {}",
                base64::engine::general_purpose::STANDARD.encode(pem)
            )
        })
        .unwrap_or_default();
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: apisim
  cluster:
    server: {server}{ca}
users:
- name: apisim
  user: {{}}
contexts:
- name: apisim
  context:
    cluster: apisim
    user: apisim
    namespace: default
current-context: apisim
preferences: {{}}
"
    );
    std::fs::write(path, text)
}
