//! One zone read from an RFC 1035 zone file: its SOA, its apex NS set, and every other record
//! by owner name (in DNSSEC canonical order, so the names below a name follow it), as
//! CoreDNS's file plugin keeps them. hickory-proto's zone-file parser reads the text; when it
//! fails, [`Zone::parse`] finds the line it failed on (hickory's errors carry none).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

/// The records of one owner name, by type, in file order within each type.
pub type Node = BTreeMap<RecordType, Vec<Record>>;

/// A zone as loaded.
#[derive(Debug)]
pub struct Zone {
    pub origin: Name,
    /// The SOA record (owner: the origin).
    pub soa: Record,
    /// The apex NS records.
    pub ns: Vec<Record>,
    /// Every record (the apex's too), by owner name.
    pub names: BTreeMap<Name, Node>,
}

impl Zone {
    /// Reads `text` (the contents of `path`) as the zone `origin`. Records outside the zone
    /// are left out; RRSIGs are ignored (Cairn does not serve DNSSEC).
    pub fn parse(text: &str, path: &Path, origin: &Name) -> Result<Zone, String> {
        let sets = read(text, path, origin).map_err(|e| match error_line(text, path, origin) {
            Some(line) => format!("line {line}: {e}"),
            None => e,
        })?;
        let mut names: BTreeMap<Name, Node> = BTreeMap::new();
        let mut soa = None;
        for record in sets {
            if !origin.zone_of(&record.name) {
                continue;
            }
            if let RData::SOA(_) = record.data {
                if record.name != *origin {
                    return Err(format!(
                        "the SOA record is owned by `{}`, not by the zone's origin `{origin}`",
                        record.name
                    ));
                }
                if soa.is_none() {
                    soa = Some(record.clone());
                }
                continue;
            }
            names
                .entry(record.name.clone())
                .or_default()
                .entry(record.record_type())
                .or_default()
                .push(record);
        }
        let soa = soa.ok_or_else(|| format!("no SOA record for the origin `{origin}`"))?;
        let ns = names
            .get(origin)
            .and_then(|n| n.get(&RecordType::NS))
            .cloned()
            .unwrap_or_default();
        Ok(Zone {
            origin: origin.clone(),
            soa,
            ns,
            names,
        })
    }

    /// The SOA's data.
    pub fn soa_data(&self) -> Option<&SOA> {
        match &self.soa.data {
            RData::SOA(soa) => Some(soa),
            _ => None,
        }
    }

    /// The SOA serial.
    pub fn serial(&self) -> u32 {
        self.soa_data().map_or(0, |s| s.serial)
    }

    /// The SOA as negative answers carry it: TTL the lesser of its own and its MINIMUM
    /// (RFC 2308 §3).
    pub fn negative_soa(&self) -> Record {
        let mut soa = self.soa.clone();
        if let Some(data) = self.soa_data() {
            soa.ttl = soa.ttl.min(data.minimum);
        }
        soa
    }

    /// The records of `name` and `rtype`.
    pub fn get(&self, name: &Name, rtype: RecordType) -> &[Record] {
        self.names
            .get(name)
            .and_then(|n| n.get(&rtype))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether some name strictly below `name` has records (so `name` exists, at least as an
    /// empty non-terminal).
    pub fn has_descendant(&self, name: &Name) -> bool {
        self.names
            .range((Bound::Excluded(name), Bound::Unbounded))
            .next()
            .is_some_and(|(next, _)| name.zone_of(next))
    }

    /// Whether `name` exists: it has records or names below it.
    pub fn exists(&self, name: &Name) -> bool {
        self.names.contains_key(name) || self.has_descendant(name)
    }

    /// Every record, the SOA first and last (an AXFR's contents).
    pub fn transfer_records(&self) -> Vec<Record> {
        let mut all = vec![self.soa.clone()];
        all.extend(self.names.values().flat_map(|n| n.values().flatten().cloned()));
        all.push(self.soa.clone());
        all
    }
}

/// The records hickory reads from `text`.
fn read(text: &str, path: &Path, origin: &Name) -> Result<Vec<Record>, String> {
    let (_, sets) = Parser::new(text, Some(path.to_path_buf()), Some(origin.clone()))
        .parse()
        .map_err(|e| e.to_string())?;
    Ok(sets
        .into_values()
        .flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>())
        .collect())
}

/// The first line of the entry the parser fails on: the shortest prefix of whole entries
/// (cut where no parenthesis or quote is open) that fails to parse ends with it.
fn error_line(text: &str, path: &Path, origin: &Name) -> Option<usize> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let ends = entry_ends(&lines);
    let fails = |end: usize| {
        let prefix: String = lines[..end].concat();
        read(&prefix, path, origin).is_err()
    };
    // `ends` is increasing and failure persists once an entry fails: bisect.
    let (mut lo, mut hi) = (0, ends.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(ends[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let end = *ends.get(lo)?;
    let start = if lo == 0 { 0 } else { ends[lo - 1] };
    // The entry's first line that is not blank or a comment.
    let first = (start..end)
        .find(|&i| {
            let t = lines[i].trim();
            !t.is_empty() && !t.starts_with(';')
        })
        .unwrap_or(end - 1);
    Some(first + 1)
}

/// The line counts after which no parenthesis or quoted string is open.
fn entry_ends(lines: &[&str]) -> Vec<usize> {
    let (mut depth, mut quoted) = (0usize, false);
    let mut ends = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => quoted = !quoted,
                ';' if !quoted => break,
                '(' if !quoted => depth += 1,
                ')' if !quoted => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if depth == 0 && !quoted {
            ends.push(i + 1);
        }
    }
    if ends.last() != Some(&lines.len()) {
        ends.push(lines.len());
    }
    ends
}
