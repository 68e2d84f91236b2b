//! Answering a query from an [`Index`]: the Kubernetes DNS specification, with CoreDNS's choices
//! where the specification is silent (see `shared/docs/spec-checklist.md`).
//!
//! The query name is split once into the labels left of the matched zone; the zone keeps the
//! query's spelling, so owners echo the query and targets keep its zone spelling. Answers are
//! hickory-proto records; the server encodes them.

use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::index::{endpoint_name, EndpointAddr, EntryKind, Index, ServiceEntry};
use super::PodMode;
use crate::dns::names::{arpa_ip, pod_label_ip};

/// The schema version of the Kubernetes DNS specification Cairn implements.
pub const DNS_SCHEMA_VERSION: &str = "1.1.0";
/// TTL of the `dns-version` TXT record (fixed, as in CoreDNS).
const DNS_VERSION_TTL: u32 = 28800;
/// CNAME chains inside the cluster zone are followed at most this far.
const MAX_CHASE: usize = 10;

/// A complete answer: rcode and sections. Every answer from the cluster zone is authoritative.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
    /// An A/AAAA answer that ends in a CNAME to a name outside this index's zones (an
    /// ExternalName): the target's records are the upstream's to give.
    pub chase: Option<Name>,
}

/// The outcome of a lookup before the SOA is attached.
enum Outcome {
    Records {
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    NoData,
    NxDomain,
    Refused,
}

use Outcome::{NoData, NxDomain};

mod multicluster;
mod zonal;

fn records(answers: Vec<Record>) -> Outcome {
    if answers.is_empty() {
        NoData
    } else {
        Outcome::Records {
            answers,
            additionals: Vec::new(),
        }
    }
}

/// One query being answered: the name split around its zone.
struct Query<'a> {
    qname: &'a Name,
    qtype: RecordType,
    /// Labels left of the zone, leftmost first.
    rest: Vec<&'a [u8]>,
    /// The zone as spelled in the query.
    zone: Name,
    reverse: bool,
    /// The zone is one of the `multicluster` zones.
    multicluster: bool,
}

fn is(label: &[u8], word: &str) -> bool {
    label.eq_ignore_ascii_case(word.as_bytes())
}

fn lower(label: &[u8]) -> String {
    String::from_utf8_lossy(label).to_ascii_lowercase()
}

impl Index {
    /// Whether `qname` is inside one of this index's zones.
    pub fn serves(&self, qname: &Name) -> bool {
        self.options.zones.iter().any(|z| z.name.zone_of(qname))
    }

