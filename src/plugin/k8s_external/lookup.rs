//! Answering one `k8s_external` query from the `kubernetes` plugin's published [`Index`]: the
//! zone apex (SOA, NS and its glue), the `<apex>` subdomain (`ns1.<apex>.<zone>`), and
//! `[<endpoint>|_<port>._<proto>].<svc>.<ns>.<zone>` from the Services' external addresses (or,
//! with `headless`, a headless Service's endpoints), as CoreDNS's `k8s_external` answers them.

use std::borrow::Cow;
use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::K8sExternalConfig;
use crate::cluster::model::{ExternalAddress, Port};
use crate::plugin::kubernetes::answer::Answer;
use crate::plugin::kubernetes::index::{EntryKind, Index, ServiceEntry};

/// What a name holds before the SOA is attached.
enum Outcome {
    Records {
        answers: Vec<Record>,
        additionals: Vec<Record>,
        chase: Option<Name>,
    },
    NoData,
    NxDomain,
}

fn records(answers: Vec<Record>) -> Outcome {
    if answers.is_empty() {
        return Outcome::NoData;
    }
    Outcome::Records {
        answers,
        additionals: Vec::new(),
        chase: None,
    }
}

/// Where a matching backend is reached: an address, or an ingress hostname (a CNAME).
#[derive(Clone, Copy)]
enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// One (backend, port) pair a Service name matches; `port` is `None` for a Service or
/// endpoint group without ports (addresses, but no SRV).
struct Entry<'a> {
    host: Host<'a>,
    /// The SRV target's labels below the zone: `<svc>.<ns>` or `<endpoint>.<svc>.<ns>`.
    target: Vec<Cow<'a, str>>,
    port: Option<u16>,
}

/// The query and what answers it.
struct Cx<'a> {
    index: &'a Index,
    options: &'a K8sExternalConfig,
    /// The configured zone the name is in (records name it as configured, like CoreDNS).
    zone: &'a Name,
    qname: &'a Name,
    qtype: RecordType,
}

/// Answers `qname`/`qtype`, which is inside `zone` (one of `options.zones`).
pub fn answer(
    index: &Index,
    options: &K8sExternalConfig,
    zone: &Name,
    qname: &Name,
    qtype: RecordType,
) -> Answer {
    let labels: Vec<&[u8]> = qname.iter().collect();
    let rest = &labels[..labels.len().saturating_sub(usize::from(zone.num_labels()))];
    let cx = Cx {
        index,
        options,
        zone,
        qname,
        qtype,
    };
    let outcome = if rest.is_empty() {
        cx.apex()
    } else if let Some(below) = below_apex(rest, &options.apex) {
        cx.sub_apex(below)
    } else {
        cx.service(rest)
    };
    cx.finish(outcome)
}

/// The labels of `rest` left of the apex name, when `rest` ends in it.
fn below_apex<'r, 'l>(rest: &'r [&'l [u8]], apex: &Name) -> Option<&'r [&'l [u8]]> {
    let apex: Vec<&[u8]> = apex.iter().collect();
    let at = rest.len().checked_sub(apex.len())?;
    let same = rest[at..]
        .iter()
        .zip(&apex)
        .all(|(a, b)| a.eq_ignore_ascii_case(b));
    same.then_some(&rest[..at])
}

fn lower(label: &[u8]) -> String {
    String::from_utf8_lossy(label).to_ascii_lowercase()
}

/// A label without its leading underscore (`_http` -> `http`), lower-case.
fn strip(label: &[u8]) -> String {
    lower(label.strip_prefix(b"_").unwrap_or(label))
}

