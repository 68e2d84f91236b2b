//! API endpoint failover: which API server address the watches use, and moving them when that
//! address stops answering.
//!
//! Candidates, in order of preference: the configured server (the Service VIP in a cluster,
//! the kubeconfig's server, or the first `endpoint`), further `endpoint` URLs, and the API
//! server addresses of the `default/kubernetes` EndpointSlice — learned through the API while
//! it answers and kept in the snapshot, so they are known even when the API is not. Every
//! candidate uses the configured server's scheme and credentials; learned addresses are
//! verified against `tls_server_name` (default `kubernetes.default.svc`, a name every API
//! server certificate carries), so a direct IP verifies without being in the IP SANs.
//!
//! Each candidate is checked every [`CHECK_INTERVAL`] with `GET /readyz` bounded by
//! [`CHECK_TIMEOUT`]. The active one is given up after [`FAILURES_TO_LEAVE`] failed checks in
//! a row; the watches then move to the most preferred healthy candidate (the source relists
//! there and replaces what it served, so no record is dropped). A more preferred candidate
//! takes over again after [`SUCCESSES_TO_RETURN`] good checks in a row. With no healthy
//! candidate, the watches stay where they are and keep retrying on their own.
//!
//! Written here rather than as a client-side load balancer because the decision is about the
//! path, not the request: a watch on a black-holed path hangs silently, so the check must be
//! separate from the traffic it protects.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use tokio::sync::watch;

use super::client::ClientError;
use crate::plugin::kubernetes::KubernetesConfig;
use crate::status::{ApiStatus, EndpointOrigin, EndpointStatus};

/// How often every candidate is checked.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// How long one check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// Failed checks in a row before the active candidate is given up (detection ≤ ~5 s).
pub const FAILURES_TO_LEAVE: u32 = 2;
/// Good checks in a row before a more preferred candidate takes over again.
pub const SUCCESSES_TO_RETURN: u32 = 3;
/// How often the API server addresses are re-learned while the API answers.
pub const LEARN_INTERVAL: Duration = Duration::from_secs(30);
/// The name API server certificates carry for the `kubernetes` Service.
pub const DEFAULT_TLS_SERVER_NAME: &str = "kubernetes.default.svc";

/// The endpoint the watches should use now. `epoch` grows with every move.
#[derive(Clone)]
pub struct Active {
    pub url: String,
    pub client: kube::Client,
    pub epoch: u64,
}

/// The candidates and their health; cheap to clone (shared).
#[derive(Clone)]
pub struct Failover {
    shared: Arc<Shared>,
}

struct Shared {
    base: kube::Config,
    tls_server_name: Option<String>,
    inner: Mutex<Inner>,
    active_tx: watch::Sender<Active>,
}

struct Inner {
    candidates: Vec<Candidate>,
    active: usize,
    failovers: u64,
    /// When the active candidate was last known healthy (for staleness).
    last_good: Option<Instant>,
    /// Set when the active candidate is given up with no healthy replacement.
    stranded_since: Option<Instant>,
}

struct Candidate {
    url: String,
    origin: EndpointOrigin,
    client: kube::Client,
    health: Health,
}

/// What the checks know about one candidate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    pub checked: bool,
    pub healthy: bool,
    pub last_success: Option<Instant>,
    pub last_error: Option<String>,
    pub latency: Option<Duration>,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
}

impl Health {
    fn record(&mut self, outcome: Result<Duration, String>) {
        self.checked = true;
        match outcome {
            Ok(latency) => {
                self.healthy = true;
                self.last_success = Some(Instant::now());
                self.last_error = None;
                self.latency = Some(latency);
                self.consecutive_failures = 0;
                self.consecutive_successes = self.consecutive_successes.saturating_add(1);
            }
            Err(err) => {
                self.last_error = Some(err);
                self.consecutive_successes = 0;
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                if self.consecutive_failures >= FAILURES_TO_LEAVE || !self.checked_ok_before() {
                    self.healthy = false;
                }
            }
        }
    }

    fn checked_ok_before(&self) -> bool {
        self.last_success.is_some()
    }
}

/// Which candidate the watches should use, given the active one and everyone's health
/// (candidates in order of preference). `None`: stay.
pub fn choose(active: usize, health: &[Health]) -> Option<usize> {
    let usable = |h: &Health| h.checked && h.healthy;
    let active_ok = health
        .get(active)
        .is_some_and(|h| !h.checked || h.consecutive_failures < FAILURES_TO_LEAVE);
    if !active_ok {
        return health.iter().position(usable).filter(|&i| i != active);
    }
    health
        .iter()
        .take(active)
        .position(|h| usable(h) && h.consecutive_successes >= SUCCESSES_TO_RETURN)
}

