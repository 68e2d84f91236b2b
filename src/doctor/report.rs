//! The doctor's findings as one serde document: every check, grouped by hop (API, DNS, Cairn's
//! `/status`), and the verdict. `--json` prints it as is; its field names and the
//! `broken_hop` codes are a stable interface for scripts.

use serde::{Deserialize, Serialize};

use super::api::ApiCheck;
use super::dns::DnsCheck;
use super::status::StatusCheck;
use super::target::DnsOrigin;
use super::verdict::Verdict;

/// Everything `cairn doctor` found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub api: ApiSection,
    pub dns: DnsSection,
    /// Cairn's `/status`; `None` when there was no URL to read it from.
    pub status: Option<StatusCheck>,
    pub verdict: Verdict,
}

/// The API hops.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiSection {
    /// The configured address (the kubeconfig's server, or the Service VIP in a pod); `None`
    /// when there is none, and `skipped` says why.
    pub configured: Option<ApiCheck>,
    pub skipped: Option<String>,
    /// The API server endpoints (listed from the API, from Cairn's `/status`, or
    /// `--endpoints`), each checked the same way.
    pub endpoints: Vec<ApiCheck>,
    /// Why the endpoints could not be listed from the API, when they could not.
    pub endpoints_note: Option<String>,
}

impl ApiSection {
    /// Every address checked, the configured one first.
    pub fn all(&self) -> impl Iterator<Item = &ApiCheck> {
        self.configured.iter().chain(&self.endpoints)
    }
}

/// The DNS hop.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsSection {
    /// `IP:PORT` of the server asked; `None` when there is none, and `skipped` says why.
    pub server: Option<String>,
    pub origin: Option<DnsOrigin>,
    pub skipped: Option<String>,
    /// `kubernetes.default.svc.ZONE` first, then each `--services` name.
    pub queries: Vec<DnsCheck>,
}
