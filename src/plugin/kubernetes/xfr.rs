//! The records of a cluster zone for a zone transfer, as CoreDNS's kubernetes `Transfer` lists
//! them: the SOA, the apex NS and its addresses, then every Service — its A/AAAA (ClusterIPs,
//! or a headless Service's ready endpoints and their own names), the CNAME of an ExternalName,
//! and an SRV per named port — and the SOA again. Pods and the reverse zones are not
//! transferred (CoreDNS transfers neither).
//!
//! Every record comes from the index's own answer path ([`Index::answer`]), so a transfer holds
//! exactly what queries are answered with; only which names to ask is decided here. Services
//! are listed by namespace and name, so two transfers of the same index are identical.

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::index::{EntryKind, Index};

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
        let mut namespaces: Vec<_> = self.namespaces.iter().collect();
        namespaces.sort_by(|a, b| a.0.cmp(b.0));
        for (ns, entry) in namespaces {
            let mut services: Vec<_> = entry.services.values().collect();
            services.sort_by(|a, b| a.name.cmp(&b.name));
            for svc in services {
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
                    for ep in svc.endpoints() {
                        let label = ep.label();
                        if let Ok(own) = name.prepend_label(label.as_ref()) {
                            let qtype = if ep.ip.is_ipv4() { RecordType::A } else { RecordType::AAAA };
                            out.extend(self.records(&own, qtype));
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
