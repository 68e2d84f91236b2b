//! The `cairn` command: parse the command line, set up logging, run the chosen job, and turn
//! errors into one clear message and an exit code. A command line that starts with one of
//! CoreDNS's flags (`-conf`, `-dns.port`, …) is read as CoreDNS reads it
//! (`cairn::cli::coredns`), so a CoreDNS Deployment runs Cairn by changing the image alone.

use std::net::SocketAddr;
use std::path::PathBuf;

use cairn::doctor;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cairn",
    version = env!("CAIRN_VERSION_LINE"),
    about = "Cluster DNS for Kubernetes that keeps answering when the control plane does not",
    after_help = "CoreDNS's command line works too: cairn -conf FILE [-dns.port PORT] [-pidfile FILE] [-quiet] | -plugins | -version"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve DNS.
    Serve(ServeArgs),
    /// Check the path from this machine to the API server and the cluster DNS, and name the
    /// broken hop. Exits 0 when healthy, 1 when a fault is found, 2 when nothing could be
    /// checked.
    Doctor(DoctorArgs),
    /// Check a Corefile without serving, like `nginx -t`: problems as FILE:LINE on stderr
    /// (exit 1), else a one-line summary (exit 0); exit 2 when it cannot be read.
    ///
    /// Every bad server block key and every bad directive is printed on stderr as
    /// `FILE:LINE: message`; an error in the structure (quotes, braces, `import`) is printed
    /// alone, as nothing around it can be trusted. Nothing is bound or contacted; only the
    /// Corefile, the files it imports and the resolv.conf files `forward` names are read.
    Validate(ValidateArgs),
    /// List every plugin a Corefile can name, CoreDNS's in its plugin.cfg order then Cairn's
    /// own, with what Cairn does with it (supported, or not supported yet).
    Plugins,
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// The Corefile to check (`{$ENV}` is filled from this process's environment, as `serve`
    /// does).
    #[arg(long, required_unless_present = "plugins")]
    corefile: Option<PathBuf>,
    /// List every plugin with its status first (as `cairn plugins`).
    #[arg(long)]
    plugins: bool,
}

#[derive(clap::Args)]
struct DoctorArgs {
    /// The API address and credentials to check (its current context's server). Without it,
    /// the in-cluster ones (KUBERNETES_SERVICE_HOST/PORT and the service-account token).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of the current one.
    #[arg(long, requires = "kubeconfig")]
    context: Option<String>,
    /// API server URLs to check as well (`https://IP:PORT`, comma-separated); used when the
    /// API cannot list them itself.
    #[arg(long, value_delimiter = ',', value_parser = doctor::target::endpoint_url)]
    endpoints: Vec<String>,
    /// The cluster DNS server, ADDR[:PORT]. Without it, the first nameserver of
    /// /etc/resolv.conf.
    #[arg(long, value_parser = doctor::target::dns_addr)]
    dns: Option<SocketAddr>,
    /// The cluster domain.
    #[arg(long, default_value = "cluster.local")]
    zone: String,
    /// Cairn's /status URL. Without it, http://<dns address>:8080/status.
    #[arg(long)]
    status: Option<String>,
    /// A Cairn snapshot file to take learned API server addresses from when neither the API
    /// nor Cairn's /status can list them (read only).
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Services to resolve as well, NAMESPACE/NAME (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = doctor::target::service_name)]
    services: Vec<(String, String)>,
    /// The limit of each check step (Go duration syntax).
    #[arg(long, default_value = "2s", value_parser = cairn::config::parse_duration)]
    timeout: std::time::Duration,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// The resolv.conf to take the DNS server from (for tests).
    #[arg(long, hide = true, default_value = "/etc/resolv.conf")]
    resolv_conf: PathBuf,
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
    cairn::source::kubernetes::heap::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if cairn::cli::coredns::is_coredns_form(&args) {
        return run_coredns(&args);
    }
    let cli = Cli::parse();
    if let Command::Plugins = cli.command {
        print!("{}", cairn::validate::catalog::render());
        return std::process::ExitCode::SUCCESS;
    }
    // Validation logs nothing: its stderr is the list of problems and only that.
    if let Command::Validate(args) = &cli.command {
        return run_validate(args);
    }
    // The doctor reports every failure itself; the client libraries' own logs would only
    // clutter its one screen (RUST_LOG still turns them on).
    let default_filter = match cli.command {
        // kube's client logs every failed request at ERROR; Cairn logs each change of an
        // endpoint's state once instead.
        Command::Serve(_) => "info,kube_client::client::builder=off",
        Command::Doctor(_) | Command::Validate(_) | Command::Plugins => "off",
    };
    init_logging(default_filter);
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Doctor(args) => return run_doctor(args),
        Command::Validate(args) => return run_validate(&args),
        Command::Plugins => Ok(()),
    };
    exit(result)
}

