//! The records of a cluster zone for a zone transfer, as CoreDNS's kubernetes `Transfer` lists
//! them: the SOA, the apex NS and its addresses, then every Service — its A/AAAA (ClusterIPs,
//! or a headless Service's ready endpoints and their own names), the CNAME of an ExternalName,
//! and an SRV per named port — and the SOA again. Pods and the reverse zones are not
//! transferred (CoreDNS transfers neither). A `multicluster` zone lists the ServiceImports
//! instead, a headless import's endpoints as `HOSTNAME.CLUSTER.SVC.NS.svc.ZONE`.
//!
//! Every record comes from the index's own answer path ([`Index::answer`]), so a transfer holds
//! exactly what queries are answered with; only which names to ask is decided here. Services
//! are listed by namespace and name, so two transfers of the same index are identical.

use std::sync::Arc;

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::index::{EntryKind, Index, ServiceEntry};

impl Index {
    /// The transfer of forward zone `zone` (exactly one of this index's zones, not a reverse
    /// one): its serial and its records, SOA first and last; `None` for any other name.
    pub fn transfer(&self, zone: &Name) -> Option<(u32, Vec<Record>)> {
        self.options
            .zones
            .iter()
            .find(|z| !z.reverse && z.name.eq_ignore_root(zone))?;
        let mut out = Records::default();
        let soa = self.answer(zone, RecordType::SOA)?.answers.into_iter().next()?;
        out.push(soa.clone());
        for ns in self.answer(zone, RecordType::NS)?.answers {
            if let RData::NS(target) = &ns.data {
                let target = target.0.clone();
                out.push(ns);
                for qtype in [RecordType::A, RecordType::AAAA] {
                    out.extend(self.records(&target, qtype));
                }
            }
        }
        let mut services: Vec<Listed<'_>> = Vec::new();
        if self.options.multicluster.iter().any(|m| m.eq_ignore_root(zone)) {
            for (ns, imports) in self.imports.iter() {
                services.extend(imports.values().map(|i| (&**ns, &i.entry, Some(&*i.clusters))));
            }
        } else {
            for (ns, entry) in &self.namespaces {
                services.extend(entry.services.values().map(|s| (&**ns, &**s, None)));
            }
        }
        services.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
        for (ns, svc, clusters) in services {
            let Ok(name) = Name::from_ascii(format!("{}.{ns}.svc", svc.name))
                .and_then(|n| n.append_domain(zone))
            else {
                continue;
            };
            match &svc.kind {
                EntryKind::ExternalName(_) => {
                    out.extend(self.records(&name, RecordType::CNAME));
                }
                EntryKind::ClusterIp(_) | EntryKind::Headless => {
                    for qtype in [RecordType::A, RecordType::AAAA] {
                        out.extend(self.records(&name, qtype));
                    }
                }
            }
            if matches!(svc.kind, EntryKind::Headless) {
                for (i, group) in svc.groups.iter().enumerate() {
                    let parent = match clusters.and_then(|c| c.get(i)) {
                        Some(cluster) => match name.prepend_label(&**cluster) {
                            Ok(n) => n,
                            Err(_) => continue,
                        },
                        None => name.clone(),
                    };
                    for ep in group.endpoints() {
                        let label = ep.label();
                        if let Ok(own) = parent.prepend_label(label.as_ref()) {
                            let qtype = if ep.ip.is_ipv4() {
                                RecordType::A
                            } else {
                                RecordType::AAAA
                            };
                            out.extend(self.records(&own, qtype));
                        }
                    }
                }
            }
            for port in svc.ports.iter().filter(|p| !p.name.is_empty()) {
                let proto = port.protocol.as_str().to_ascii_lowercase();
                let owner = name
                    .prepend_label(format!("_{proto}").as_str())
                    .and_then(|n| n.prepend_label(format!("_{}", port.name).as_str()));
                if let Ok(owner) = owner {
                    out.extend(self.records(&owner, RecordType::SRV));
                }
            }
        }
        out.push(soa);
        Some((self.serial, out.0))
    }

    /// The answer records of `name`/`qtype` of exactly that type (no CNAME chain, no glue).
    fn records(&self, name: &Name, qtype: RecordType) -> Vec<Record> {
        self.answer(name, qtype)
            .map(|a| a.answers.into_iter().filter(|r| r.record_type() == qtype).collect())
            .unwrap_or_default()
    }
}

/// (namespace, service, the source cluster of each endpoint group in a multicluster zone).
type Listed<'a> = (&'a str, &'a ServiceEntry, Option<&'a [Arc<str>]>);

/// Records in order. Each name is asked once, so no record comes twice but for the closing
/// SOA (and an NS glue address that is also a Service's, under another owner name).
#[derive(Default)]
struct Records(Vec<Record>);

impl Records {
    fn push(&mut self, r: Record) {
        self.0.push(r);
    }

    fn extend(&mut self, records: Vec<Record>) {
        for r in records {
            self.push(r);
        }
    }
}
