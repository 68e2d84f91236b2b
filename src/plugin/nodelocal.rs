//! Node-local mode (the `nodelocal` plugin): this Cairn captures its server block's `bind`
//! addresses on the node — typically the link-local `169.254.20.10` and the kube-dns ClusterIP
//! — so pods' DNS never crosses the service proxy and never enters connection tracking.
//!
//! The pieces, in the order a start runs them:
//! 1. [`NodeLocal::prepare`]: the interface ([`link`]) with every address, created or adopted
//!    (after a `kill -9` it is still there), before the listeners bind to those addresses;
//! 2. [`NodeLocal::arm`], once the listeners answer: this instance counts as serving on the
//!    node ([`handoff`]), and `table inet cairn` ([`rules`]) is installed, the switch that
//!    takes the traffic off the service proxy's DNAT;
//! 3. [`NodeLocal::run_checks`]: every `check`, verify interface, addresses and table and put
//!    back whatever is missing (counted, logged once per repair);
//! 4. [`NodeLocal::stop`], after lameduck: the table, then the interface, are removed — unless
//!    another instance runs on the node ([`handoff`]), which keeps them.
//!
//! This module owns the node's network state and nothing else: it never answers DNS, and
//! the server never touches the interface or the rules.

pub mod handoff;
pub mod link;
pub mod rules;
mod setup;

pub use setup::NodeLocalConfig;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::corefile::{ConfigError, Directive};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};
use crate::status::{NodeLocalAddress, NodeLocalRepair, NodeLocalStatus};
use link::Kind;

impl Configure for NodeLocalConfig {
    const NAME: &'static str = "nodelocal";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        setup::parse(d)
    }

    fn check(&self, block: &BlockContext<'_>) -> Result<(), ConfigError> {
        setup::check_bind(self, block.bind)
    }

    /// Node-local mode acts on the node, not on queries: `run/` starts it from the options.
    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(None)
    }
}

/// Longest wait for another instance's setup, repair or teardown.
const LOCK_LIMIT: Duration = Duration::from_secs(10);

/// Why node-local mode cannot start.
#[derive(Debug, thiserror::Error)]
pub enum NodeLocalError {
    #[error("nodelocal (at {at}): {what}")]
    Setup { at: String, what: String },
    #[error(
        "nodelocal with `pods verified` watches only this node's pods: set NODE_NAME to the \
         node's name (the downward API's spec.nodeName)"
    )]
    NoNodeName,
}

/// What is checked and repaired, for metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Interface,
    Addresses,
    Rules,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Interface => "interface",
            Part::Addresses => "addresses",
            Part::Rules => "rules",
        }
    }
}

/// What the last check found, and what has been repaired since start.
#[derive(Debug, Default)]
struct Seen {
    kind: Option<Kind>,
    interface_present: bool,
    addresses_present: Vec<IpAddr>,
    rules_present: bool,
    last_check: Option<Instant>,
    last_repair: Option<(Part, Instant)>,
    repairs: BTreeMap<&'static str, u64>,
    failures: BTreeMap<&'static str, u64>,
    last_error: Option<String>,
    other_instances: usize,
    /// The bridge fallback has been logged.
    said_bridge: bool,
}

/// Node-local mode for one Corefile.
#[derive(Debug)]
pub struct NodeLocal {
    interface: String,
    spec: rules::Spec,
    check: Duration,
    location: String,
    /// The listener's `server` label, for counting local queries.
    server_label: String,
    registration: Mutex<Option<handoff::Registration>>,
    /// The rules are wanted: the listeners answer and shutdown has not begun.
    armed: std::sync::atomic::AtomicBool,
    seen: Mutex<Seen>,
}

