//! The `cairn` command: parse the command line, set up logging, run the chosen job, and turn
//! errors into one clear message and an exit code.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
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
    /// -o yaml`, multi-document YAML, or JSON) instead of the Kubernetes API.
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
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
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
    let config = match &args.corefile {
        Some(path) => cairn::config::load_corefile(path)?,
        None => cairn::config::default_config(args.listen, &args.zone),
    };
    let Some(dump) = &args.from else {
        anyhow::bail!(
            "no cluster source: give --from DUMP (the Kubernetes API source is not built yet)"
        );
    };
    let loaded = cairn::source::file::load_dump(dump)?;
    if !loaded.skipped.is_empty() {
        let skipped: Vec<String> = loaded
            .skipped
            .iter()
            .map(|(kind, n)| format!("{kind}={n}"))
            .collect();
        tracing::info!(skipped = %skipped.join(","), "skipped objects of kinds DNS does not use");
    }
    let state = loaded.state;
    tracing::info!(
        namespaces = state.namespaces.len(),
        services = state.services.len(),
        endpoint_slices = state.endpoint_slices.len(),
        pods = state.pods.len(),
        from = %dump.display(),
        "loaded cluster state"
    );
    let server = cairn::server::start(config, state).context("cannot start serving")?;
    for addr in server.local_addrs() {
        tracing::info!(%addr, "serving");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}
