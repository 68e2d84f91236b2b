//! Running Cairn: the one place that wires the parts together and starts threads, runtimes,
//! listeners, sources and the Corefile watch. `main.rs` parses the command line and calls
//! [`serve`]; the parts themselves (server, plugins, sources, snapshot, failover) know nothing
//! of each other. Read [`serve`] top to bottom for a start and a stop:
//!
//! 1. the Corefile is read, the source runtime (`cairn-source`: watches, snapshot writes, the
//!    reload loop, node-local checks) starts, and stop signals are caught from then on;
//! 2. node-local mode puts the addresses on the interface (`nodelocal`);
//! 3. the cluster state comes from a dump (`dump`) or the API with its snapshot and failover
//!    (`api`); either prepares the server and opens its listeners ([`listen`]: the I/O
//!    runtime and the UDP threads);
//! 4. node-local rules are armed, the Corefile watched (`reload`);
//! 5. on SIGTERM: lameduck, node-local hand-over, the last snapshot.

pub mod api;
pub mod banner;
pub mod dump;
pub mod keeper;
pub mod listen;
pub mod nodelocal;
pub mod reload;
pub mod signals;

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use crate::cluster::model::ClusterState;
use crate::config::model::Config;
use crate::server::{RunningServer, ServerError};
use crate::snapshot::SnapshotWriter;
use crate::source::kubernetes::Source;
use crate::status::StatusBoard;

pub use listen::listen;

/// Longest a shutdown waits for the last snapshot write (a hung disk must not hold the exit).
pub const SNAPSHOT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A serving Cairn and what must be saved when it stops.
pub struct Running {
    pub server: RunningServer,
    /// What `/status` serves (and the `cairn_*` metrics read).
    pub status: StatusBoard,
    /// The API source, when serving from the API.
    pub source: Option<Source>,
    pub snapshot: Option<SnapshotWriter>,
}

impl Running {
    /// Keeps the current state in the snapshot and waits for it to be written (bounded).
    pub async fn save(&self) {
        let Some(writer) = &self.snapshot else {
            return;
        };
        if let Some(source) = &self.source {
            source.keep_now().await;
        }
        match tokio::time::timeout(SNAPSHOT_FLUSH_TIMEOUT, writer.flush()).await {
            Ok(()) => {
                let stats = writer.stats();
                match stats.last_error {
                    None => tracing::info!(snapshot = %stats.path.display(), "snapshot saved"),
                    Some(err) => {
                        tracing::warn!(snapshot = %stats.path.display(), %err, "snapshot not saved")
                    }
                }
            }
            Err(_) => tracing::warn!(
                timeout = ?SNAPSHOT_FLUSH_TIMEOUT,
                "the snapshot write did not finish in time; exiting anyway"
            ),
        }
    }
}

/// What `cairn serve` was asked to do.
pub struct ServeOptions {
    /// The Corefile; without it, [`ServeOptions::fallback`].
    pub corefile: Option<PathBuf>,
    /// Serve this cluster dump instead of the API.
    pub from: Option<PathBuf>,
    /// What runs without a Corefile.
    pub fallback: Fallback,
    /// Where to write the process id once serving (removed at a clean stop), as CoreDNS's
    /// `-pidfile`.
    pub pidfile: Option<PathBuf>,
    /// Print CoreDNS's start-up banner on stdout (each server's `ZONE:PORT`, then the version)
    /// once serving; CoreDNS's command line without `-quiet`.
    pub banner: bool,
}

/// The configuration without a Corefile.
pub enum Fallback {
    /// `cairn serve`: `kubernetes ZONE in-addr.arpa ip6.arpa` on `listen`.
    Kubernetes { listen: SocketAddr, zone: String },
    /// CoreDNS's command line without `-conf` nor a `Corefile` here: CoreDNS's own default,
    /// `.:PORT { whoami log }` (the port from `-dns.port`).
    Whoami,
}

/// Serves `config` from `state`, which never changes (tests and tools; `serve` is the real
/// start).
pub fn start(config: Config, state: ClusterState) -> Result<RunningServer, ServerError> {
    listen(crate::server::prepare(
        config,
        &state,
        true,
        StatusBoard::default(),
    ))
}