    /// Answers `qname`/`qtype`, or `None` when the name is outside this index's zones.
    pub fn answer(&self, qname: &Name, qtype: RecordType) -> Option<Answer> {
        let query = self.split(qname, qtype)?;
        let outcome = if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            Outcome::Refused
        } else {
            self.lookup(&query, 0)
        };
        let mut answer = self.finish(&query, outcome);
        if matches!(qtype, RecordType::A | RecordType::AAAA) {
            if let Some(RData::CNAME(CNAME(target))) = answer.answers.last().map(|r| &r.data) {
                if !self.serves(target) {
                    answer.chase = Some(target.clone());
                }
            }
        }
        Some(answer)
    }

    /// Splits `qname` around the longest zone of this index that contains it.
    fn split<'a>(&self, qname: &'a Name, qtype: RecordType) -> Option<Query<'a>> {
        let zone = self.options.zones.iter().find(|z| z.name.zone_of(qname))?;
        let labels: Vec<&[u8]> = qname.iter().collect();
        let zone_len = usize::from(zone.name.num_labels());
        let mut zone_spelled = qname.trim_to(zone_len);
        zone_spelled.set_fqdn(true);
        Some(Query {
            qname,
            qtype,
            rest: labels[..labels.len() - zone_len].to_vec(),
            zone: zone_spelled,
            reverse: zone.reverse,
            multicluster: self.options.multicluster.contains(&zone.name),
        })
    }

    fn finish(&self, q: &Query<'_>, outcome: Outcome) -> Answer {
        match outcome {
            Outcome::Records {
                answers,
                additionals,
            } => Answer {
                rcode: ResponseCode::NoError,
                answers,
                authorities: Vec::new(),
                additionals,
                chase: None,
            },
            Outcome::Refused => Answer {
                rcode: ResponseCode::Refused,
                ..Answer::default()
            },
            NoData | NxDomain => {
                let rcode = match (&outcome, self.synced) {
                    (NoData, _) => ResponseCode::NoError,
                    (_, true) => ResponseCode::NXDomain,
                    (_, false) => ResponseCode::ServFail,
                };
                Answer {
                    rcode,
                    answers: Vec::new(),
                    authorities: vec![self.soa(&q.zone)],
                    additionals: Vec::new(),
                    chase: None,
                }
            }
        }
    }

    fn lookup(&self, q: &Query<'_>, depth: usize) -> Outcome {
        if q.rest.is_empty() {
            return self.apex(q);
        }
        if q.reverse {
            return self.reverse(q);
        }
        if q.qtype == RecordType::SOA {
            return NoData;
        }
        let n = q.rest.len();
        let last = q.rest[n - 1];
        if n == 1 && is(last, "dns-version") {
            return if q.qtype == RecordType::TXT {
                let txt = TXT::new(vec![DNS_SCHEMA_VERSION.to_string()]);
                records(vec![Record::from_rdata(
                    q.qname.clone(),
                    DNS_VERSION_TTL,
                    RData::TXT(txt),
                )])
            } else {
                NxDomain
            };
        }
        if n == 2 && is(q.rest[0], "ns") && is(q.rest[1], "dns") {
            let ips = self.name_server_addresses();
            return records(self.addresses(q.qname, q.qtype, ips.into_iter()));
        }
        if q.multicluster {
            if is(last, "svc") {
                self.multicluster(q, &q.rest[..n - 1])
            } else {
                NxDomain
            }
        } else if is(last, "svc") {
            self.svc_branch(q, &q.rest[..n - 1], depth)
        } else if is(last, "pod") {
            self.pod_branch(q, &q.rest[..n - 1])
        } else {
            NxDomain
        }
    }

    /// The zone apex: SOA, NS (with glue), NODATA for the rest.
    fn apex(&self, q: &Query<'_>) -> Outcome {
        match q.qtype {
            RecordType::SOA => records(vec![self.soa(&q.zone)]),
            RecordType::NS => {
                let mut answers = Vec::new();
                let mut additionals = Vec::new();
                let zone = self.glue_zone(q);
                for ns in &self.nameservers {
                    let target = self.target(ns.labels.iter().map(|l| l.as_ref()), &zone);
                    answers.push(Record::from_rdata(
                        q.qname.clone(),
                        self.options.ttl,
                        RData::NS(NS(target.clone())),
                    ));
                    additionals.extend(self.addresses(
                        &target,
                        RecordType::ANY,
                        ns.glue.iter().copied(),
                    ));
                }
                if answers.is_empty() {
                    NoData
                } else {
                    Outcome::Records {
                        answers,
                        additionals,
                    }
                }
            }
            _ => NoData,
        }
    }

    /// The zone NS targets live in: the query's zone, or the first forward zone for a reverse
    /// zone's apex.
    fn glue_zone(&self, q: &Query<'_>) -> Name {
        if q.reverse {
            self.options
                .forward_zone
                .clone()
                .unwrap_or_else(|| q.zone.clone())
        } else {
            q.zone.clone()
        }
    }

    fn svc_branch(&self, q: &Query<'_>, r: &[&[u8]], depth: usize) -> Outcome {
        let m = r.len();
        if m == 0 {
            return NoData;
        }
        let Some(ns) = self.namespaces.get(lower(r[m - 1]).as_str()) else {
            return NxDomain;
        };
        if m == 1 {
            return NoData;
        }
        let Some(svc) = ns.services.get(lower(r[m - 2]).as_str()) else {
            return NxDomain;
        };
        if matches!(svc.kind, EntryKind::Headless) && svc.endpoints().next().is_none() {
            return NxDomain;
        }
        match m {
            2 => self.service(q, svc, depth),
            _ if self.options.zonal && m >= 4 && is(r[m - 3], "_zone") => {
                self.zonal(q, svc, &r[..m - 3])
            }
            _ if matches!(svc.kind, EntryKind::ExternalName(_)) => NxDomain,
            3 => self.endpoint(q, svc, r[0]),
            4 => self.port(q, svc, r[0], r[1]),
            _ => NxDomain,
        }
    }

    /// `<svc>.<ns>.svc.<zone>`.
    fn service(&self, q: &Query<'_>, svc: &ServiceEntry, depth: usize) -> Outcome {
        match (&svc.kind, q.qtype) {
            (EntryKind::ExternalName(None), _) | (EntryKind::ExternalName(_), RecordType::SRV) => {
                NoData
            }
            (EntryKind::ExternalName(Some(target)), qtype) => {
                let mut answers = vec![Record::from_rdata(
                    q.qname.clone(),
                    self.options.ttl,
                    RData::CNAME(CNAME((**target).clone())),
                )];
                if matches!(qtype, RecordType::A | RecordType::AAAA) {
                    answers.extend(self.chase(target, qtype, depth));
                }
                records(answers)
            }
            (_, RecordType::SRV) => self.srv(q, svc, None, &|_| true),
            (_, qtype) => records(self.service_addresses(q.qname, qtype, svc)),
        }
    }

    /// Follows an in-zone CNAME target; out-of-zone targets are left to the client (or, later, to
    /// the forwarder).
    fn chase(&self, target: &Name, qtype: RecordType, depth: usize) -> Vec<Record> {
        if depth >= MAX_CHASE {
            return Vec::new();
        }
        let Some(query) = self.split(target, qtype) else {
            return Vec::new();
        };
        match self.lookup(&query, depth + 1) {
            Outcome::Records { answers, .. } => answers,
            _ => Vec::new(),
        }
    }

    /// A/AAAA of a service name: ClusterIPs, or the ready endpoints of a headless service.
    fn service_addresses(
        &self,
        owner: &Name,
        qtype: RecordType,
        svc: &ServiceEntry,
    ) -> Vec<Record> {
        match &svc.kind {
            EntryKind::ClusterIp(ips) => self.addresses(owner, qtype, ips.iter().copied()),
            EntryKind::Headless => {
                let mut ips: Vec<IpAddr> = Vec::new();
                for ep in svc.endpoints() {
                    if !ips.contains(&ep.ip) {
                        ips.push(ep.ip);
                    }
                }
                self.addresses(owner, qtype, ips.into_iter())
            }
            EntryKind::ExternalName(_) => Vec::new(),
        }
    }

    /// `<endpoint>.<svc>.<ns>.svc.<zone>`.
    fn endpoint(&self, q: &Query<'_>, svc: &ServiceEntry, label: &[u8]) -> Outcome {
        let label = lower(label);
        let mut ips: Vec<IpAddr> = Vec::new();
        for ep in svc.endpoints().filter(|ep| ep.label() == label.as_str()) {
            if !ips.contains(&ep.ip) {
                ips.push(ep.ip);
            }
        }
        if ips.is_empty() {
            return NxDomain;
        }
        records(self.addresses(q.qname, q.qtype, ips.into_iter()))
    }

    /// `_<port>._<proto>.<svc>.<ns>.svc.<zone>` (underscores optional, as in CoreDNS).
    fn port(&self, q: &Query<'_>, svc: &ServiceEntry, port: &[u8], proto: &[u8]) -> Outcome {
        let strip = |l: &[u8]| lower(l.strip_prefix(b"_").unwrap_or(l));
        let selector = (strip(port), strip(proto));
        let matches = |p: &crate::cluster::model::Port| {
            !p.name.is_empty()
                && p.name.eq_ignore_ascii_case(&selector.0)
                && p.protocol.eq_ignore_ascii_case(&selector.1)
        };
        let exists = match svc.kind {
            EntryKind::Headless => svc.groups.iter().any(|g| g.ports.iter().any(matches)),
            _ => svc.ports.iter().any(matches),
        };
        if !exists {
            return NxDomain;
        }
        match q.qtype {
            RecordType::SRV => self.srv(q, svc, Some(&selector), &|_| true),
            qtype => records(self.service_addresses(q.qname, qtype, svc)),
        }
    }

    /// SRV records of a service: all ports for a bare-name query, or the `(port, proto)` pair.
    /// Priority 0; weight 100 / number of backend entries (min 1) counted before de-duplication
    /// on (target, port); ADDITIONAL carries each target's addresses.
    fn srv(
        &self,
        q: &Query<'_>,
        svc: &ServiceEntry,
        selector: Option<&(String, String)>,
        keep: &dyn Fn(&EndpointAddr<'_>) -> bool,
    ) -> Outcome {
        let wanted = |p: &crate::cluster::model::Port| match selector {
            None => true,
            Some((name, proto)) => {
                !p.name.is_empty()
                    && p.name.eq_ignore_ascii_case(name)
                    && p.protocol.eq_ignore_ascii_case(proto)
            }
        };
        // (target labels below the zone, port, address)
        let mut entries: Vec<(Vec<std::borrow::Cow<'_, str>>, u16, IpAddr)> = Vec::new();
        match &svc.kind {
            EntryKind::ClusterIp(ips) => {
                for port in svc.ports.iter().filter(|p| wanted(p)) {
                    for ip in ips {
                        let labels =
                            vec![(*svc.name).into(), (*svc.namespace).into(), "svc".into()];
                        entries.push((labels, port.port, *ip));
                    }
                }
            }
            EntryKind::Headless => {
                for group in &svc.groups {
                    for port in group.ports.iter().filter(|p| wanted(p)) {
                        for ep in group.endpoints().filter(|ep| keep(ep)) {
                            let labels = vec![
                                ep.label(),
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

    /// SRV records for (target labels below the zone, port, address) entries, in order.
    fn srv_records(
        &self,
        q: &Query<'_>,
        entries: Vec<(Vec<std::borrow::Cow<'_, str>>, u16, IpAddr)>,
    ) -> Outcome {
        if entries.is_empty() {
            return NoData;
        }
        let weight = u16::try_from(100 / entries.len()).unwrap_or(1).max(1);
        let mut answers: Vec<Record> = Vec::new();
        let mut additionals: Vec<Record> = Vec::new();
        let mut seen_srv: Vec<(Name, u16)> = Vec::new();
        let mut seen_glue: Vec<(Name, IpAddr)> = Vec::new();
        for (labels, port, ip) in entries {
            let target = self.target(labels.iter().map(|l| l.as_ref()), &q.zone);
            if !seen_srv.iter().any(|(t, p)| *p == port && t == &target) {
                seen_srv.push((target.clone(), port));
                answers.push(Record::from_rdata(
                    q.qname.clone(),
                    self.options.ttl,
                    RData::SRV(SRV::new(0, weight, port, target.clone())),
                ));
            }
            if !seen_glue.iter().any(|(t, i)| *i == ip && t == &target) {
                seen_glue.push((target.clone(), ip));
                additionals.extend(self.addresses(&target, RecordType::ANY, std::iter::once(ip)));
            }
        }
        Outcome::Records {
            answers,
            additionals,
        }
    }

    fn pod_branch(&self, q: &Query<'_>, r: &[&[u8]]) -> Outcome {
        let m = r.len();
        if m == 0 {
            return NoData;
        }
        let ns = lower(r[m - 1]);
        if !self.namespaces.contains_key(ns.as_str()) || self.options.pods == PodMode::Disabled {
            return NxDomain;
        }
        if m == 1 {
            return NoData;
        }
        if m > 2 {
            return NxDomain;
        }
        let Some(ip) = pod_label_ip(r[0]) else {
            return NxDomain;
        };
        if self.options.pods == PodMode::Verified
            && self.pod_ips.get(&(ns.into_boxed_str(), ip)).is_none()
        {
            return NxDomain;
        }
        records(self.addresses(q.qname, q.qtype, std::iter::once(ip)))
    }

    /// A name inside a reverse zone: PTR to the ClusterIP's service (first match wins), else to
    /// every endpoint with that address.
    fn reverse(&self, q: &Query<'_>) -> Outcome {
        if q.qtype != RecordType::PTR {
            return NxDomain;
        }
        let labels: Vec<&[u8]> = q.qname.iter().collect();
        let Some(ip) = arpa_ip(&labels) else {
            return NxDomain;
        };
        let (Some(entry), Some(zone)) = (self.reverse.get(&ip), self.options.forward_zone.as_ref())
        else {
            return NxDomain;
        };
        let ptr = |labels: Vec<&str>| {
            Record::from_rdata(
                q.qname.clone(),
                self.options.ttl,
                RData::PTR(PTR(self.target(labels.into_iter(), zone))),
            )
        };
        let answers: Vec<Record> = match entry.owners(ip).next() {
            Some(svc) => vec![ptr(vec![&svc.name, &svc.namespace, "svc"])],
            None => {
                let mut answers = Vec::new();
                for svc in entry.with_endpoints(ip) {
                    // Each endpoint name once, in name order.
                    let mut names: Vec<_> = svc
                        .endpoints()
                        .filter(|ep| ep.ip == ip)
                        .map(|ep| endpoint_name(ep.label, ip))
                        .collect();
                    names.sort_unstable();
                    names.dedup();
                    for name in names {
                        answers.push(ptr(vec![&name, &svc.name, &svc.namespace, "svc"]));
                    }
                }
                answers
            }
        };
        if answers.is_empty() {
            NxDomain
        } else {
            records(answers)
        }
    }

    /// A and/or AAAA records for `owner`: `qtype` A or AAAA selects a family, ANY gives both,
    /// any other type gives none.
    fn addresses(
        &self,
        owner: &Name,
        qtype: RecordType,
        ips: impl Iterator<Item = IpAddr>,
    ) -> Vec<Record> {
        ips.filter_map(|ip| {
            let rdata = match (ip, qtype) {
                (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => RData::A(A(v4)),
                (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(v6)),
                _ => return None,
            };
            Some(Record::from_rdata(owner.clone(), self.options.ttl, rdata))
        })
        .collect()
    }

    /// `labels` (lower-case object names) followed by `zone` (as spelled in the query).
    fn target<'l>(&self, labels: impl Iterator<Item = &'l str>, zone: &Name) -> Name {
        let mut name = Name::root();
        for label in labels {
            name = match name.append_label(label) {
                Ok(n) => n,
                Err(_) => return zone.clone(),
            };
        }
        let mut name = name.append_name(zone).unwrap_or_else(|_| zone.clone());
        name.set_fqdn(true);
        name
    }

    /// The zone's SOA: `ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800 86400 <ttl>`, with the
    /// record TTL capped at 300.
    fn soa(&self, zone: &Name) -> Record {
        let prefixed = |label: &str| {
            Name::root()
                .append_label(label)
                .and_then(|n| n.append_name(zone))
                .unwrap_or_else(|_| zone.clone())
        };
        let mut mname = prefixed("dns");
        mname = mname.prepend_label("ns").unwrap_or(mname);
        let rname = prefixed("hostmaster");
        let ttl = self.options.ttl;
        Record::from_rdata(
            zone.clone(),
            ttl.min(300),
            RData::SOA(SOA::new(mname, rname, self.serial, 7200, 1800, 86400, ttl)),
        )
    }
}