impl Failover {
    /// The candidates for a block: the configured server of `base`, further `endpoint` URLs,
    /// and `learned` API server addresses (`host:port`, e.g. from the snapshot).
    pub fn new(
        base: kube::Config,
        k: &KubernetesConfig,
        learned: &[String],
    ) -> Result<Failover, ClientError> {
        let configured = base
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let client =
            kube::Client::try_from(base.clone()).map_err(|e| ClientError::Client(e.to_string()))?;
        let (active_tx, _) = watch::channel(Active {
            url: configured.clone(),
            client: client.clone(),
            epoch: 0,
        });
        let failover = Failover {
            shared: Arc::new(Shared {
                base,
                tls_server_name: k.tls_server_name.clone(),
                inner: Mutex::new(Inner {
                    candidates: vec![Candidate {
                        url: configured,
                        origin: EndpointOrigin::Configured,
                        client,
                        health: Health::default(),
                    }],
                    active: 0,
                    failovers: 0,
                    last_good: None,
                    stranded_since: None,
                }),
                active_tx,
            }),
        };
        for url in k.endpoints.iter().skip(1) {
            failover.add(url, EndpointOrigin::Endpoint)?;
        }
        failover.learn(learned);
        Ok(failover)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A client for `url` with the configured server's credentials.
    fn client_for(&self, url: &str, origin: EndpointOrigin) -> Result<kube::Client, ClientError> {
        let mut config = self.shared.base.clone();
        config.cluster_url =
            url.parse()
                .map_err(|e: http::uri::InvalidUri| ClientError::Endpoint {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?;
        config.tls_server_name = match (&self.shared.tls_server_name, origin) {
            (Some(name), _) => Some(name.clone()),
            (None, EndpointOrigin::Learned) => Some(DEFAULT_TLS_SERVER_NAME.to_string()),
            (None, _) => self.shared.base.tls_server_name.clone(),
        };
        kube::Client::try_from(config).map_err(|e| ClientError::Client(e.to_string()))
    }

    fn add(&self, url: &str, origin: EndpointOrigin) -> Result<(), ClientError> {
        let url = url.trim_end_matches('/').to_string();
        if self.lock().candidates.iter().any(|c| c.url == url) {
            return Ok(());
        }
        let client = self.client_for(&url, origin)?;
        self.lock().candidates.push(Candidate {
            url,
            origin,
            client,
            health: Health::default(),
        });
        Ok(())
    }

    /// Adds learned API server addresses (`host:port`) as candidates, with the configured
    /// server's scheme; learned candidates no longer listed are dropped (unless active).
    pub fn learn(&self, addresses: &[String]) {
        let scheme = self.shared.base.cluster_url.scheme_str().unwrap_or("https");
        let urls: Vec<String> = addresses
            .iter()
            .map(|a| format!("{scheme}://{a}"))
            .collect();
        {
            let mut inner = self.lock();
            let active_url = inner.candidates[inner.active].url.clone();
            let before = inner.candidates.len();
            inner.candidates.retain(|c| {
                c.origin != EndpointOrigin::Learned || urls.contains(&c.url) || c.url == active_url
            });
            if inner.candidates.len() != before {
                inner.active = inner
                    .candidates
                    .iter()
                    .position(|c| c.url == active_url)
                    .unwrap_or(0);
            }
        }
        for url in &urls {
            if let Err(err) = self.add(url, EndpointOrigin::Learned) {
                tracing::warn!(%url, %err, "ignoring a learned API server address");
            }
        }
    }

    /// The learned API server addresses (`host:port`), for the snapshot.
    pub fn learned(&self) -> Vec<String> {
        self.lock()
            .candidates
            .iter()
            .filter(|c| c.origin == EndpointOrigin::Learned)
            .filter_map(|c| c.url.split_once("://").map(|(_, rest)| rest.to_string()))
            .collect()
    }

    /// The endpoint the watches use, and every move from now on.
    pub fn subscribe(&self) -> watch::Receiver<Active> {
        self.shared.active_tx.subscribe()
    }

    /// How far behind the API served data may be: zero while the active candidate answers.
    pub fn staleness(&self, started: Instant) -> Duration {
        let inner = self.lock();
        let active = &inner.candidates[inner.active].health;
        if active.healthy {
            return Duration::ZERO;
        }
        inner.last_good.unwrap_or(started).elapsed()
    }

    /// Per-endpoint health for `/status` and metrics.
    pub fn status(&self) -> ApiStatus {
        let inner = self.lock();
        let any_healthy = inner.candidates.iter().any(|c| c.health.healthy);
        ApiStatus {
            active: (inner.stranded_since.is_none() || any_healthy)
                .then(|| inner.candidates[inner.active].url.clone()),
            failovers: inner.failovers,
            endpoints: inner
                .candidates
                .iter()
                .enumerate()
                .map(|(i, c)| EndpointStatus {
                    url: c.url.clone(),
                    origin: c.origin,
                    healthy: c.health.healthy,
                    active: i == inner.active,
                    last_success_age_seconds: c
                        .health
                        .last_success
                        .map(|t| t.elapsed().as_secs_f64()),
                    last_error: c.health.last_error.clone(),
                    latency_ms: c.health.latency.map(|d| d.as_secs_f64() * 1000.0),
                    consecutive_failures: c.health.consecutive_failures,
                })
                .collect(),
        }
    }

    /// Checks every candidate forever, moving the watches when [`choose`] says so, and
    /// re-learns the API server addresses through the active one.
    pub async fn run(self) {
        let mut last_learn: Option<Instant> = None;
        let mut ticker = tokio::time::interval(CHECK_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.check_all().await;
            self.decide();
            let active_healthy = {
                let inner = self.lock();
                inner.candidates[inner.active].health.healthy
            };
            if active_healthy && last_learn.is_none_or(|t| t.elapsed() >= LEARN_INTERVAL) {
                last_learn = Some(Instant::now());
                let client = self.shared.active_tx.borrow().client.clone();
                match tokio::time::timeout(Duration::from_secs(5), api_server_addresses(client))
                    .await
                {
                    Ok(Ok(addresses)) if !addresses.is_empty() => self.learn(&addresses),
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => tracing::debug!(%err, "cannot learn API server addresses"),
                    Err(_) => tracing::debug!("learning API server addresses timed out"),
                }
            }
        }
    }

    async fn check_all(&self) {
        let targets: Vec<(String, kube::Client)> = self
            .lock()
            .candidates
            .iter()
            .map(|c| (c.url.clone(), c.client.clone()))
            .collect();
        let outcomes = futures::future::join_all(
            targets
                .into_iter()
                .map(|(url, client)| async move { (url, check(&client).await) }),
        )
        .await;
        let mut inner = self.lock();
        for (url, outcome) in outcomes {
            let Some(c) = inner.candidates.iter_mut().find(|c| c.url == url) else {
                continue;
            };
            let was = (c.health.checked, c.health.healthy);
            c.health.record(outcome);
            let now = (c.health.checked, c.health.healthy);
            if was != now {
                match &c.health.last_error {
                    Some(err) if !c.health.healthy => {
                        tracing::warn!(endpoint = %c.url, origin = ?c.origin, %err, "API endpoint down")
                    }
                    _ => tracing::info!(endpoint = %c.url, origin = ?c.origin, "API endpoint up"),
                }
            }
        }
        let active = inner.active;
        if inner.candidates[active].health.healthy {
            inner.last_good = Some(Instant::now());
            inner.stranded_since = None;
        }
    }

    fn decide(&self) {
        let mut inner = self.lock();
        let health: Vec<Health> = inner.candidates.iter().map(|c| c.health.clone()).collect();
        let Some(next) = choose(inner.active, &health) else {
            let active = inner.active;
            if !health[active].healthy && health[active].checked && inner.stranded_since.is_none() {
                inner.stranded_since = Some(Instant::now());
                tracing::warn!(
                    endpoint = %inner.candidates[active].url,
                    "no healthy API endpoint: serving the last-known state until one answers"
                );
            }
            return;
        };
        let from = inner.candidates[inner.active].url.clone();
        let returning = next < inner.active;
        inner.active = next;
        inner.failovers += 1;
        inner.stranded_since = None;
        let to = &inner.candidates[next];
        if returning {
            tracing::info!(%from, to = %to.url, origin = ?to.origin, "moving every watch back to the preferred API endpoint");
        } else {
            tracing::warn!(%from, to = %to.url, origin = ?to.origin, "moving every watch to another API endpoint");
        }
        let epoch = self.shared.active_tx.borrow().epoch + 1;
        self.shared.active_tx.send_replace(Active {
            url: to.url.clone(),
            client: to.client.clone(),
            epoch,
        });
    }
}

/// One health check: `GET /readyz`. 401/403 count as up: the server answers, and every
/// candidate carries the same credentials.
async fn check(client: &kube::Client) -> Result<Duration, String> {
    let started = Instant::now();
    let request = http::Request::get("/readyz")
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let request = request.map(kube::client::Body::from);
    match tokio::time::timeout(CHECK_TIMEOUT, client.send(request)).await {
        Err(_) => Err(format!("/readyz timed out after {CHECK_TIMEOUT:?}")),
        Ok(Err(err)) => Err(super::client::error_chain(&err)),
        Ok(Ok(response)) => {
            let status = response.status();
            if status.is_success() || status.as_u16() == 401 || status.as_u16() == 403 {
                Ok(started.elapsed())
            } else {
                Err(format!("/readyz answered {status}"))
            }
        }
    }
}

/// The API server addresses (`host:port`) listed in the `default/kubernetes` EndpointSlices.
pub async fn api_server_addresses(client: kube::Client) -> Result<Vec<String>, kube::Error> {
    let api: Api<EndpointSlice> = Api::namespaced(client, "default");
    let slices = api
        .list(&ListParams::default().labels("kubernetes.io/service-name=kubernetes"))
        .await?;
    let mut addresses = Vec::new();
    for slice in slices.items {
        let ports = slice.ports.unwrap_or_default();
        let port = ports
            .iter()
            .find(|p| p.name.as_deref() == Some("https"))
            .or(ports.first())
            .and_then(|p| p.port);
        let Some(port) = port else { continue };
        for endpoint in slice.endpoints {
            if endpoint.conditions.and_then(|c| c.ready) == Some(false) {
                continue;
            }
            for address in endpoint.addresses {
                let host = match address.parse::<std::net::IpAddr>() {
                    Ok(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
                    _ => address,
                };
                let entry = format!("{host}:{port}");
                if !addresses.contains(&entry) {
                    addresses.push(entry);
                }
            }
        }
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(checked: bool, healthy: bool, fails: u32, oks: u32) -> Health {
        Health {
            checked,
            healthy,
            consecutive_failures: fails,
            consecutive_successes: oks,
            ..Health::default()
        }
    }

    #[test]
    fn stays_while_the_active_candidate_answers() {
        let all = [h(true, true, 0, 9), h(true, true, 0, 9)];
        assert_eq!(choose(0, &all), None);
        // One failed check is not enough to leave.
        let flaky = [h(true, true, 1, 0), h(true, true, 0, 9)];
        assert_eq!(choose(0, &flaky), None);
        // Unchecked candidates are not judged.
        assert_eq!(
            choose(0, &[h(false, false, 0, 0), h(true, true, 0, 1)]),
            None
        );
    }

    #[test]
    fn leaves_after_repeated_failures_for_the_most_preferred_healthy() {
        let all = [
            h(true, false, FAILURES_TO_LEAVE, 0),
            h(true, false, 3, 0),
            h(true, true, 0, 1),
            h(true, true, 0, 5),
        ];
        assert_eq!(choose(0, &all), Some(2));
    }

    #[test]
    fn stays_put_when_nothing_is_healthy() {
        let all = [h(true, false, 5, 0), h(true, false, 5, 0)];
        assert_eq!(choose(0, &all), None);
        assert_eq!(choose(1, &all), None);
    }

    #[test]
    fn returns_to_a_preferred_candidate_only_once_it_is_steady() {
        let recovering = [h(true, true, 0, 1), h(true, true, 0, 9)];
        assert_eq!(choose(1, &recovering), None);
        let steady = [h(true, true, 0, SUCCESSES_TO_RETURN), h(true, true, 0, 9)];
        assert_eq!(choose(1, &steady), Some(0));
    }

    #[test]
    fn health_turns_down_only_after_repeated_failures() {
        let mut health = Health::default();
        health.record(Ok(Duration::from_millis(3)));
        assert!(health.healthy);
        health.record(Err("timed out".into()));
        assert!(health.healthy, "one failure is tolerated");
        health.record(Err("timed out".into()));
        assert!(!health.healthy);
        assert_eq!(health.last_error.as_deref(), Some("timed out"));
        health.record(Ok(Duration::from_millis(2)));
        assert!(health.healthy && health.last_error.is_none());
        // A candidate that never answered is down at its first failure.
        let mut never = Health::default();
        never.record(Err("refused".into()));
        assert!(!never.healthy);
    }
}