/// `cairn serve`, from start to stop.
pub fn serve(args: ServeOptions) -> anyhow::Result<()> {
    // `reload` compares against the very text this configuration was parsed from.
    let (loaded_text, config) = match &args.corefile {
        Some(path) => {
            let (text, config) = crate::config::read_corefile(path)?;
            (Some(text), config)
        }
        None => (
            None,
            match &args.fallback {
                Fallback::Kubernetes { listen, zone } => {
                    crate::config::default_config(*listen, zone)
                }
                Fallback::Whoami => crate::config::parse_corefile(
                    ".\n{\n    whoami\n    log\n}\n",
                    std::path::Path::new("<default Corefile>"),
                    &|_| None,
                )?,
            },
        ),
    };
    let banner_text = args.banner.then(|| banner::render(&config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cairn-source")
        .enable_all()
        .build()?;
    let reload = config
        .first::<crate::plugin::reload::ReloadConfig>()
        .cloned();
    let mut stop = signals::StopSignals::new(&runtime)?;
    // Node-local mode: the interface holds the addresses before the listeners bind them.
    let node_local = nodelocal::from_config(&config).map(std::sync::Arc::new);
    // A start that ends early gives back what Cairn set up on the node (unless another
    // instance serves it), rather than leave addresses that nothing answers on.
    let give_back = || {
        if let Some(n) = &node_local {
            runtime.block_on(n.stop());
        }
    };
    if let Some(n) = &node_local {
        // Refused before the node is touched: a node-local `pods verified` needs NODE_NAME.
        nodelocal::pods_node(&config, &|k| std::env::var(k).ok())?;
        if let Err(err) = runtime.block_on(n.prepare()) {
            give_back();
            return Err(err.into());
        }
    }
    let started = match &args.from {
        Some(dump) => Some(dump::serve(config, dump)),
        // Waiting for the API's first list can take `startup_timeout`: a stop meanwhile ends
        // the start.
        None => runtime.block_on(async {
            tokio::select! {
                started = api::serve(config) => Some(started),
                () = stop.wait() => None,
            }
        }),
    };
    let running = match started {
        Some(Ok(running)) => running,
        None => {
            tracing::info!("stopped while starting");
            give_back();
            return Ok(());
        }
        Some(Err(err)) => {
            give_back();
            return Err(err);
        }
    };
    for addr in running.server.local_addrs() {
        tracing::info!(%addr, "serving");
    }
    if let Some(text) = &banner_text {
        print!("{text}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    let pidfile = args
        .pidfile
        .as_deref()
        .map(banner::PidFile::write)
        .transpose()?;
    let running = std::sync::Arc::new(running);
    if let Some(n) = &node_local {
        // The listeners answer: now the switch may take the node's DNS off the service proxy.
        if let Err(err) = runtime.block_on(n.arm()) {
            give_back();
            return Err(err.into());
        }
        runtime.spawn(n.clone().run_checks());
        runtime.spawn(n.clone().run_heartbeat());
        let (n, metrics) = (n.clone(), running.server.metrics().clone());
        running
            .status
            .install_node_local(move || n.status(&metrics));
    }
    if let (Some(reload), Some(path)) = (reload, args.corefile.clone()) {
        runtime.spawn(reload::watch_corefile(
            path,
            loaded_text,
            reload,
            running.clone(),
            node_local.clone(),
        ));
    }
    runtime.block_on(async {
        stop.wait().await;
        let lameduck = running.server.begin_lameduck();
        tracing::info!(
            ?lameduck,
            "shutting down: not ready any more, answering during lameduck"
        );
        tokio::time::sleep(lameduck).await;
        if let Some(n) = &node_local {
            if n.stop().await {
                let server = running.clone();
                let _ = tokio::task::spawn_blocking(move || server.server.hand_over()).await;
            }
        }
        running.save().await;
        anyhow::Ok(())
    })?;
    drop(running);
    drop(pidfile);
    tracing::info!("stopped");
    Ok(())
}
