//! `cairn doctor`: for the person debugging cluster DNS at 3 a.m., in a pod or from a laptop,
//! check every hop between a client and the cluster's names — the configured API address
//! (the Service VIP in a pod), each API server endpoint, the cluster DNS server, and a running
//! Cairn's `/status` — and name the broken hop with its workaround, in one screen.
//!
//! This module owns the order of the checks: the independent ones run concurrently, then the
//! API server endpoints are listed through whichever API address answered (else taken from
//! Cairn's `/status`) and checked. Each step waits at most the timeout. The checks themselves
//! are in `api`, `dns` and `status`; what to check in `target`; the conclusion in `verdict`
//! (pure); the output in `report` (JSON) and `render` (text). Nothing here writes anywhere but
//! the report.

pub mod api;
pub mod dns;
pub mod render;
pub mod report;
pub mod status;
pub mod target;
pub mod verdict;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures::future::join_all;

use api::ApiCheck;
use report::{ApiSection, DnsSection, Report};
use status::StatusCheck;
use target::{AddressOrigin, ApiTarget};

/// What to check (`cairn doctor`'s options, parsed).
#[derive(Clone, Debug)]
pub struct Options {
    /// The API's address and credentials; without it, in-cluster.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// API server URLs to check (and to list the endpoints through if the configured address
    /// fails).
    pub endpoints: Vec<String>,
    /// The DNS server; without it, the first `nameserver` of `resolv_conf`.
    pub dns: Option<SocketAddr>,
    /// The cluster domain.
    pub zone: String,
    /// Cairn's `/status` URL; without it, port 8080 of the DNS server's address.
    pub status: Option<String>,
    /// A Cairn snapshot file to take learned API server addresses from, when neither the API
    /// nor Cairn's `/status` can list them.
    pub snapshot: Option<PathBuf>,
    /// `(namespace, name)` of Services to resolve as well.
    pub services: Vec<(String, String)>,
    /// The limit of each step.
    pub timeout: Duration,
    pub resolv_conf: PathBuf,
}

/// Runs every check and concludes.
pub async fn run(o: &Options) -> Report {
    let api_target = target::api_target(o.kubeconfig.as_deref(), o.context.as_deref()).await;
    let dns_target = target::dns_target(o.dns, &o.resolv_conf);
    let dns_server = dns_target.as_ref().ok().map(|(addr, _)| *addr);
    let status_url = target::status_url(o.status.as_deref(), dns_server);
    let names = target::dns_names(&o.zone, &o.services);
    let base = |url: &str| base_for(api_target.as_ref().ok(), url);

    let configured = async {
        let t = api_target.as_ref().ok()?;
        let url = t.config.cluster_url.to_string();
        let url = url.trim_end_matches('/');
        Some(api::check(&t.config, url, t.origin, false, o.timeout).await)
    };
    let flagged = join_all(o.endpoints.iter().map(|url| async {
        api::check(&base(url), url, AddressOrigin::Flag, true, o.timeout).await
    }));
    let queries = async {
        match dns_server {
            Some(addr) => join_all(names.iter().map(|n| dns::check(addr, n, o.timeout))).await,
            None => Vec::new(),
        }
    };
    let cairn = async {
        let found = match &status_url {
            Some(url) => status::fetch(url, o.timeout).await,
            None => return None,
        };
        // Not given, and nothing at the DNS address: a node-local Cairn may be on this node.
        if o.status.is_none()
            && found.outcome != status::StatusOutcome::Ok
            && found.url != target::NODE_LOCAL_STATUS
        {
            let local = status::fetch(target::NODE_LOCAL_STATUS, o.timeout).await;
            if local.outcome == status::StatusOutcome::Ok {
                return Some(local);
            }
        }
        Some(found)
    };
    let (configured, flagged, queries, cairn) = tokio::join!(configured, flagged, queries, cairn);

    let (discovered, endpoints_note) = discover(
        api_target.as_ref().ok(),
        configured.as_ref(),
        &flagged,
        cairn.as_ref(),
        o.timeout,
    )
    .await;
    let (discovered, endpoints_note) = match (&o.snapshot, discovered.is_empty()) {
        (Some(path), true) => {
            let scheme = api_target
                .as_ref()
                .ok()
                .and_then(|t| t.config.cluster_url.scheme_str().map(str::to_string))
                .unwrap_or_else(|| "https".to_string());
            match target::snapshot_endpoints(path, &scheme) {
                Ok(urls) => (
                    urls.into_iter()
                        .map(|u| (u, AddressOrigin::Snapshot))
                        .collect(),
                    endpoints_note,
                ),
                Err(e) => (
                    discovered,
                    Some(match endpoints_note {
                        Some(note) => format!("{note}; {e}"),
                        None => e,
                    }),
                ),
            }
        }
        _ => (discovered, endpoints_note),
    };
    let fresh: Vec<(String, AddressOrigin)> = discovered
        .into_iter()
        .filter(|(url, _)| !flagged.iter().any(|f| &f.url == url))
        .collect();
    let mut endpoints = flagged;
    endpoints.extend(
        join_all(fresh.iter().map(|(url, origin)| async {
            api::check(&base(url), url, *origin, true, o.timeout).await
        }))
        .await,
    );

    let api = ApiSection {
        configured,
        skipped: api_target.as_ref().err().cloned(),
        endpoints,
        endpoints_note,
    };
    let dns = DnsSection {
        server: dns_server.map(|a| a.to_string()),
        origin: dns_target.as_ref().ok().map(|(_, origin)| *origin),
        skipped: dns_target.as_ref().err().cloned(),
        queries,
    };
    let verdict = verdict::verdict(&api, &dns, cairn.as_ref());
    Report {
        api,
        dns,
        status: cairn,
        verdict,
    }
}

