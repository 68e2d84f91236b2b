//! The verdict: which hop is broken, in one paragraph with the workaround, decided by one pure
//! function over the check results ([`verdict`]). The rules, in order:
//!
//! 1. nothing could be checked → `unknown` (exit 2);
//! 2. no API address answers → `credentials` if one rejected the credentials, else `tls` if
//!    one failed TLS, else `api_server` (down or unreachable);
//! 3. the configured address fails while an API server endpoint answers → `tls` or
//!    `credentials` when that is how it fails, else `service_vip` (the service proxy);
//! 4. a DNS query fails → `dns`;
//! 5. Cairn runs in node-local mode and its interface, an address or its rules are missing
//!    (the node's DNS takes the service proxy again) → `node_local`;
//! 6. Cairn's `/status` shows no healthy API endpoint or stale data → `stale_data`;
//! 7. some API server endpoints fail while others answer → `api_server`;
//! 8. otherwise `none`.
//!
//! The wording lives in `wording`; this module only decides.

mod wording;

use serde::{Deserialize, Serialize};

use super::api::{ApiCheck, ApiOutcome};
use super::report::{ApiSection, DnsSection};
use super::status::StatusCheck;
use crate::status::Status;

/// Data older than this (seconds behind the API) counts as stale.
pub const STALE_AFTER_SECONDS: f64 = 60.0;

/// The hop at fault, a stable code for scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokenHop {
    /// Everything checked works.
    None,
    /// The configured address (the Service VIP) fails while an API server answers.
    ServiceVip,
    /// No API server answers, or some of them do not.
    ApiServer,
    /// The DNS server does not answer the cluster names.
    Dns,
    /// The API rejects the credentials (401/403).
    Credentials,
    /// TLS to the API fails (handshake or certificate verification).
    Tls,
    /// Cairn answers, but from data it cannot refresh.
    StaleData,
    /// A node-local Cairn's interface, addresses or nftables rules are missing.
    NodeLocal,
    /// Nothing could be checked.
    Unknown,
}

impl BrokenHop {
    /// 0 healthy, 1 a fault found, 2 could not check.
    pub fn exit_code(self) -> u8 {
        match self {
            BrokenHop::None => 0,
            BrokenHop::Unknown => 2,
            _ => 1,
        }
    }
}

/// The conclusion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub broken_hop: BrokenHop,
    /// One paragraph: what is broken, why it matters, the workaround.
    pub text: String,
    pub exit_code: u8,
}

impl Verdict {
    fn new(broken_hop: BrokenHop, text: String) -> Verdict {
        Verdict {
            broken_hop,
            text,
            exit_code: broken_hop.exit_code(),
        }
    }
}

/// What the checks mean.
pub fn verdict(api: &ApiSection, dns: &DnsSection, status: Option<&StatusCheck>) -> Verdict {
    let cairn = status.and_then(|s| s.status.as_ref());
    if api.all().next().is_none() && dns.queries.is_empty() {
        return Verdict::new(BrokenHop::Unknown, wording::unknown(api, dns));
    }
    if let Some(v) = api_verdict(api, dns, cairn) {
        return v;
    }
    if let Some(failed) = dns.queries.iter().find(|q| !q.ok()) {
        return Verdict::new(BrokenHop::Dns, wording::dns(api, dns, failed));
    }
    if let Some(n) = cairn
        .and_then(|c| c.node_local.as_ref())
        .filter(|n| !node_local_whole(n))
    {
        return Verdict::new(BrokenHop::NodeLocal, wording::node_local(n));
    }
    if let Some(cairn) = cairn.filter(|c| is_stale(c)) {
        return Verdict::new(BrokenHop::StaleData, wording::stale(cairn));
    }
    let (up, down): (Vec<&ApiCheck>, Vec<&ApiCheck>) = api.endpoints.iter().partition(|e| e.ok());
    if !up.is_empty() && !down.is_empty() {
        return Verdict::new(BrokenHop::ApiServer, wording::partial(&down, up.len()));
    }
    Verdict::new(BrokenHop::None, wording::healthy(api, dns, cairn))
}

/// Rules 2 and 3: the API hops.
fn api_verdict(api: &ApiSection, dns: &DnsSection, cairn: Option<&Status>) -> Option<Verdict> {
    let with = |o: ApiOutcome| api.all().find(|c| c.outcome == o);
    let answering = api.all().find(|c| c.ok());
    match answering {
        None if api.all().next().is_none() => None,
        None => Some(if let Some(c) = with(ApiOutcome::Credentials) {
            Verdict::new(BrokenHop::Credentials, wording::credentials(c))
        } else if let Some(c) = with(ApiOutcome::Tls) {
            Verdict::new(BrokenHop::Tls, wording::tls(c, None))
        } else {
            Verdict::new(BrokenHop::ApiServer, wording::api_down(api, dns, cairn))
        }),
        Some(endpoint) => {
            let configured = api.configured.as_ref().filter(|c| !c.ok())?;
            Some(match configured.outcome {
                ApiOutcome::Credentials => {
                    Verdict::new(BrokenHop::Credentials, wording::credentials(configured))
                }
                ApiOutcome::Tls => {
                    Verdict::new(BrokenHop::Tls, wording::tls(configured, Some(endpoint)))
                }
                _ => Verdict::new(
                    BrokenHop::ServiceVip,
                    wording::service_vip(configured, endpoint),
                ),
            })
        }
    }
}

/// The node-local capture is complete: interface, every address, the rules.
pub fn node_local_whole(n: &crate::status::NodeLocalStatus) -> bool {
    n.interface_present && n.rules_present && n.addresses.iter().all(|a| a.present)
}

/// Cairn cannot refresh what it serves: no healthy endpoint, or too far behind.
fn is_stale(status: &Status) -> bool {
    let no_endpoint = status.api.as_ref().is_some_and(|a| a.active.is_none());
    no_endpoint || status.data.staleness_seconds >= STALE_AFTER_SECONDS
}

#[cfg(test)]
mod tests;
