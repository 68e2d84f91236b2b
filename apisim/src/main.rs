//! `cairn-apisim`: serves the in-memory Kubernetes API until killed.
//!
//! `cairn-apisim --listen 127.0.0.1:PORT [--load FILE.json|yaml] [--kubeconfig OUT]`; `--load`
//! takes one or more JSON or YAML documents, each an object, a `kind: List` or an array.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use apisim::ApiServer;

const USAGE: &str =
    "usage: cairn-apisim --listen 127.0.0.1:PORT [--load FILE.json|FILE.yaml] [--kubeconfig OUT] [--tls-cert PEM --tls-key PEM]";

struct Args {
    listen: SocketAddr,
    load: Option<PathBuf>,
    kubeconfig: Option<PathBuf>,
    tls: Option<(PathBuf, PathBuf)>,
}

fn parse_args() -> Result<Args, String> {
    let mut listen = None;
    let (mut load, mut kubeconfig) = (None, None);
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let text = value()?;
                listen = Some(
                    text.parse()
                        .map_err(|e| format!("--listen {text:?}: expected ADDR:PORT ({e})"))?,
                );
            }
            "--load" => load = Some(PathBuf::from(value()?)),
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(value()?)),
            "--tls-cert" => cert = Some(PathBuf::from(value()?)),
            "--tls-key" => key = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        listen: listen.ok_or("--listen is required")?,
        load,
        kubeconfig,
        tls: match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key go together".into()),
        },
    })
}

/// Reads a file of JSON or YAML documents; each is an object, a `kind: List` or an array.
fn load(server: &ApiServer, path: &PathBuf) -> Result<usize, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let documents: Vec<serde_json::Value> = if path.extension().is_some_and(|e| e == "json") {
        serde_json::Deserializer::from_str(&text)
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?
    } else {
        serde_yaml_ng::Deserializer::from_str(&text)
            .map(serde::Deserialize::deserialize)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: invalid YAML: {e}", path.display()))?
    };
    let mut objects = Vec::new();
    for document in documents {
        match document {
            serde_json::Value::Array(items) => objects.extend(items),
            serde_json::Value::Object(mut map) if map.get("kind").is_some_and(|k| k == "List") => {
                if let Some(serde_json::Value::Array(items)) = map.remove("items") {
                    objects.extend(items);
                }
            }
            serde_json::Value::Null => {}
            other => objects.push(other),
        }
    }
    let (mut loaded, mut skipped) = (0, 0);
    for object in objects {
        match server.apply(object) {
            Ok(_) => loaded += 1,
            // A cluster dump holds kinds apisim does not serve (ConfigMaps, ...): skip them.
            Err(apisim::ApiError::UnknownKind(_)) => skipped += 1,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    if skipped > 0 {
        eprintln!(
            "cairn-apisim: {}: skipped {skipped} objects of kinds not served",
            path.display()
        );
    }
    Ok(loaded)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("cairn-apisim: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let tls = match &args.tls {
        None => None,
        Some((cert, key)) => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))
            };
            match (read(cert), read(key)) {
                (Ok(cert_chain_pem), Ok(key_pem)) => Some(apisim::TlsIdentity {
                    cert_chain_pem,
                    key_pem,
                }),
                (Err(message), _) | (_, Err(message)) => {
                    eprintln!("cairn-apisim: {message}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let server = match ApiServer::start_with(args.listen, tls.as_ref()).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cairn-apisim: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.load {
        match load(&server, path) {
            Ok(n) => eprintln!("cairn-apisim: loaded {n} objects from {}", path.display()),
            Err(message) => {
                eprintln!("cairn-apisim: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(path) = &args.kubeconfig {
        if let Err(e) = server.write_kubeconfig(path) {
            eprintln!("cairn-apisim: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("{}", server.url());
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
