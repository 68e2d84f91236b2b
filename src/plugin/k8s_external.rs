//! The `k8s_external` plugin (`k8s_external [ZONE...] { apex; ttl; headless; fallthrough }`):
//! answers an extra zone with the addresses Services are reached at from outside the cluster —
//! `<svc>.<ns>.<zone>` A/AAAA from `spec.externalIPs` and load balancer ingress IPs (an ingress
//! hostname is a CNAME), `_port._proto.<svc>.<ns>.<zone>` SRV, and with `headless` the endpoints
//! of headless Services — plus the zone's own SOA and NS (`ns1.<apex>.<zone>`, addressed by the
//! external IPs of the Service whose endpoint is the server), as CoreDNS's `k8s_external`.
//!
//! It reads the index the block's `kubernetes` plugin publishes (offered through
//! [`BuildEnv::provide`]), never a watch of its own. Answering is in [`lookup`]. Differences
//! from CoreDNS (see `README.md`): names below a Service other than `_port._proto` (and, with
//! `headless`, endpoint names) are NXDOMAIN; every record carries this plugin's `ttl`; an
//! ingress hostname's addresses come from the block's `forward`, if it has one; PTR is not
//! answered; before the first sync NXDOMAIN is SERVFAIL, as in `kubernetes`.

mod lookup;
mod setup;

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;

pub use setup::K8sExternalConfig;

use crate::dns::response::Sections;
use crate::plugin::forward::Forwarder;
use crate::plugin::kubernetes::publish::IndexCell;
use crate::plugin::{Answer, BuildEnv, Flow, Kind, Next, Plugin, Query};

#[cfg(test)]
mod tests;

impl K8sExternalConfig {
    fn plugin(&self, env: &mut BuildEnv<'_>) -> Result<Arc<dyn Plugin>, String> {
        let cell = env.provided::<Arc<IndexCell>>().ok_or_else(|| {
            format!(
                "k8s_external at {}: the server block has no kubernetes plugin to read services from",
                self.location
            )
        })?;
        let mut zones = self.zones.clone();
        zones.sort_by_key(|z| std::cmp::Reverse(z.num_labels()));
        Ok(Arc::new(K8sExternal {
            options: self.clone(),
            zones,
            cell,
            forward: env.provided::<Arc<Forwarder>>(),
        }))
    }
}

/// One block's `k8s_external` plugin.
struct K8sExternal {
    options: K8sExternalConfig,
    /// The zones, longest first.
    zones: Vec<Name>,
    cell: Arc<IndexCell>,
    /// Looks up the addresses of load balancer ingress hostnames.
    forward: Option<Arc<Forwarder>>,
}

impl Plugin for K8sExternal {
    fn kind(&self) -> Kind {
        Kind::K8sExternal
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let qname = query.name();
        let Some(zone) = self.zones.iter().find(|z| z.zone_of(qname)) else {
            return Flow::Next;
        };
        let index = self.cell.load();
        let found = lookup::answer(&index, &self.options, zone, qname, query.qtype());
        if found.rcode == ResponseCode::NXDomain && self.falls_through(qname) {
            return Flow::Next;
        }
        let sections = Sections {
            rcode: found.rcode,
            authoritative: true,
            recursion_available: self.forward.is_some(),
            answers: found.answers,
            authorities: found.authorities,
            additionals: found.additionals,
            truncated: false,
            edns_options: Vec::new(),
        };
        match (found.chase, &self.forward) {
            (Some(target), Some(forward)) => {
                Flow::Upstream(crate::plugin::kubernetes::chase(forward.clone(), query, sections, target))
            }
            _ => Flow::Answer(Answer::new(sections)),
        }
    }
}

impl K8sExternal {
    fn falls_through(&self, qname: &Name) -> bool {
        self.options
            .fallthrough
            .as_ref()
            .is_some_and(|z| z.is_empty() || z.iter().any(|z| z.zone_of(qname)))
    }
}

