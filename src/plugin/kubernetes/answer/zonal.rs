//! `zonal` names of headless Services, as current CoreDNS answers them:
//! `TOPOLOGY-ZONE.pin._zone.SVC.NS.svc.ZONE` (only the endpoints whose EndpointSlice `zone` is
//! TOPOLOGY-ZONE; none is NODATA) and `TOPOLOGY-ZONE.prefer._zone...` (those endpoints, or every
//! endpoint when none is in the zone). The topology zone is every label left of the directive,
//! joined with dots (zone names may hold dots). A/AAAA and SRV are answered (SRV targets and
//! glue filtered alike); other types are NODATA; ClusterIP and ExternalName Services, and any
//! other directive, NXDOMAIN.

use std::net::IpAddr;

use hickory_proto::rr::RecordType;

use super::{is, lower, records, EndpointAddr, EntryKind, Index, NoData, NxDomain, Outcome, Query, ServiceEntry};

impl Index {
    /// `rest`: the labels left of `_zone` (the topology zone's, then the directive).
    pub(super) fn zonal(&self, q: &Query<'_>, svc: &ServiceEntry, rest: &[&[u8]]) -> Outcome {
        let Some((directive, zone_labels)) = rest.split_last() else {
            return NxDomain;
        };
        let pin = is(directive, "pin");
        if zone_labels.is_empty() || !(pin || is(directive, "prefer")) {
            return NxDomain;
        }
        if !matches!(svc.kind, EntryKind::Headless) {
            return NxDomain;
        }
        let zone: Vec<String> = zone_labels.iter().map(|l| lower(l)).collect();
        let zone = zone.join(".");
        let in_zone = |ep: &EndpointAddr<'_>| ep.zone.is_some_and(|z| z.eq_ignore_ascii_case(&zone));
        let any_in_zone = svc.endpoints().any(|ep| in_zone(&ep));
        if pin && !any_in_zone {
            return NoData;
        }
        // `prefer` with no endpoint in the zone widens to all of them.
        let keep = |ep: &EndpointAddr<'_>| !any_in_zone || in_zone(ep);
        match q.qtype {
            RecordType::A | RecordType::AAAA => {
                let mut ips: Vec<IpAddr> = Vec::new();
                for ep in svc.endpoints().filter(|ep| keep(ep)) {
                    if !ips.contains(&ep.ip) {
                        ips.push(ep.ip);
                    }
                }
                records(self.addresses(q.qname, q.qtype, ips.into_iter()))
            }
            RecordType::SRV => self.srv(q, svc, None, &keep),
            _ => NoData,
        }
    }
}

#[cfg(test)]
mod tests;
