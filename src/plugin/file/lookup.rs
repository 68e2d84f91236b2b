//! Answering one question from a [`Zone`], as an authoritative server does (RFC 1034 §4.3.2,
//! RFC 4592 for wildcards) and as CoreDNS's file plugin does: the apex SOA and NS, referrals at
//! zone cuts (NS below the apex, with glue, not authoritative), CNAMEs chased within the zone,
//! wildcards synthesised for names that do not exist, NODATA and NXDOMAIN with the SOA in the
//! authority section, and the apex NS set in the authority section of positive answers.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::zone::{Node, Zone};

/// CNAMEs followed within the zone before the chase stops (CoreDNS's limit).
const MAX_CHASE: usize = 8;

/// What kind of answer a lookup made (fallthrough passes on the last two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    NoData,
    /// A referral to a delegated child zone.
    Delegation,
    /// The name does not exist.
    NameError,
    /// The name exists only as an empty non-terminal (NOERROR, no records).
    Empty,
}

/// An answer from the zone.
#[derive(Debug)]
pub struct Found {
    pub outcome: Outcome,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
}

impl Found {
    pub fn rcode(&self) -> ResponseCode {
        match self.outcome {
            Outcome::NameError => ResponseCode::NXDomain,
            _ => ResponseCode::NoError,
        }
    }

    /// Authoritative unless a referral with nothing of this zone's own in the answer.
    pub fn authoritative(&self) -> bool {
        self.outcome != Outcome::Delegation || !self.answers.is_empty()
    }
}

/// Answers `qname`/`qtype` (`qname` must be in the zone).
pub fn lookup(zone: &Zone, qname: &Name, qtype: RecordType) -> Found {
    lookup_at(zone, qname, qtype, 0)
}

fn lookup_at(zone: &Zone, qname: &Name, qtype: RecordType, depth: usize) -> Found {
    if *qname == zone.origin {
        match qtype {
            RecordType::SOA => {
                return found(vec![zone.soa.clone()], zone.ns.clone(), Vec::new());
            }
            RecordType::NS => {
                let glue = glue(zone, &zone.ns);
                return found(zone.ns.clone(), Vec::new(), glue);
            }
            _ => {}
        }
    }
    if let Some(referral) = delegation(zone, qname, qtype) {
        return referral;
    }
    if let Some(node) = zone.names.get(qname) {
        return from_node(zone, qname, node, qtype, depth, false);
    }
    if zone.has_descendant(qname) {
        return negative(zone, Outcome::Empty);
    }
    // The closest encloser: the longest ancestor that exists; its wildcard is the source of
    // synthesis (RFC 4592 §3.3.1).
    let mut encloser = qname.base_name();
    while encloser != zone.origin && !zone.exists(&encloser) {
        encloser = encloser.base_name();
    }
    if let Ok(wildcard) = encloser.prepend_label("*") {
        if let Some(node) = zone.names.get(&wildcard) {
            return from_node(zone, qname, node, qtype, depth, true);
        }
        if zone.has_descendant(&wildcard) {
            return negative(zone, Outcome::NoData);
        }
    }
    negative(zone, Outcome::NameError)
}

/// The referral at the highest zone cut between the apex and `qname` (a DS question at the
/// cut itself is the parent's to answer).
fn delegation(zone: &Zone, qname: &Name, qtype: RecordType) -> Option<Found> {
    let apex = usize::from(zone.origin.num_labels());
    for labels in apex + 1..=usize::from(qname.num_labels()) {
        let cut = qname.trim_to(labels);
        let ns = zone.get(&cut, RecordType::NS);
        if ns.is_empty() || (qtype == RecordType::DS && cut == *qname) {
            continue;
        }
        return Some(Found {
            outcome: Outcome::Delegation,
            answers: Vec::new(),
            authorities: ns.to_vec(),
            additionals: glue(zone, ns),
        });
    }
    None
}

/// The answer from the records of one name (`wildcard`: a wildcard's, renamed `qname`).
fn from_node(
    zone: &Zone,
    qname: &Name,
    node: &Node,
    qtype: RecordType,
    depth: usize,
    wildcard: bool,
) -> Found {
    let owned = |records: &[Record]| -> Vec<Record> {
        records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if wildcard {
                    r.name = qname.clone();
                }
                r
            })
            .collect()
    };
    if qtype != RecordType::CNAME {
        if let Some(cname) = node.get(&RecordType::CNAME).filter(|c| !c.is_empty()) {
            return chase(zone, owned(cname), qtype, depth);
        }
    }
    let records = node.get(&qtype).map_or(&[][..], Vec::as_slice);
    if records.is_empty() {
        return negative(zone, Outcome::NoData);
    }
    let answers = owned(records);
    let extra = additional(zone, &answers);
    found(answers, zone.ns.clone(), extra)
}

/// `cname` then what its target answers, when the target is in the zone; a target elsewhere
/// is left to the client.
fn chase(zone: &Zone, cname: Vec<Record>, qtype: RecordType, depth: usize) -> Found {
    let target = match cname.first().map(|r| &r.data) {
        Some(RData::CNAME(t)) => t.0.clone(),
        _ => return found(cname, zone.ns.clone(), Vec::new()),
    };
    if depth >= MAX_CHASE || !zone.origin.zone_of(&target) {
        return found(cname, zone.ns.clone(), Vec::new());
    }
    let mut rest = lookup_at(zone, &target, qtype, depth + 1);
    let mut answers = cname;
    answers.append(&mut rest.answers);
    rest.answers = answers;
    rest
}

/// A positive answer.
fn found(answers: Vec<Record>, authorities: Vec<Record>, additionals: Vec<Record>) -> Found {
    Found {
        outcome: Outcome::Success,
        answers,
        authorities,
        additionals,
    }
}

/// NODATA, NXDOMAIN or an empty non-terminal: the SOA in the authority section.
fn negative(zone: &Zone, outcome: Outcome) -> Found {
    Found {
        outcome,
        answers: Vec::new(),
        authorities: vec![zone.negative_soa()],
        additionals: Vec::new(),
    }
}

/// The zone's A and AAAA records of the name servers `ns` names.
fn glue(zone: &Zone, ns: &[Record]) -> Vec<Record> {
    let targets = ns.iter().filter_map(|r| match &r.data {
        RData::NS(n) => Some(n.0.clone()),
        _ => None,
    });
    addresses(zone, targets)
}

/// The zone's addresses of the MX and SRV targets in `answers` (each target once).
fn additional(zone: &Zone, answers: &[Record]) -> Vec<Record> {
    let targets = answers.iter().filter_map(|r| match &r.data {
        RData::MX(mx) => Some(mx.exchange.clone()),
        RData::SRV(srv) => Some(srv.target.clone()),
        _ => None,
    });
    addresses(zone, targets)
}

fn addresses(zone: &Zone, targets: impl Iterator<Item = Name>) -> Vec<Record> {
    let mut seen: Vec<Name> = Vec::new();
    let mut out = Vec::new();
    for target in targets {
        if seen.contains(&target) || !zone.origin.zone_of(&target) {
            continue;
        }
        for rtype in [RecordType::A, RecordType::AAAA] {
            out.extend_from_slice(zone.get(&target, rtype));
        }
        seen.push(target);
    }
    out
}
