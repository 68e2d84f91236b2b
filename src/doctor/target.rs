//! What `cairn doctor` is going to check, decided from its options and the environment before
//! any network traffic: the API address with its credentials (`--kubeconfig`, else
//! in-cluster), the DNS server (`--dns`, else the first `nameserver` of resolv.conf), the URL of
//! Cairn's `/status`, and the URLs of API server endpoints. Reading files and the environment
//! is all it does; the parsing helpers are pure.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::{Deserialize, Serialize};

use crate::config::model::Location;
use crate::plugin::kubernetes::{Kubeconfig, KubernetesConfig};
use crate::source::kubernetes::client;

/// The name API server certificates carry, used to verify them when reached by address.
pub const API_SERVER_NAME: &str = "kubernetes.default.svc";

/// The health listener's default port, where `/status` is served.
pub const HEALTH_PORT: u16 = 8080;

/// Where an API address to check came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressOrigin {
    /// The server of `--kubeconfig`.
    Kubeconfig,
    /// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`: the Service VIP.
    InCluster,
    /// The `default/kubernetes` EndpointSlice, listed from the API.
    EndpointSlice,
    /// An endpoint Cairn learned, from its `/status`.
    Status,
    /// An endpoint Cairn learned, from its snapshot file (`--snapshot`).
    Snapshot,
    /// `--endpoints`.
    Flag,
}

impl AddressOrigin {
    /// How the human output names the origin.
    pub fn describe(self) -> &'static str {
        match self {
            AddressOrigin::Kubeconfig => "kubeconfig",
            AddressOrigin::InCluster => "in-cluster",
            AddressOrigin::EndpointSlice => "from the API",
            AddressOrigin::Status => "from Cairn's /status",
            AddressOrigin::Snapshot => "from Cairn's snapshot",
            AddressOrigin::Flag => "--endpoints",
        }
    }
}

/// The configured API address and the credentials to use on it.
pub struct ApiTarget {
    pub config: kube::Config,
    pub origin: AddressOrigin,
}

/// The API to check: `--kubeconfig` (and `--context`), else in-cluster. `Err` says why there
/// is none.
pub async fn api_target(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<ApiTarget, String> {
    match kubeconfig {
        Some(path) => {
            let mut block = KubernetesConfig::with_zones(
                Vec::new(),
                Location {
                    file: PathBuf::from("--kubeconfig"),
                    line: 0,
                },
            );
            block.kubeconfig = Some(Kubeconfig {
                path: path.to_path_buf(),
                context: context.map(str::to_string),
            });
            let config = client::config(&block).await.map_err(|e| e.to_string())?;
            Ok(ApiTarget {
                config,
                origin: AddressOrigin::Kubeconfig,
            })
        }
        None if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() => Err(
            "no --kubeconfig and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)"
                .to_string(),
        ),
        None => match kube::Config::incluster() {
            Ok(config) => Ok(ApiTarget {
                config,
                origin: AddressOrigin::InCluster,
            }),
            Err(e) => Err(format!(
                "no --kubeconfig, and the in-cluster configuration fails: {e}"
            )),
        },
    }
}

/// `base` aimed at `url` for one check: timeouts of `timeout`, no retries, and, for a direct
/// address reached over https, certificates verified against [`API_SERVER_NAME`] (unless the
/// base already names one).
pub fn aimed(
    base: &kube::Config,
    url: &str,
    direct: bool,
    timeout: Duration,
) -> Result<kube::Config, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let mut config = base.clone();
    if direct && uri.scheme_str() == Some("https") && config.tls_server_name.is_none() {
        config.tls_server_name = Some(API_SERVER_NAME.to_string());
    }
    config.cluster_url = uri;
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
    config.default_retry = false;
    Ok(config)
}

/// An `--endpoints` URL: `http://` or `https://` with a host. The error names what is wrong.
pub fn endpoint_url(text: &str) -> Result<String, String> {
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(text.trim_end_matches('/').to_string()),
        _ => Err(format!(
            "`{text}`: expected an http:// or https:// URL such as https://192.168.1.10:6443"
        )),
    }
}

/// `scheme://IP:PORT`, with brackets around an IPv6 address.
pub fn url_for(scheme: &str, ip: &str, port: u16) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("{scheme}://[{v6}]:{port}"),
        _ => format!("{scheme}://{ip}:{port}"),
    }
}