impl NodeLocal {
    /// Node-local mode for the block with `options`: it captures `bind` on `ports`, and its
    /// listener's metrics are labelled `server_label`.
    pub fn new(
        options: &NodeLocalConfig,
        bind: &[IpAddr],
        mut ports: Vec<u16>,
        server_label: String,
    ) -> NodeLocal {
        ports.sort_unstable();
        ports.dedup();
        NodeLocal {
            interface: options.interface.clone(),
            spec: rules::Spec {
                addrs: bind.to_vec(),
                ports,
            },
            check: options.check,
            location: options.location.to_string(),
            server_label,
            registration: Mutex::new(None),
            armed: std::sync::atomic::AtomicBool::new(false),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The interface holding the addresses.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// How often the setup is verified.
    pub fn check_interval(&self) -> Duration {
        self.check
    }

    /// The addresses and ports captured.
    pub fn spec(&self) -> &rules::Spec {
        &self.spec
    }

    /// The `server` label of the listener the captured traffic reaches.
    pub fn server_label(&self) -> &str {
        &self.server_label
    }

    /// Both capture the same addresses and ports on the same interface, checked as often
    /// (where the block is written does not matter).
    pub fn same_setup(&self, other: &NodeLocal) -> bool {
        self.interface == other.interface && self.check == other.check && self.spec == other.spec
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn setup_error(&self, what: impl std::fmt::Display) -> NodeLocalError {
        NodeLocalError::Setup {
            at: self.location.clone(),
            what: what.to_string(),
        }
    }

    /// Joins the instances on this node and makes sure the interface holds every address;
    /// before the listeners bind to them. Fails when the interface cannot be had.
    pub async fn prepare(&self) -> Result<(), NodeLocalError> {
        let _lock = handoff::lock(&self.interface, LOCK_LIMIT).await;
        self.ensure_interface()
            .await
            .map_err(|e| self.setup_error(e))?;
        let addrs: Vec<String> = self.spec.addrs.iter().map(|a| a.to_string()).collect();
        tracing::info!(
            interface = %self.interface,
            addresses = %addrs.join(","),
            "nodelocal: interface ready"
        );
        Ok(())
    }

    /// The listeners answer now: joins the serving instances on this node (from now on an
    /// instance that stops leaves everything to this one), installs the rules, and keeps both
    /// from then on. The interface is verified again first: an instance that stopped
    /// meanwhile, seeing no other serving one, may have removed it.
    pub async fn arm(&self) -> Result<(), NodeLocalError> {
        let _lock = handoff::lock(&self.interface, LOCK_LIMIT).await;
        self.ensure_interface()
            .await
            .map_err(|e| self.setup_error(e))?;
        let registration = handoff::register(&self.interface)
            .map_err(|e| self.setup_error(format!("cannot register on this node: {e}")))?;
        let others = registration.others();
        *self.registration.lock().unwrap_or_else(|e| e.into_inner()) = Some(registration);
        self.seen().other_instances = others;
        self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
        let present = self.ensure_rules().await.map_err(|e| self.setup_error(e))?;
        {
            // Interface (in `prepare`) and rules have just been verified: that is a check.
            let mut seen = self.seen();
            seen.rules_present = true;
            seen.last_check = Some(Instant::now());
        }
        tracing::info!(
            table = rules::TABLE,
            adopted = present,
            other_instances = others,
            "nodelocal: DNS to the node-local addresses bypasses connection tracking and the service proxy"
        );
        Ok(())
    }

    /// Every `check` interval, [`NodeLocal::check`] until shutdown begins.
    pub async fn run_checks(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.check);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if !self.armed.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            self.check().await;
        }
    }

    /// Every [`rules::HEARTBEAT`], puts this instance's ports back into the table's
    /// `@listening` set, which keeps the node's own queries captured; stops when shutdown
    /// begins (a dead instance's ports expire, and the node's queries take the Service path).
    /// A failure (no table) is left to the next check.
    pub async fn run_heartbeat(self: Arc<Self>) {
        let mut tick = tokio::time::interval(rules::HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !self.armed.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let spec = self.spec.clone();
            if let Err(e) = blocking(move || rules::heartbeat(&spec)).await {
                tracing::debug!(error = %e, "nodelocal: heartbeat failed");
            }
        }
    }

    /// Verifies interface, addresses and rules, and puts back what is missing.
    pub async fn check(&self) {
        let _lock = handoff::lock(&self.interface, LOCK_LIMIT).await;
        if !self.armed.load(std::sync::atomic::Ordering::SeqCst) {
            return; // shutting down: the teardown decides now
        }
        let others = self
            .registration
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |r| r.others());
        self.seen().other_instances = others;
        let mut ok = true;
        if let Err(e) = self.ensure_interface().await {
            ok = false;
            tracing::debug!(%e, "nodelocal: interface check failed");
        }
        match self.ensure_rules().await {
            Ok(present) => {
                self.seen().rules_present = true;
                if !present {
                    self.repaired(Part::Rules);
                }
            }
            Err(e) => {
                ok = false;
                self.failed(Part::Rules, &e);
            }
        }
        let mut seen = self.seen();
        seen.last_check = Some(Instant::now());
        if ok {
            seen.last_error = None;
        }
    }