impl Cx<'_> {
    fn finish(&self, outcome: Outcome) -> Answer {
        match outcome {
            Outcome::Records {
                answers,
                additionals,
                chase,
            } => Answer {
                rcode: ResponseCode::NoError,
                answers,
                authorities: Vec::new(),
                additionals,
                chase,
            },
            Outcome::NoData | Outcome::NxDomain => {
                let rcode = match (&outcome, self.index.synced) {
                    (Outcome::NoData, _) => ResponseCode::NoError,
                    (_, true) => ResponseCode::NXDomain,
                    (_, false) => ResponseCode::ServFail,
                };
                Answer {
                    rcode,
                    authorities: vec![self.soa()],
                    ..Answer::default()
                }
            }
        }
    }

    /// `labels` followed by `base`, fully qualified; `base` alone if that is not a name.
    fn name(&self, labels: &[&[u8]], base: &Name) -> Name {
        let mut name = Name::root();
        for label in labels {
            name = match name.append_label(*label) {
                Ok(n) => n,
                Err(_) => return base.clone(),
            };
        }
        let mut name = name.append_name(base).unwrap_or_else(|_| base.clone());
        name.set_fqdn(true);
        name
    }

    /// `<label>.<apex>.<zone>`.
    fn in_apex(&self, label: &str) -> Name {
        let apex = self.name(&self.options.apex.iter().collect::<Vec<_>>(), self.zone);
        self.name(&[label.as_bytes()], &apex)
    }

    fn soa(&self) -> Record {
        let ttl = self.options.ttl;
        let soa = SOA::new(
            self.in_apex("ns1"),
            self.in_apex("hostmaster"),
            self.index.serial,
            7200,
            1800,
            86400,
            ttl,
        );
        Record::from_rdata(self.zone.clone(), ttl, RData::SOA(soa))
    }

    fn addresses(&self, owner: &Name, qtype: RecordType, ips: &[IpAddr]) -> Vec<Record> {
        ips.iter()
            .filter_map(|ip| {
                let rdata = match (ip, qtype) {
                    (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => RData::A(A(*v4)),
                    (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(*v6)),
                    _ => return None,
                };
                Some(Record::from_rdata(owner.clone(), self.options.ttl, rdata))
            })
            .collect()
    }

    /// The name server's addresses: the external IPs of the Services whose endpoint is the
    /// server (with `headless`, a headless one's endpoint address), else the server's own.
    fn apex_addresses(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = Vec::new();
        for ns in &self.index.nameservers {
            let from = if self.options.headless && ns.headless {
                &ns.glue
            } else {
                &ns.external
            };
            for ip in from {
                if !ips.contains(ip) {
                    ips.push(*ip);
                }
            }
        }
        ips
    }

    /// The zone apex: SOA; NS `ns1.<apex>.<zone>` with its addresses as glue; NODATA else.
    fn apex(&self) -> Outcome {
        match self.qtype {
            RecordType::SOA => records(vec![self.soa()]),
            RecordType::NS => {
                let target = self.in_apex("ns1");
                let ns = RData::NS(NS(target.clone()));
                Outcome::Records {
                    answers: vec![Record::from_rdata(self.zone.clone(), self.options.ttl, ns)],
                    additionals: self.addresses(&target, RecordType::ANY, &self.apex_addresses()),
                    chase: None,
                }
            }
            _ => Outcome::NoData,
        }
    }

    /// Names under `<apex>.<zone>`: the apex name itself is NODATA, `ns1` has the name
    /// server's addresses, anything else is NXDOMAIN.
    fn sub_apex(&self, below: &[&[u8]]) -> Outcome {
        match below {
            [] => Outcome::NoData,
            [label] if label.eq_ignore_ascii_case(b"ns1") => {
                records(self.addresses(self.qname, self.qtype, &self.apex_addresses()))
            }
            _ => Outcome::NxDomain,
        }
    }

    /// `<ns>.<zone>` (NODATA when the namespace is served) and the names of its Services.
    fn service(&self, rest: &[&[u8]]) -> Outcome {
        let n = rest.len();
        let Some(ns) = self.index.namespaces.get(lower(rest[n - 1]).as_str()) else {
            return Outcome::NxDomain;
        };
        if n == 1 {
            return Outcome::NoData;
        }
        let Some(svc) = ns.services.get(lower(rest[n - 2]).as_str()) else {
            return Outcome::NxDomain;
        };
        let (endpoint, selector) = match rest {
            [_, _] => (None, None),
            [endpoint, _, _] => (Some(strip(endpoint)), None),
            [port, proto, _, _] => (None, Some((strip(port), strip(proto)))),
            _ => return Outcome::NxDomain,
        };
        let entries = self.entries(svc, endpoint.as_deref(), selector.as_ref());
        if entries.is_empty() {
            return Outcome::NxDomain;
        }
        match self.qtype {
            RecordType::A | RecordType::AAAA => self.address_records(&entries),
            RecordType::SRV => self.srv(&entries),
            _ => Outcome::NoData,
        }
    }

    /// What the name matches: with `headless`, a headless Service without external addresses
    /// (or an endpoint name) gives its ready endpoints; otherwise the Service's external
    /// addresses. Each once per matching port.
    fn entries<'s>(
        &self,
        svc: &'s ServiceEntry,
        endpoint: Option<&str>,
        selector: Option<&(String, String)>,
    ) -> Vec<Entry<'s>> {
        // The ports that match the selector; a port-less list matches only no selector.
        let ports = |ports: &[Port]| -> Vec<Option<u16>> {
            if ports.is_empty() {
                return if selector.is_none() { vec![None] } else { vec![] };
            }
            ports
                .iter()
                .filter(|p| {
                    selector.is_none_or(|(name, proto)| {
                        p.name.eq_ignore_ascii_case(name) && p.protocol.eq_ignore_ascii_case(proto)
                    })
                })
                .map(|p| Some(p.port))
                .collect()
        };
        let mut out = Vec::new();
        let headless = matches!(svc.kind, EntryKind::Headless);
        if self.options.headless && svc.external.is_empty() && (headless || endpoint.is_some()) {
            for group in &svc.groups {
                let matching = ports(&group.ports[..]);
                for ep in group.endpoints() {
                    let label = ep.label();
                    if endpoint.is_some_and(|e| e != label) {
                        continue;
                    }
                    for port in &matching {
                        out.push(Entry {
                            host: Host::Ip(ep.ip),
                            target: vec![
                                label.clone(),
                                Cow::Borrowed(&*svc.name),
                                Cow::Borrowed(&*svc.namespace),
                            ],
                            port: *port,
                        });
                    }
                }
            }
        } else if endpoint.is_none() {
            let matching = ports(&svc.ports[..]);
            for address in svc.external.iter() {
                let host = match address {
                    ExternalAddress::Ip(ip) => Host::Ip(*ip),
                    ExternalAddress::Hostname(h) => Host::Name(h),
                };
                for port in &matching {
                    out.push(Entry {
                        host,
                        target: vec![Cow::Borrowed(&*svc.name), Cow::Borrowed(&*svc.namespace)],
                        port: *port,
                    });
                }
            }
        }
        out
    }

    /// A/AAAA: each address of the family once, then a CNAME per ingress hostname (the first
    /// is looked up upstream, when the block has `forward`).
    fn address_records(&self, entries: &[Entry<'_>]) -> Outcome {
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut targets: Vec<Name> = Vec::new();
        for entry in entries {
            match entry.host {
                Host::Ip(ip) if !ips.contains(&ip) => ips.push(ip),
                Host::Ip(_) => {}
                Host::Name(host) => {
                    if let Some(target) = hostname(host) {
                        if !targets.contains(&target) {
                            targets.push(target);
                        }
                    }
                }
            }
        }
        let mut answers = self.addresses(self.qname, self.qtype, &ips);
        for target in &targets {
            let cname = RData::CNAME(CNAME(target.clone()));
            answers.push(Record::from_rdata(
                self.qname.clone(),
                self.options.ttl,
                cname,
            ));
        }
        if answers.is_empty() {
            return Outcome::NoData;
        }
        Outcome::Records {
            answers,
            additionals: Vec::new(),
            chase: targets.into_iter().next(),
        }
    }

    /// SRV: priority 0, weight 100 / number of matches (at least 1), each (target, port) once;
    /// the additional section has each address target's address.
    fn srv(&self, entries: &[Entry<'_>]) -> Outcome {
        let weight = u16::try_from(100 / entries.len()).unwrap_or(1).max(1);
        let mut answers = Vec::new();
        let mut additionals = Vec::new();
        let mut seen_srv: Vec<(Name, u16)> = Vec::new();
        let mut seen_glue: Vec<(Name, IpAddr)> = Vec::new();
        for entry in entries {
            let Some(port) = entry.port else { continue };
            let target = match entry.host {
                Host::Name(host) => match hostname(host) {
                    Some(t) => t,
                    None => continue,
                },
                Host::Ip(_) => {
                    let labels: Vec<&[u8]> = entry.target.iter().map(|l| l.as_bytes()).collect();
                    self.name(&labels, self.zone)
                }
            };
            if !seen_srv.iter().any(|(t, p)| *p == port && *t == target) {
                seen_srv.push((target.clone(), port));
                let srv = RData::SRV(SRV::new(0, weight, port, target.clone()));
                answers.push(Record::from_rdata(
                    self.qname.clone(),
                    self.options.ttl,
                    srv,
                ));
            }
            if let Host::Ip(ip) = entry.host {
                if !seen_glue.iter().any(|(t, i)| *i == ip && *t == target) {
                    seen_glue.push((target.clone(), ip));
                    additionals.extend(self.addresses(&target, RecordType::ANY, &[ip]));
                }
            }
        }
        if answers.is_empty() {
            return Outcome::NoData;
        }
        Outcome::Records {
            answers,
            additionals,
            chase: None,
        }
    }
}

/// An ingress hostname as a CNAME target; `None` when it is not a domain name.
fn hostname(host: &str) -> Option<Name> {
    let mut name = Name::from_ascii(host.trim_end_matches('.')).ok()?;
    if name.is_root() {
        return None;
    }
    name.set_fqdn(true);
    Some(name)
}
