//! What a query is to `autopath`: not a first search try (passed on), a first try of a
//! client it knows no search path for (answered plainly, but not the same for every client),
//! or a first try to complete, with the names to try in order. Pure: no I/O.

use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::Name;

use crate::plugin::kubernetes::publish::IndexCell;

/// Where the search path of a client comes from.
pub enum Search {
    /// `@kubernetes`: the client's pod's namespace, then the zone, then the host's list.
    Kubernetes {
        cell: Arc<IndexCell>,
        /// The `kubernetes` zones, the longest first.
        zones: Vec<Name>,
        host: Vec<Name>,
    },
    /// A resolv.conf's list, the same for every client.
    Fixed(Vec<Name>),
}

/// What to do with a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Not a first search try.
    Pass,
    /// Shaped like a pod's first search try, but no pod of that namespace has the client's
    /// address: the plain answer, which others may not get.
    Plain,
    /// Try these names in order (the first is the query's own) and answer the first found.
    Walk(Vec<Name>),
}

impl Search {
    /// `@kubernetes` with the zones of `cell`'s block.
    pub fn kubernetes(cell: Arc<IndexCell>, host: Vec<Name>) -> Search {
        let mut zones: Vec<Name> = cell
            .config()
            .zones
            .iter()
            .filter_map(|z| Name::from_ascii(z).ok())
            .collect();
        zones.sort_by_key(|z| std::cmp::Reverse(z.num_labels()));
        Search::Kubernetes { cell, zones, host }
    }

    /// The plan for `name` asked from `client`.
    pub fn plan(&self, name: &Name, client: IpAddr) -> Plan {
        match self {
            Search::Fixed(search) => match base(name, &search[0]) {
                Some(base) => Plan::Walk(tries(name, &base, &search[1..])),
                None => Plan::Pass,
            },
            Search::Kubernetes { cell, zones, host } => {
                let Some((zone, namespace)) = pod_first_try(name, zones) else {
                    return Plan::Pass;
                };
                if !is_pod(cell, namespace, client) {
                    return Plan::Plain;
                }
                let labels = usize::from(name.num_labels() - zone.num_labels()) - 2;
                let base = Name::from_labels(name.iter().take(labels)).ok();
                let Some(base) = base else {
                    return Plan::Plain;
                };
                let svc = Name::from_labels([&b"svc"[..]])
                    .ok()
                    .and_then(|svc| svc.append_domain(zone).ok());
                let mut rest: Vec<Name> = svc.into_iter().collect();
                rest.push(zone.clone());
                rest.extend(host.iter().cloned());
                Plan::Walk(tries(name, &base, &rest))
            }
        }
    }

    /// `Some` when the answer for `name` depends on who asks (a pod's first search try, for
    /// `@kubernetes`), with whether [`Search::plan`] walks for `client`; `None` when every
    /// client gets the same answer.
    pub fn for_client(&self, name: &Name, client: IpAddr) -> Option<bool> {
        match self {
            Search::Fixed(_) => None,
            Search::Kubernetes { cell, zones, .. } => pod_first_try(name, zones)
                .map(|(_, namespace)| is_pod(cell, namespace, client)),
        }
    }
}

/// For `x.<ns>.svc.<zone>` (at least one label before the namespace) in one of `zones`, the
/// zone and the namespace label.
fn pod_first_try<'a, 'n>(name: &'n Name, zones: &'a [Name]) -> Option<(&'a Name, &'n [u8])> {
    let zone = zones.iter().find(|z| z.zone_of(name))?;
    let n = usize::from(name.num_labels());
    let z = usize::from(zone.num_labels());
    if n < z + 3 {
        return None;
    }
    let svc = name.iter().nth(n - z - 1)?;
    if !svc.eq_ignore_ascii_case(b"svc") {
        return None;
    }
    Some((zone, name.iter().nth(n - z - 2)?))
}

/// Whether a live pod of `namespace` has the address `client` (`pods verified` indexes them).
fn is_pod(cell: &IndexCell, namespace: &[u8], client: IpAddr) -> bool {
    let Ok(namespace) = std::str::from_utf8(namespace) else {
        return false;
    };
    let key = (namespace.to_ascii_lowercase().into_boxed_str(), client.to_canonical());
    cell.load().pod_ips.get(&key).is_some()
}

/// `name` without the `first` search domain it ends with (None unless it ends with it and has
/// labels before it).
fn base(name: &Name, first: &Name) -> Option<Name> {
    if !first.zone_of(name) || name.num_labels() <= first.num_labels() {
        return None;
    }
    let labels = usize::from(name.num_labels() - first.num_labels());
    Name::from_labels(name.iter().take(labels)).ok()
}

/// The names to try: `name` itself (the first search domain's), `base` in each of `rest`,
/// then `base` alone.
fn tries(name: &Name, base: &Name, rest: &[Name]) -> Vec<Name> {
    let mut out = Vec::with_capacity(rest.len() + 2);
    out.push(name.clone());
    out.extend(rest.iter().filter_map(|d| base.clone().append_domain(d).ok()));
    let mut bare = base.clone();
    bare.set_fqdn(true);
    out.push(bare);
    out
}

/// The search list of a resolv.conf (the last `search` or `domain` line, as the resolver
/// reads it), lower-case and fully qualified; names that are not DNS names are left out.
pub fn search_list(text: &str) -> Vec<Name> {
    let mut list = Vec::new();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match words.next() {
            Some("search") | Some("domain") => {
                list = words
                    .filter_map(|w| Name::from_ascii(w).ok())
                    .map(|mut n| {
                        n.set_fqdn(true);
                        n.to_lowercase()
                    })
                    .collect();
            }
            _ => {}
        }
    }
    list
}