    /// The table as `spec` needs it: `true` when it already was, `false` when it has just been
    /// put back.
    async fn ensure_rules(&self) -> Result<bool, String> {
        let spec = self.spec.clone();
        if blocking(move || rules::present(&spec)).await? {
            return Ok(true);
        }
        let spec = self.spec.clone();
        blocking(move || rules::install(&spec)).await?;
        Ok(false)
    }

    /// The interface with every address, created or repaired as needed; a failure is counted
    /// and logged (once per distinct error).
    async fn ensure_interface(&self) -> Result<(), String> {
        self.try_ensure_interface().await.map_err(|(part, why)| {
            self.failed(part, &why);
            why
        })
    }

    async fn try_ensure_interface(&self) -> Result<(), (Part, String)> {
        let on_interface = |e: link::LinkError| (Part::Interface, e.to_string());
        // Only what goes missing after start counts as a repair (the first setup, or the
        // adoption of what a killed instance left, does not).
        let repairing = self.armed.load(std::sync::atomic::Ordering::SeqCst);
        let handle = link::connect().map_err(on_interface)?;
        let existing = link::find(&handle, &self.interface)
            .await
            .map_err(on_interface)?;
        let (found, recreated) = match existing {
            Some(found) if !found.ours => {
                let why = format!(
                    "interface {} exists and is not Cairn's (it lacks the alias `{}`): \
                     it is left alone; remove it or choose another name with `interface`",
                    self.interface,
                    link::ALIAS
                );
                return Err((Part::Interface, why));
            }
            Some(found) => (found, false),
            None => {
                let kind = link::create(&handle, &self.interface)
                    .await
                    .map_err(on_interface)?;
                // Claimed at once, so that even a crash right now leaves a link Cairn adopts.
                link::claim(&handle, &self.interface)
                    .await
                    .map_err(on_interface)?;
                if kind == Kind::Bridge && !std::mem::replace(&mut self.seen().said_bridge, true) {
                    tracing::info!(
                        interface = %self.interface,
                        "nodelocal: no dummy interface type in this kernel; using a bridge without ports"
                    );
                }
                let found = link::find(&handle, &self.interface)
                    .await
                    .map_err(on_interface)?
                    .ok_or_else(|| {
                        let why = format!("interface {} vanished after creation", self.interface);
                        (Part::Interface, why)
                    })?;
                (found, repairing)
            }
        };
        let Some(kind) = found.kind else {
            let why = format!(
                "interface {} exists and is not a dummy or bridge interface: not Cairn's; \
                 remove it or choose another name with `interface`",
                self.interface
            );
            return Err((Part::Interface, why));
        };
        self.seen().kind = Some(kind);
        if !found.up {
            link::claim(&handle, &self.interface)
                .await
                .map_err(on_interface)?;
        }
        self.seen().interface_present = true;
        let missing: Vec<IpAddr> = self
            .spec
            .addrs
            .iter()
            .copied()
            .filter(|a| !found.addresses.contains(a))
            .collect();
        // Addresses this Corefile no longer captures (a changed `bind`) go; the kernel's own
        // IPv6 link-local address stays.
        let stale: Vec<IpAddr> = found
            .addresses
            .iter()
            .copied()
            .filter(|a| !self.spec.addrs.contains(a) && !is_link_local_v6(a))
            .collect();
        for &ip in &missing {
            link::add_address(&handle, found.index, ip)
                .await
                .map_err(|e| (Part::Addresses, e.to_string()))?;
        }
        for &ip in &stale {
            link::remove_address(&handle, found.index, ip)
                .await
                .map_err(|e| (Part::Addresses, e.to_string()))?;
        }
        if recreated {
            self.repaired(Part::Interface);
        } else if repairing && !(missing.is_empty() && stale.is_empty()) {
            self.repaired(Part::Addresses);
        } else if !stale.is_empty() {
            let stale: Vec<String> = stale.iter().map(|a| a.to_string()).collect();
            tracing::info!(
                interface = %self.interface,
                removed = %stale.join(","),
                "nodelocal: removed addresses this Corefile does not capture"
            );
        }
        self.seen().addresses_present = self.spec.addrs.clone();
        Ok(())
    }