fn init_logging(default_filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cairn: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// CoreDNS's command line: `-version`, `-plugins`, or serve the Corefile `-conf` names (else
/// `Corefile` here, else CoreDNS's default `whoami`), with `-dns.port`, `-pidfile`, `-quiet`.
/// A bad flag exits 2 with the usage, as Go's `flag` package does.
fn run_coredns(args: &[String]) -> std::process::ExitCode {
    use cairn::cli::coredns::{parse, Coredns, USAGE};
    let flags = match parse(args) {
        Ok(Coredns::Version) => {
            print!("{}", cairn::run::banner::version());
            return std::process::ExitCode::SUCCESS;
        }
        Ok(Coredns::Plugins) => {
            print!("{}", cairn::validate::catalog::render_coredns());
            return std::process::ExitCode::SUCCESS;
        }
        Ok(Coredns::Help) => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Ok(Coredns::Serve(flags)) => flags,
        Err(err) => {
            eprintln!("{err}\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Some(port) = flags.port {
        cairn::corefile::zone::set_default_port(port);
    }
    let corefile = flags.conf.clone().or_else(|| {
        let here = PathBuf::from("Corefile");
        here.is_file().then_some(here)
    });
    init_logging("info,kube_client::client::builder=off");
    let fallback = cairn::run::Fallback::Whoami;
    exit(cairn::run::serve(cairn::run::ServeOptions {
        corefile,
        from: None,
        fallback,
        pidfile: flags.pidfile,
        banner: !flags.quiet,
    }))
}

/// `cairn validate`: problems on stderr, the summary on stdout, the verdict as the exit code.
fn run_validate(args: &ValidateArgs) -> std::process::ExitCode {
    use cairn::validate::Outcome;
    if args.plugins {
        print!("{}", cairn::validate::catalog::render());
    }
    let Some(corefile) = &args.corefile else {
        return std::process::ExitCode::SUCCESS;
    };
    let outcome = cairn::validate::check(corefile, &|name| std::env::var(name).ok());
    match &outcome {
        Outcome::Valid(summary) => println!("{summary}"),
        Outcome::Invalid(errors) => {
            for err in errors {
                eprintln!("{err}");
            }
        }
        Outcome::Unreadable(why) => eprintln!("cairn validate: {why}"),
    }
    std::process::ExitCode::from(outcome.exit_code())
}

/// `cairn doctor`: the report on stdout, the verdict as the exit code (2 when it cannot run).
fn run_doctor(args: DoctorArgs) -> std::process::ExitCode {
    let options = doctor::Options {
        kubeconfig: args.kubeconfig,
        context: args.context,
        endpoints: args.endpoints,
        dns: args.dns,
        zone: args.zone,
        status: args.status,
        snapshot: args.snapshot,
        services: args.services,
        timeout: args.timeout,
        resolv_conf: args.resolv_conf,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(err) => {
            eprintln!("cairn doctor: cannot start: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let report = runtime.block_on(doctor::run(&options));
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(err) => {
                eprintln!("cairn doctor: cannot write the report: {err}");
                return std::process::ExitCode::from(2);
            }
        }
    } else {
        print!("{}", doctor::render::human(&report));
    }
    std::process::ExitCode::from(report.verdict.exit_code)
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    cairn::run::serve(cairn::run::ServeOptions {
        corefile: args.corefile,
        from: args.from,
        fallback: cairn::run::Fallback::Kubernetes {
            listen: args.listen,
            zone: args.zone,
        },
        pidfile: None,
        banner: false,
    })
}
