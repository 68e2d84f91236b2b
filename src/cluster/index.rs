//! The immutable answer index of one `kubernetes` block: everything a query needs, resolved
//! ahead of time from the cluster state and the block's options (filters, readiness, endpoint
//! names, reverse map), so that answering is a few hash lookups.
//!
//! Written by hand: no library indexes Kubernetes objects for DNS. An index is built once per
//! change of the cluster state and swapped in atomically by its owner; it is never mutated.
//! Answering lives in `answer`.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use hickory_proto::rr::Name;

use super::model::{AddressType, ClusterState, PodPhase, Port, Service, ServiceKind};
use super::names::{dashed_ip, is_reverse_zone};
use crate::config::model::{KubernetesConfig, PodMode};

/// A zone of the block, and whether it is a reverse (`in-addr.arpa`/`ip6.arpa`) zone.
#[derive(Clone, Debug)]
pub struct Zone {
    pub name: Name,
    pub reverse: bool,
}

/// The options answering needs, copied out of the block's configuration.
#[derive(Clone, Debug)]
pub struct IndexOptions {
    /// The zones this block serves, lower-case FQDNs, longest first.
    pub zones: Vec<Zone>,
    /// The first zone that is not a reverse zone: PTR targets are built in it.
    pub forward_zone: Option<Name>,
    pub ttl: u32,
    pub pods: PodMode,
}

/// A Service as DNS answers it.
#[derive(Clone, Debug)]
pub struct ServiceEntry {
    /// Lower-case service name and namespace: the labels of targets built from them.
    pub name: Box<str>,
    pub namespace: Box<str>,
    pub kind: EntryKind,
    pub ports: Vec<Port>,
    /// Ready endpoints, grouped by the EndpointSlice ports they serve.
    pub groups: Vec<EndpointGroup>,
}

#[derive(Clone, Debug)]
pub enum EntryKind {
    ClusterIp(Vec<IpAddr>),
    Headless,
    /// `None` when the externalName is an IP address or not a valid name: no record.
    ExternalName(Option<Name>),
}

#[derive(Clone, Debug)]
pub struct EndpointGroup {
    pub ports: Vec<Port>,
    pub endpoints: Vec<EndpointAddr>,
}

/// One ready address of an endpoint, under its DNS label (lower-case).
#[derive(Clone, Debug)]
pub struct EndpointAddr {
    pub label: Box<str>,
    pub ip: IpAddr,
}

impl ServiceEntry {
    /// Every ready endpoint address, across slices.
    pub fn endpoints(&self) -> impl Iterator<Item = &EndpointAddr> {
        self.groups.iter().flat_map(|g| g.endpoints.iter())
    }
}

/// What a reverse name can point at: ClusterIP owners win over endpoints.
#[derive(Clone, Debug, Default)]
pub struct ReverseEntry {
    /// (namespace, service) of ClusterIP services with this IP, in name order.
    pub services: Vec<(Box<str>, Box<str>)>,
    /// (endpoint label, namespace, service) of endpoints with this IP, de-duplicated.
    pub endpoints: Vec<(Box<str>, Box<str>, Box<str>)>,
}

/// An apex NS record: target labels below the zone, and its glue addresses.
#[derive(Clone, Debug)]
pub struct NameServer {
    pub labels: Vec<Box<str>>,
    pub glue: Vec<IpAddr>,
}

#[derive(Debug, Default)]
pub struct NamespaceEntry {
    pub services: HashMap<Box<str>, ServiceEntry>,
}

/// The index of one `kubernetes` block.
#[derive(Debug)]
pub struct Index {
    pub options: IndexOptions,
    /// SOA serial: when the state last changed (opaque to clients).
    pub serial: u32,
    /// False until the source has delivered a complete state: NXDOMAIN becomes SERVFAIL.
    pub synced: bool,
    /// Exposed, existing namespaces by lower-case name.
    pub namespaces: HashMap<Box<str>, NamespaceEntry>,
    pub reverse: HashMap<IpAddr, ReverseEntry>,
    /// (namespace, IP) of live pods' primary IPs, for `pods verified`.
    pub pod_ips: HashSet<(Box<str>, IpAddr)>,
    /// The server's own addresses (answers for `ns.dns.<zone>`).
    pub own_ips: Vec<IpAddr>,
    pub nameservers: Vec<NameServer>,
}