    fn repaired(&self, part: Part) {
        let mut seen = self.seen();
        *seen.repairs.entry(part.name()).or_insert(0) += 1;
        seen.last_repair = Some((part, Instant::now()));
        drop(seen);
        tracing::warn!(
            what = part.name(),
            interface = %self.interface,
            "nodelocal: found missing and put back"
        );
    }

    fn failed(&self, part: Part, err: &dyn std::fmt::Display) {
        let text = err.to_string();
        let mut seen = self.seen();
        *seen.failures.entry(part.name()).or_insert(0) += 1;
        let repeated = seen.last_error.as_deref() == Some(text.as_str());
        seen.last_error = Some(text.clone());
        match part {
            Part::Interface => seen.interface_present = false,
            Part::Addresses => seen.addresses_present.clear(),
            Part::Rules => seen.rules_present = false,
        }
        drop(seen);
        if !repeated {
            tracing::error!(what = part.name(), error = %text, "nodelocal: cannot repair");
        }
    }

    /// Shutdown, after lameduck: stops repairing and, unless another instance runs on this
    /// node, removes the rules (the node's traffic takes the Service path again), then the
    /// interface. Returns whether another instance carries on (it keeps both).
    pub async fn stop(&self) -> bool {
        let _lock = handoff::lock(&self.interface, LOCK_LIMIT).await;
        self.armed.store(false, std::sync::atomic::Ordering::SeqCst);
        let registration = self
            .registration
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let others = registration.as_ref().map_or(0, |r| r.others());
        drop(registration);
        if others > 0 {
            tracing::info!(
                other_instances = others,
                "nodelocal: another instance runs on this node; leaving the interface and rules to it"
            );
            return true;
        }
        match blocking(rules::remove).await {
            Ok(()) => self.seen().rules_present = false,
            Err(e) => tracing::error!(error = %e, "nodelocal: cannot remove the rules"),
        }
        let removed = async {
            let handle = link::connect().map_err(|e| e.to_string())?;
            // Only Cairn's own: an interface that took the name since is not touched.
            if let Some(found) = link::find(&handle, &self.interface)
                .await
                .map_err(|e| e.to_string())?
                .filter(|found| found.ours)
            {
                link::delete(&handle, found.index)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        };
        match removed.await {
            Ok(()) => {
                self.seen().interface_present = false;
                tracing::info!(
                    interface = %self.interface,
                    "nodelocal: removed the rules and the interface; this node's DNS takes the Service path again"
                );
            }
            Err(e) => tracing::error!(error = %e, "nodelocal: cannot remove the interface"),
        }
        false
    }

    /// The `/status` part; `local_queries` from the listener's request counters.
    pub fn status(&self, metrics: &crate::metrics::Metrics) -> NodeLocalStatus {
        let seen = self.seen();
        let owned = |m: &BTreeMap<&'static str, u64>| {
            m.iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect::<BTreeMap<String, u64>>()
        };
        NodeLocalStatus {
            interface: self.interface.clone(),
            kind: seen.kind.map(|k| {
                match k {
                    Kind::Dummy => "dummy",
                    Kind::Bridge => "bridge",
                }
                .to_string()
            }),
            interface_present: seen.interface_present,
            addresses: self
                .spec
                .addrs
                .iter()
                .map(|a| NodeLocalAddress {
                    address: a.to_string(),
                    present: seen.addresses_present.contains(a),
                })
                .collect(),
            table: rules::TABLE.to_string(),
            rules_present: seen.rules_present,
            check_interval_seconds: self.check.as_secs_f64(),
            last_check_age_seconds: seen.last_check.map(|t| t.elapsed().as_secs_f64()),
            last_repair: seen.last_repair.map(|(part, at)| NodeLocalRepair {
                what: part.name().to_string(),
                age_seconds: at.elapsed().as_secs_f64(),
            }),
            repairs: seen.repairs.values().sum(),
            failures: seen.failures.values().sum(),
            repairs_by: owned(&seen.repairs),
            failures_by: owned(&seen.failures),
            last_error: seen.last_error.clone(),
            local_queries: metrics.requests_for_server(&self.server_label),
            other_instances: seen.other_instances,
        }
    }
}

/// `fe80::/10`: the kernel gives every interface one; not Cairn's to remove.
fn is_link_local_v6(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// Runs a blocking netlink exchange off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, rules::RulesError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the netlink task failed: {e}")),
    }
}