/// The credentials to use on `url`: the configured API's, else none.
fn base_for(target: Option<&ApiTarget>, url: &str) -> kube::Config {
    match target {
        Some(t) => t.config.clone(),
        // A URL that does not parse fails in `api::check`, which parses it again.
        None => kube::Config::new(url.parse().unwrap_or_default()),
    }
}

/// The API server endpoints to check and where they came from: listed through the configured
/// address if it answered, else through the first `--endpoints` URL that did; else the
/// endpoints Cairn learned, from its `/status` (the caller then falls back to `--snapshot`). The note says why the API could not list them.
async fn discover(
    target: Option<&ApiTarget>,
    configured: Option<&ApiCheck>,
    flagged: &[ApiCheck],
    cairn: Option<&StatusCheck>,
    timeout: Duration,
) -> (Vec<(String, AddressOrigin)>, Option<String>) {
    let via = match configured.filter(|c| c.ok()) {
        Some(c) => Some((c, false)),
        None => flagged.iter().find(|c| c.ok()).map(|c| (c, true)),
    };
    let listed = match via {
        Some((c, direct)) => {
            let config = target::aimed(&base_for(target, &c.url), &c.url, direct, timeout);
            match config {
                Ok(config) => api::list_endpoints(config, timeout).await,
                Err(e) => Err(e),
            }
        }
        None => Err("no API address answered to list them from".to_string()),
    };
    let tried = configured.is_some() || !flagged.is_empty();
    let note = match &listed {
        Err(_) if !tried => None,
        Ok(urls) if urls.is_empty() => {
            Some("the default/kubernetes EndpointSlice lists no API server".to_string())
        }
        Ok(_) => None,
        Err(e) => Some(format!("API server endpoints not listed: {e}")),
    };
    let mut found: Vec<(String, AddressOrigin)> = listed
        .unwrap_or_default()
        .into_iter()
        .map(|url| (url, AddressOrigin::EndpointSlice))
        .collect();
    if found.is_empty() {
        let learned = cairn
            .and_then(|s| s.status.as_ref())
            .and_then(|s| s.api.as_ref())
            .map(|a| a.endpoints.as_slice())
            .unwrap_or_default();
        found = learned
            .iter()
            .filter(|e| e.origin == crate::status::EndpointOrigin::Learned)
            .map(|e| {
                (
                    e.url.trim_end_matches('/').to_string(),
                    AddressOrigin::Status,
                )
            })
            .collect();
    }
    (found, note)
}

#[cfg(test)]
mod tests;