fn lower(s: &str) -> Box<str> {
    s.to_ascii_lowercase().into_boxed_str()
}

impl Index {
    /// Builds the index of `config`'s view of `state`. `own_ips` are the addresses the server
    /// answers on; `serial` is the SOA serial to publish.
    pub fn build(
        state: &ClusterState,
        config: &KubernetesConfig,
        own_ips: &[IpAddr],
        serial: u32,
        synced: bool,
    ) -> Index {
        let mut zones: Vec<Zone> = config
            .zones
            .iter()
            .filter_map(|z| {
                Name::from_ascii(z).ok().map(|name| Zone {
                    name,
                    reverse: is_reverse_zone(z),
                })
            })
            .collect();
        zones.sort_by_key(|z| std::cmp::Reverse(z.name.num_labels()));
        let forward_zone = config
            .zones
            .iter()
            .find(|z| !is_reverse_zone(z))
            .and_then(|z| Name::from_ascii(z).ok());
        let options = IndexOptions {
            zones,
            forward_zone,
            ttl: config.ttl,
            pods: config.pods,
        };

        let mut namespaces: HashMap<Box<str>, NamespaceEntry> = state
            .namespaces
            .values()
            .filter(|ns| config.namespaces.is_empty() || config.namespaces.contains(&ns.name))
            .filter(|ns| {
                config
                    .namespace_labels
                    .as_ref()
                    .is_none_or(|sel| sel.matches(&ns.labels))
            })
            .map(|ns| (lower(&ns.name), NamespaceEntry::default()))
            .collect();

        let all_services = build_services(state, config);
        let nameservers = name_servers(&all_services, own_ips);
        let mut reverse: HashMap<IpAddr, ReverseEntry> = HashMap::new();
        for (svc, exposed) in all_services {
            if !exposed {
                continue;
            }
            let Some(ns) = namespaces.get_mut(&svc.namespace) else {
                continue;
            };
            if let EntryKind::ClusterIp(ips) = &svc.kind {
                for ip in ips {
                    let r = reverse.entry(*ip).or_default();
                    r.services.push((svc.namespace.clone(), svc.name.clone()));
                }
            }
            for ep in svc.endpoints() {
                let r = reverse.entry(ep.ip).or_default();
                let item = (ep.label.clone(), svc.namespace.clone(), svc.name.clone());
                if !r.endpoints.contains(&item) {
                    r.endpoints.push(item);
                }
            }
            ns.services.insert(svc.name.clone(), svc);
        }

        let pod_ips = if config.pods == PodMode::Verified {
            state
                .pods
                .values()
                .filter(|p| {
                    !p.deleting
                        && !matches!(
                            p.phase,
                            PodPhase::Succeeded | PodPhase::Failed | PodPhase::Unknown
                        )
                })
                .filter_map(|p| p.ips.first().map(|ip| (lower(&p.namespace), *ip)))
                .collect()
        } else {
            HashSet::new()
        };

        Index {
            options,
            serial,
            synced,
            namespaces,
            reverse,
            pod_ips,
            own_ips: own_ips.to_vec(),
            nameservers,
        }
    }
}

