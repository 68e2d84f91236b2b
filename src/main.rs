//! The `cairn` command: parse the command line, set up logging, run the chosen job, and turn
//! errors into one clear message and an exit code.

use std::net::SocketAddr;
use std::path::PathBuf;

use cairn::server::RunningServer;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "Cluster DNS for Kubernetes that keeps answering when the control plane does not"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve DNS.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The Corefile to run (CoreDNS syntax). Without it Cairn serves
    /// `.:PORT { kubernetes ZONE in-addr.arpa ip6.arpa }` on --listen.
    #[arg(long)]
    corefile: Option<PathBuf>,
    /// Cluster state from a dump file (`kubectl get namespaces,services,endpointslices,pods -A
    /// -o yaml`, multi-document YAML, or JSON) instead of the Kubernetes API. Without it, Cairn
    /// watches the API as the Corefile's `kubernetes` block says (in-cluster by default).
    #[arg(long)]
    from: Option<PathBuf>,
    /// Where to listen without a Corefile.
    #[arg(long, default_value = "0.0.0.0:53")]
    listen: SocketAddr,
    /// The cluster domain without a Corefile.
    #[arg(long, default_value = "cluster.local")]
    zone: String,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // kube's client logs every failed request at ERROR; Cairn logs each change of an
                // endpoint's state once instead.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("info,kube_client::client::builder=off")
                }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cairn: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // `reload` compares against the very text this configuration was parsed from.
    let (loaded_text, config) = match &args.corefile {
        Some(path) => {
            let (text, config) = cairn::config::read_corefile(path)?;
            (Some(text), config)
        }
        None => (None, cairn::config::default_config(args.listen, &args.zone)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cairn-source")
        .enable_all()
        .build()?;
    let reload = config.servers.iter().find_map(|b| b.reload.clone());
    let server = match &args.from {
        Some(dump) => cairn::run::dump::serve(config, dump)?,
        None => runtime.block_on(cairn::run::api::serve(config))?,
    };
    for addr in server.local_addrs() {
        tracing::info!(%addr, "serving");
    }
    let server = std::sync::Arc::new(server);
    if let (Some(reload), Some(path)) = (reload, args.corefile.clone()) {
        runtime.spawn(watch_corefile(path, loaded_text, reload, server.clone()));
    }
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let lameduck = server.begin_lameduck();
        tracing::info!(
            ?lameduck,
            "shutting down: not ready any more, answering during lameduck"
        );
        tokio::time::sleep(lameduck).await;
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}

/// The `reload` plugin: checks the Corefile every interval (plus up to `jitter`); a changed file
/// that parses is applied at once, one that does not (or that changes what needs a restart) is
/// logged and counted, and the running configuration stays.
async fn watch_corefile(
    path: PathBuf,
    loaded_text: Option<String>,
    reload: cairn::config::model::ReloadConfig,
    server: std::sync::Arc<RunningServer>,
) {
    let digest = |text: &str| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        h.finish()
    };
    let mut applied = loaded_text.as_deref().map(digest);
    loop {
        let jitter = reload.jitter.mul_f64(fastrand::f64());
        tokio::time::sleep(reload.interval + jitter).await;
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let now = Some(digest(&text));
        if now == applied {
            continue;
        }
        applied = now;
        // Parse the text just compared, not a second read of the file.
        let outcome = cairn::config::parse_corefile(&text, &path, &|k| std::env::var(k).ok())
            .map_err(|e| e.to_string())
            .and_then(|config| server.reload(config));
        match outcome {
            Ok(()) => {
                tracing::info!(corefile = %path.display(), "plugin/reload: running the new configuration")
            }
            Err(err) => {
                server.metrics().reload_failed();
                tracing::error!(corefile = %path.display(), "plugin/reload: keeping the running configuration: {err}");
            }
        }
    }
}