/// The API server URLs an EndpointSlice of the `kubernetes` Service lists: every address of
/// every endpoint not marked unready, on the port named `https` (else the first port).
pub fn endpoints_of(slices: &[EndpointSlice], scheme: &str) -> Vec<String> {
    let mut out = Vec::new();
    for slice in slices {
        let ports = slice.ports.as_deref().unwrap_or_default();
        let port = ports
            .iter()
            .find(|p| p.name.as_deref() == Some("https"))
            .or_else(|| ports.first())
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok());
        let Some(port) = port else { continue };
        for endpoint in &slice.endpoints {
            let ready = endpoint.conditions.as_ref().and_then(|c| c.ready);
            if ready == Some(false) {
                continue;
            }
            for address in &endpoint.addresses {
                let url = url_for(scheme, address, port);
                if !out.contains(&url) {
                    out.push(url);
                }
            }
        }
    }
    out
}

/// How the DNS server to check was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsOrigin {
    /// `--dns`.
    Flag,
    /// The first `nameserver` of resolv.conf.
    ResolvConf,
}

/// `ADDR` or `ADDR:PORT` (IPv6 in brackets with a port), port 53 by default.
pub fn dns_addr(text: &str) -> Result<SocketAddr, String> {
    crate::config::address(text, 53).ok_or_else(|| {
        format!("`{text}`: expected an IP address with an optional port, such as 10.96.0.10 or 127.0.0.1:5353")
    })
}

/// The DNS server: `flag`, else the first `nameserver` of the resolv.conf at `path`.
pub fn dns_target(
    flag: Option<SocketAddr>,
    path: &Path,
) -> Result<(SocketAddr, DnsOrigin), String> {
    if let Some(addr) = flag {
        return Ok((addr, DnsOrigin::Flag));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("no --dns and {} cannot be read: {e}", path.display()))?;
    first_nameserver(&text)
        .map(|addr| (addr, DnsOrigin::ResolvConf))
        .ok_or_else(|| format!("no --dns and no `nameserver` in {}", path.display()))
}

/// The first usable `nameserver` of a resolv.conf text.
pub fn first_nameserver(text: &str) -> Option<SocketAddr> {
    text.lines().find_map(|line| {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next())
            .flatten()
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// Where a node-local Cairn serves `/status` (the link-local address of the node-local overlay),
/// tried when nothing answers on the DNS server's address: on a node-local node the kube-dns
/// ClusterIP answers DNS but not HTTP.
pub const NODE_LOCAL_STATUS: &str = "http://169.254.20.10:8080/status";

/// `--status`, else the health listener's default port on the DNS server's address.
pub fn status_url(flag: Option<&str>, dns: Option<SocketAddr>) -> Option<String> {
    match flag {
        Some(url) => Some(url.to_string()),
        None => dns.map(|d| format!("http://{}/status", SocketAddr::new(d.ip(), HEALTH_PORT))),
    }
}

/// `NS/NAME` of `--services`.
pub fn service_name(text: &str) -> Result<(String, String), String> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    match text.split_once('/') {
        Some((ns, name)) if valid(ns) && valid(name) => Ok((ns.to_string(), name.to_string())),
        _ => Err(format!(
            "`{text}`: expected NAMESPACE/NAME of a Service, such as kube-system/kube-dns"
        )),
    }
}

/// The names to query: `kubernetes.default.svc.ZONE.` and `NAME.NS.svc.ZONE.` per service.
pub fn dns_names(zone: &str, services: &[(String, String)]) -> Vec<String> {
    let zone = zone.trim_matches('.');
    std::iter::once(format!("kubernetes.default.svc.{zone}."))
        .chain(
            services
                .iter()
                .map(|(ns, name)| format!("{name}.{ns}.svc.{zone}.")),
        )
        .collect()
}

#[cfg(test)]
mod tests;

/// The API server addresses a Cairn snapshot file holds, as URLs with `scheme`. The file is
/// only read (a bad one is reported, never moved: that is the server's job).
pub fn snapshot_endpoints(path: &Path, scheme: &str) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("snapshot {}: cannot read: {e}", path.display()))?;
    let snapshot =
        crate::snapshot::decode(&bytes).map_err(|e| format!("snapshot {}: {e}", path.display()))?;
    Ok(snapshot
        .api_endpoints
        .iter()
        .map(|a| format!("{scheme}://{a}"))
        .collect())
}
