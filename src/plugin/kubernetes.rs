//! The `kubernetes` plugin: answers the cluster zones as the Kubernetes DNS specification says, NXDOMAIN passed on where
//! `fallthrough` covers the name, and ExternalName targets outside the cluster chased through
//! the block's `forward`. Its options also say how the source watches the API (`endpoint`,
//! `kubeconfig`, `namespaces`, `labels`, `snapshot`, …): `run/` reads them. Doc page:
//! `README.md` in its folder.
//!
//! Its engine: the cluster state a source fills ([`crate::cluster::model`]) becomes an immutable
//! [`index`] per block, swapped in atomically by [`publish`]; [`answer`] reads it.

pub mod answer;
pub mod index;
pub mod publish;
mod selector;
mod setup;
mod shards;
mod xfr;

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;

pub use selector::{LabelSelector, Requirement};
pub use setup::{Kubeconfig, KubernetesConfig, PodMode, TlsFiles};

use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::forward::Forwarder;
use crate::plugin::kubernetes::publish::IndexCell;
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query};

impl Configure for KubernetesConfig {
    const NAME: &'static str = "kubernetes";

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        setup::parse(d, block.zones, &d.file)
    }

    fn summary(&self) -> String {
        crate::plugin::describe::zones(&self.zones)
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let own = env.own_ips.clone();
        let cell = (env.index_cells)(self, own)?;
        // `k8s_external` answers from the same index, `autopath @kubernetes` finds client pods
        // in it, `transfer` lists the zone from it: all before this plugin in the order.
        env.provide(cell.clone());
        let fallthrough = self.fallthrough.clone();
        Ok(Some(Arc::new(Kubernetes {
            cell,
            fallthrough,
            forward: env.provided::<Arc<Forwarder>>(),
        })))
    }
}

/// One block's `kubernetes` plugin.
pub struct Kubernetes {
    cell: Arc<IndexCell>,
    /// `fallthrough [ZONES]`: NXDOMAIN for these names goes on down the chain (empty: every
    /// name).
    fallthrough: Option<Vec<Name>>,
    /// Chases ExternalName CNAMEs that leave the cluster zone.
    forward: Option<Arc<Forwarder>>,
}

impl Plugin for Kubernetes {
    fn kind(&self) -> Kind {
        Kind::Kubernetes
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let qname = query.name();
        let Some(found) = self.cell.load().answer(qname, query.qtype()) else {
            return Flow::Next;
        };
        let falls_through = found.rcode == ResponseCode::NXDomain
            && self
                .fallthrough
                .as_ref()
                .is_some_and(|z| z.is_empty() || z.iter().any(|z| z.zone_of(qname)));
        if falls_through {
            return Flow::Next;
        }
        let sections = Sections {
            rcode: found.rcode,
            authoritative: found.rcode != ResponseCode::Refused,
            recursion_available: self.forward.is_some(),
            answers: found.answers,
            authorities: found.authorities,
            additionals: found.additionals,
            truncated: false,
            edns_options: Vec::new(),
        };
        match (found.chase, &self.forward) {
            (Some(target), Some(forward)) => {
                Flow::Upstream(chase(forward.clone(), query, sections, target))
            }
            _ => Flow::Answer(Answer::new(sections)),
        }
    }
}

/// Appends the upstream's records for `target` (an ExternalName outside the cluster zone) to
/// the cluster's CNAME answer. When the upstream fails the CNAME goes alone, not cached, so the
/// next query chases again. `k8s_external` chases ingress hostnames with it too.
pub fn chase(
    forward: Arc<Forwarder>,
    query: &Query,
    mut answer: Sections,
    target: Name,
) -> crate::plugin::Job {
    let mut upstream = query.request.message.clone();
    if let Some(q) = upstream.queries.first_mut() {
        q.set_name(target);
    }
    let transport = query.transport;
    Box::pin(async move {
        match forward.exchange_via(&upstream, transport).await {
            Ok(response) if response.metadata.response_code != ResponseCode::ServFail => {
                answer.answers.extend(response.answers.iter().cloned());
                answer.truncated |= response.metadata.truncation;
                Answer::new(answer)
            }
            _ => {
                let mut partial = Answer::new(answer);
                partial.cacheable = false;
                partial
            }
        }
    })
}