/// Every Service as an entry, paired with whether the block's `labels` filter exposes it (the apex
/// NS computation looks at every service, exposed or not, as CoreDNS does).
fn build_services(state: &ClusterState, config: &KubernetesConfig) -> Vec<(ServiceEntry, bool)> {
    // Group ready endpoints by service.
    let mut groups: HashMap<(&str, &str), Vec<EndpointGroup>> = HashMap::new();
    if !config.noendpoints {
        for slice in state.endpoint_slices.values() {
            let Some(service_name) = slice.service.as_deref() else {
                continue;
            };
            if slice.address_type == AddressType::Fqdn {
                continue;
            }
            let Some(service) = state
                .services
                .get(&(slice.namespace.clone(), service_name.to_string()))
            else {
                continue;
            };
            let endpoints = slice
                .endpoints
                .iter()
                .filter(|ep| ep.ready || service.publish_not_ready)
                .flat_map(|ep| {
                    ep.addresses.iter().map(move |ip| EndpointAddr {
                        label: endpoint_label(ep, *ip, config.endpoint_pod_names),
                        ip: *ip,
                    })
                })
                .collect();
            groups
                .entry((slice.namespace.as_str(), service_name))
                .or_default()
                .push(EndpointGroup {
                    ports: slice.ports.clone(),
                    endpoints,
                });
        }
    }

    state
        .services
        .values()
        .filter_map(|svc| {
            let groups = groups
                .remove(&(svc.namespace.as_str(), svc.name.as_str()))
                .unwrap_or_default();
            let entry = service_entry(svc, groups);
            let has_ready = entry.endpoints().next().is_some();
            if config.ignore_empty_service
                && matches!(entry.kind, EntryKind::ClusterIp(_))
                && !has_ready
            {
                return None;
            }
            let exposed = config
                .labels
                .as_ref()
                .is_none_or(|sel| sel.matches(&svc.labels));
            Some((entry, exposed))
        })
        .collect()
}

fn endpoint_label(ep: &super::model::Endpoint, ip: IpAddr, endpoint_pod_names: bool) -> Box<str> {
    if let Some(hostname) = ep.hostname.as_deref().filter(|h| !h.is_empty()) {
        return lower(hostname);
    }
    if endpoint_pod_names {
        if let Some(pod) = ep
            .target_pod
            .as_deref()
            .filter(|p| !p.is_empty() && p.len() < 64)
        {
            return lower(pod);
        }
    }
    dashed_ip(ip).into_boxed_str()
}

fn service_entry(svc: &Service, groups: Vec<EndpointGroup>) -> ServiceEntry {
    let kind = match &svc.kind {
        ServiceKind::ClusterIp(ips) => EntryKind::ClusterIp(ips.clone()),
        ServiceKind::Headless => EntryKind::Headless,
        ServiceKind::ExternalName(target) => EntryKind::ExternalName(external_target(target)),
    };
    ServiceEntry {
        name: lower(&svc.name),
        namespace: lower(&svc.namespace),
        kind,
        ports: svc.ports.clone(),
        groups,
    }
}

/// The CNAME target of an ExternalName, fully qualified; `None` for an IP address or a name that
/// is not a valid domain name (CoreDNS serves no record for those).
fn external_target(target: &str) -> Option<Name> {
    if target.parse::<IpAddr>().is_ok() {
        return None;
    }
    let mut name = Name::from_ascii(target.trim_end_matches('.')).ok()?;
    if name.is_root() {
        return None;
    }
    name.set_fqdn(true);
    Some(name)
}

/// The apex NS records: if one of the server's own addresses is an endpoint of a Service, that
/// Service names the server (ClusterIP: the service name with its cluster IPs as glue; headless:
/// the endpoint name with its address); otherwise `ns.dns.<zone>` with the own addresses.
fn name_servers(services: &[(ServiceEntry, bool)], own_ips: &[IpAddr]) -> Vec<NameServer> {
    let mut out: Vec<NameServer> = Vec::new();
    for (svc, _) in services {
        for ep in svc.endpoints().filter(|ep| own_ips.contains(&ep.ip)) {
            let ns = match &svc.kind {
                EntryKind::ClusterIp(ips) => NameServer {
                    labels: vec![svc.name.clone(), svc.namespace.clone(), "svc".into()],
                    glue: ips.clone(),
                },
                EntryKind::Headless => NameServer {
                    labels: vec![
                        ep.label.clone(),
                        svc.name.clone(),
                        svc.namespace.clone(),
                        "svc".into(),
                    ],
                    glue: vec![ep.ip],
                },
                EntryKind::ExternalName(_) => continue,
            };
            if !out.iter().any(|o| o.labels == ns.labels) {
                out.push(ns);
            }
        }
    }
    if out.is_empty() {
        out.push(NameServer {
            labels: vec!["ns".into(), "dns".into()],
            glue: own_ips.to_vec(),
        });
    }
    out
}
