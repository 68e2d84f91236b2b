//! Names in a `multicluster` zone (the Multi-Cluster Services API), as current CoreDNS answers
//! them, from the ServiceImports instead of the Services:
//! * `SVC.NS.svc.ZONE`: A/AAAA are a ClusterSetIP import's IPs, or a headless import's ready
//!   endpoints (of the EndpointSlices labelled with its name); SRV per port, targets
//!   `SVC.NS.svc.ZONE`, or `HOSTNAME.CLUSTER.SVC.NS.svc.ZONE` per endpoint of a headless import.
//! * `HOSTNAME.CLUSTER.SVC.NS.svc.ZONE`: the endpoint HOSTNAME (its hostname, else its dashed
//!   IP) of cluster CLUSTER; `HOSTNAME.SVC.NS.svc.ZONE`: that endpoint in any cluster.
//! * `_PORT._PROTO.SVC.NS.svc.ZONE` (a label starting with `_` tells it from an endpoint name):
//!   SRV of that port, A/AAAA as the service name.
//!
//! An existing namespace without the import, a headless import without ready endpoints, and
//! unknown names are NXDOMAIN; `NS.svc.ZONE` and other types are NODATA.

use std::borrow::Cow;
use std::net::IpAddr;

use hickory_proto::rr::RecordType;

use super::{lower, records, Index, NoData, NxDomain, Outcome, Query};
use crate::cluster::model::Port;
use crate::plugin::kubernetes::index::multicluster::ImportEntry;
use crate::plugin::kubernetes::index::EntryKind;

impl Index {
    /// `r`: the labels left of `svc`.
    pub(super) fn multicluster(&self, q: &Query<'_>, r: &[&[u8]]) -> Outcome {
        let m = r.len();
        if m == 0 {
            return NoData;
        }
        let ns = lower(r[m - 1]);
        if !self.namespaces.contains_key(ns.as_str()) {
            return NxDomain;
        }
        if m == 1 {
            return NoData;
        }
        let import = self
            .imports
            .get(ns.as_str())
            .and_then(|n| n.get(lower(r[m - 2]).as_str()));
        let Some(import) = import else {
            return NxDomain;
        };
        let svc = &import.entry;
        if matches!(svc.kind, EntryKind::Headless) && svc.endpoints().next().is_none() {
            return NxDomain;
        }
        match m {
            2 => match q.qtype {
                RecordType::SRV => self.import_srv(q, import, None),
                qtype => records(self.service_addresses(q.qname, qtype, svc)),
            },
            3 => self.import_endpoint(q, import, r[0], None),
            4 if r[0].starts_with(b"_") || r[1].starts_with(b"_") => {
                let strip = |l: &[u8]| lower(l.strip_prefix(b"_").unwrap_or(l));
                let selector = (strip(r[0]), strip(r[1]));
                let matches = |p: &Port| port_matches(p, &selector);
                let exists = match svc.kind {
                    EntryKind::Headless => svc.groups.iter().any(|g| g.ports.iter().any(matches)),
                    _ => svc.ports.iter().any(matches),
                };
                if !exists {
                    return NxDomain;
                }
                match q.qtype {
                    RecordType::SRV => self.import_srv(q, import, Some(&selector)),
                    qtype => records(self.service_addresses(q.qname, qtype, svc)),
                }
            }
            4 => self.import_endpoint(q, import, r[0], Some(r[1])),
            _ => NxDomain,
        }
    }

    /// `HOSTNAME[.CLUSTER].SVC.NS.svc.ZONE`.
    fn import_endpoint(
        &self,
        q: &Query<'_>,
        import: &ImportEntry,
        label: &[u8],
        cluster: Option<&[u8]>,
    ) -> Outcome {
        let label = lower(label);
        let cluster = cluster.map(lower);
        let mut ips: Vec<IpAddr> = Vec::new();
        for (group, group_cluster) in import.entry.groups.iter().zip(import.clusters.iter()) {
            if cluster.as_deref().is_some_and(|c| c != &**group_cluster) {
                continue;
            }
            for ep in group.endpoints().filter(|ep| ep.label() == label.as_str()) {
                if !ips.contains(&ep.ip) {
                    ips.push(ep.ip);
                }
            }
        }
        if ips.is_empty() {
            return NxDomain;
        }
        records(self.addresses(q.qname, q.qtype, ips.into_iter()))
    }

    /// SRV of an import: every port, or the `(port, proto)` pair.
    fn import_srv(
        &self,
        q: &Query<'_>,
        import: &ImportEntry,
        selector: Option<&(String, String)>,
    ) -> Outcome {
        let svc = &import.entry;
        let wanted = |p: &Port| selector.is_none_or(|s| port_matches(p, s));
        let mut entries: Vec<(Vec<Cow<'_, str>>, u16, IpAddr)> = Vec::new();
        match &svc.kind {
            EntryKind::ClusterIp(ips) => {
                for port in svc.ports.iter().filter(|p| wanted(p)) {
                    for ip in ips {
                        let labels = vec![(*svc.name).into(), (*svc.namespace).into(), "svc".into()];
                        entries.push((labels, port.port, *ip));
                    }
                }
            }
            EntryKind::Headless => {
                for (group, cluster) in svc.groups.iter().zip(import.clusters.iter()) {
                    for port in group.ports.iter().filter(|p| wanted(p)) {
                        for ep in group.endpoints() {
                            let labels = vec![
                                ep.label(),
                                (**cluster).into(),
                                (*svc.name).into(),
                                (*svc.namespace).into(),
                                "svc".into(),
                            ];
                            entries.push((labels, port.port, ep.ip));
                        }
                    }
                }
            }
            EntryKind::ExternalName(_) => return NoData,
        }
        self.srv_records(q, entries)
    }
}

fn port_matches(p: &Port, (name, proto): &(String, String)) -> bool {
    !p.name.is_empty() && p.name.eq_ignore_ascii_case(name) && p.protocol.eq_ignore_ascii_case(proto)
}

#[cfg(test)]
mod tests;
