//! The immutable answer index of one `kubernetes` block: everything a query needs, resolved
//! ahead of time from the cluster state and the block's options (filters, readiness, endpoint
//! names, reverse map), so that answering is a few hash lookups.
//!
//! Written by hand: no library indexes Kubernetes objects for DNS. An index is built once per
//! change of the cluster state and swapped in atomically by its owner; it is never mutated. A
//! change to a few objects derives the next index from the previous one ([`Index::update`]),
//! sharing everything it did not touch, so the cost follows the change, not the cluster.
//! Answering lives in `answer`.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::Name;

use super::shards::Shards;
use name_servers::name_servers;
use super::{KubernetesConfig, PodMode};
use crate::cluster::model::{
    AddressType, ClusterState, EndpointSlice, ExternalAddress, ObjectKey, Pod, PodPhase, Ports,
    Service, ServiceKind,
};
use crate::dns::names::{dashed_ip, is_reverse_zone};

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
    /// `zonal`: `ZONE.pin._zone.` / `ZONE.prefer._zone.` names of headless Services.
    pub zonal: bool,
    /// `multicluster`: zones answered from ServiceImports.
    pub multicluster: Vec<Name>,
}

/// A Service as DNS answers it.
#[derive(Clone, Debug)]
pub struct ServiceEntry {
    /// Lower-case service name and namespace: the labels of targets built from them.
    pub name: Arc<str>,
    pub namespace: Arc<str>,
    pub kind: EntryKind,
    pub ports: Ports,
    /// Ready endpoints, grouped by the EndpointSlice ports they serve.
    pub groups: Vec<EndpointGroup>,
    /// External IPs and load balancer ingress (`k8s_external` answers them).
    pub external: Box<[ExternalAddress]>,
}

#[derive(Clone, Debug)]
pub enum EntryKind {
    ClusterIp(Vec<IpAddr>),
    Headless,
    /// `None` when the externalName is an IP address or not a valid name: no record. Boxed:
    /// a `Name` is 72 bytes and would make every entry pay for the rare ExternalName.
    ExternalName(Option<Box<Name>>),
}

/// The ready addresses of one EndpointSlice and the ports they serve.
///
/// Addresses and names are kept apart: an address is 17 bytes, while a (name, address) pair is
/// 40, and most endpoints have no stored name (their label is the dashed IP, derived when
/// asked). At 100k endpoints that is 1.7 MiB instead of 4 MiB.
#[derive(Clone, Debug)]
pub struct EndpointGroup {
    pub ports: Ports,
    /// Exact-size (one per endpoint address in the cluster).
    ips: Box<[IpAddr]>,
    /// `names[i]` labels `ips[i]`; absent when no endpoint of the group has a hostname or pod
    /// name.
    names: Option<Box<[Option<Arc<str>>]>>,
    /// `zones[i]`: the topology zone of `ips[i]`; only for `zonal` blocks.
    zones: Option<Box<[Option<Arc<str>>]>>,
}

impl EndpointGroup {
    pub fn new(ports: Ports, endpoints: Vec<(Option<Arc<str>>, IpAddr)>) -> Self {
        let named = endpoints.iter().any(|(name, _)| name.is_some());
        let ips = endpoints.iter().map(|(_, ip)| *ip).collect();
        let names = named.then(|| endpoints.into_iter().map(|(name, _)| name).collect());
        EndpointGroup {
            ports,
            ips,
            names,
            zones: None,
        }
    }

    /// The group with each address's topology zone (`zonal`), in the order of the addresses.
    pub fn with_zones(mut self, zones: Vec<Option<Arc<str>>>) -> Self {
        if zones.len() == self.ips.len() && zones.iter().any(Option::is_some) {
            self.zones = Some(zones.into());
        }
        self
    }

    /// Every address with its label, in slice order.
    pub fn endpoints(&self) -> impl Iterator<Item = EndpointAddr<'_>> {
        self.ips.iter().enumerate().map(|(i, ip)| EndpointAddr {
            label: self.names.as_ref().and_then(|names| names[i].as_ref()),
            ip: *ip,
            zone: self.zones.as_ref().and_then(|zones| zones[i].as_deref()),
        })
    }
}

/// One ready address of an endpoint, under its DNS label (lower-case). The label is kept only
/// when it comes from a hostname or pod name; the common dashed-IP label is derived from the
/// address when asked (100k stored copies of it would cost megabytes).
#[derive(Clone, Copy, Debug)]
pub struct EndpointAddr<'a> {
    pub label: Option<&'a Arc<str>>,
    pub ip: IpAddr,
    /// Its topology zone, in `zonal` blocks.
    pub zone: Option<&'a str>,
}

impl<'a> EndpointAddr<'a> {
    pub fn label(&self) -> std::borrow::Cow<'a, str> {
        endpoint_name(self.label, self.ip)
    }
}

/// An endpoint's DNS label: its stored name, else its dashed IP.
pub fn endpoint_name(label: Option<&Arc<str>>, ip: IpAddr) -> std::borrow::Cow<'_, str> {
    match label {
        Some(l) => std::borrow::Cow::Borrowed(l),
        None => std::borrow::Cow::Owned(dashed_ip(ip)),
    }
}

impl ServiceEntry {
    /// `ip` is one of this service's ClusterIPs.
    pub fn has_cluster_ip(&self, ip: IpAddr) -> bool {
        matches!(&self.kind, EntryKind::ClusterIp(ips) if ips.contains(&ip))
    }

    /// Every ready endpoint address, across slices.
    pub fn endpoints(&self) -> impl Iterator<Item = EndpointAddr<'_>> {
        self.groups.iter().flat_map(|g| g.endpoints())
    }
}

/// Every service a reverse name can point at: the services with this ClusterIP first (in
/// (namespace, name) order; the first one's PTR wins), then the services with an endpoint at
/// this address (each answers a PTR per endpoint name, found in the service's own entry).
///
/// One shared pointer per service, the first inline: there is one entry per address in the
/// cluster (110k at 10k Services / 100k endpoints), nearly all with one service, so each costs
/// just its map slot. (Copies of the names here, in `Vec`s that reserve room for four on their
/// first push, cost ~30 MiB at that size.)
#[derive(Clone, Debug, Default)]
pub struct ReverseEntry {
    pub services: smallvec::SmallVec<[Arc<ServiceEntry>; 1]>,
}

impl ReverseEntry {
    /// The services with `ip` as a ClusterIP, in name order.
    pub fn owners(&self, ip: IpAddr) -> impl Iterator<Item = &Arc<ServiceEntry>> {
        self.services.iter().filter(move |s| s.has_cluster_ip(ip))
    }

    /// The services with an endpoint at `ip`, in name order.
    pub fn with_endpoints(&self, ip: IpAddr) -> impl Iterator<Item = &Arc<ServiceEntry>> {
        self.services.iter().filter(move |s| !s.has_cluster_ip(ip))
    }
}

/// Where `svc` sorts in the reverse entry of `ip`.
fn reverse_order(svc: &ServiceEntry, ip: IpAddr) -> (bool, &str, &str) {
    (!svc.has_cluster_ip(ip), &svc.namespace, &svc.name)
}

/// An apex NS record: target labels below the zone, and its glue addresses.
#[derive(Clone, Debug)]
pub struct NameServer {
    /// (namespace, service) the target is named after; `None` for `ns.dns.<zone>`.
    pub owner: Option<(Arc<str>, Arc<str>)>,
    pub labels: Vec<Box<str>>,
    pub glue: Vec<IpAddr>,
    /// The owning Service's external IPs (`k8s_external`'s apex addresses, as CoreDNS's
    /// `ExternalAddress`); the own addresses for `ns.dns.<zone>`.
    pub external: Vec<IpAddr>,
    /// The target is an endpoint of a headless Service (glue: that endpoint's address).
    pub headless: bool,
}

#[derive(Clone, Debug, Default)]
pub struct NamespaceEntry {
    pub services: HashMap<Arc<str>, Arc<ServiceEntry>>,
}

/// What a batch of changes touched, so an index can be derived from the previous one by
/// redoing only that.
#[derive(Clone, Debug, Default)]
pub struct Affected {
    /// Rebuild everything (a namespace changed, or a watch relisted).
    pub full: bool,
    /// Services to rebuild, as (namespace, name) keys of the state.
    pub services: BTreeSet<ObjectKey>,
    /// (namespace, primary IP) pairs whose pod liveness may have changed.
    pub pods: BTreeSet<(String, IpAddr)>,
    /// Every endpoint address of the changed slices, before and after: if one is the server's
    /// own, the apex NS records may change and the index is rebuilt.
    pub addresses: Vec<IpAddr>,
}

impl Affected {
    pub fn is_empty(&self) -> bool {
        !self.full && self.services.is_empty() && self.pods.is_empty()
    }
}

/// The index of one `kubernetes` block.
#[derive(Clone, Debug)]
pub struct Index {
    pub options: IndexOptions,
    /// SOA serial: when the state last changed (opaque to clients).
    pub serial: u32,
    /// False until the source has delivered a complete state: NXDOMAIN becomes SERVFAIL.
    pub synced: bool,
    /// Exposed, existing namespaces by lower-case name.
    pub namespaces: HashMap<Box<str>, Arc<NamespaceEntry>>,
    pub reverse: Shards<IpAddr, ReverseEntry>,
    /// (namespace, IP) of live pods' primary IPs, for `pods verified`.
    pub pod_ips: Shards<(Box<str>, IpAddr), ()>,
    /// The server's own addresses (answers for `ns.dns.<zone>`).
    pub own_ips: Vec<IpAddr>,
    pub nameservers: Vec<NameServer>,
    /// ServiceImports, for the `multicluster` zones.
    pub imports: Arc<multicluster::Imports>,
}

fn lower(s: &str) -> Box<str> {
    s.to_ascii_lowercase().into_boxed_str()
}

fn options(config: &KubernetesConfig) -> IndexOptions {
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
    IndexOptions {
        zones,
        forward_zone,
        ttl: config.ttl,
        pods: config.pods,
        zonal: config.zonal,
        multicluster: config.multicluster.clone(),
    }
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

        // Slices by the service they belong to, in slice-key order.
        let mut slices: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
        for slice in state.endpoint_slices.values() {
            if let Some(service) = slice.service.as_deref() {
                slices
                    .entry((slice.namespace.as_str(), service))
                    .or_default()
                    .push(slice);
            }
        }
        let all_services: Vec<(ServiceEntry, bool)> = state
            .services
            .values()
            .filter_map(|svc| {
                let own = slices
                    .get(&(svc.namespace.as_str(), svc.name.as_str()))
                    .map_or(&[][..], Vec::as_slice);
                service_entry(svc, own, config)
            })
            .collect();
        let nameservers = name_servers(&all_services, own_ips);
        let mut reverse = Shards::default();
        for (svc, exposed) in all_services {
            if !exposed {
                continue;
            }
            let Some(ns) = namespaces.get_mut(&*svc.namespace) else {
                continue;
            };
            let svc = Arc::new(svc);
            add_reverse(&mut reverse, &svc);
            ns.services.insert(svc.name.clone(), svc);
        }

        let imports = multicluster::build(state, config, &|ns| namespaces.contains_key(ns));

        let mut pod_ips = Shards::default();
        if config.pods == PodMode::Verified {
            for pod in state.pods.values().filter(|p| pod_is_live(p)) {
                if let Some(ip) = pod.ips.first() {
                    pod_ips.insert((lower(&pod.namespace), *ip), ());
                }
            }
        }

        Index {
            options: options(config),
            serial,
            synced,
            namespaces: namespaces
                .into_iter()
                .map(|(k, v)| (k, Arc::new(v)))
                .collect(),
            reverse,
            pod_ips,
            own_ips: own_ips.to_vec(),
            nameservers,
            imports: Arc::new(imports),
        }
    }

    /// The index for `state` after the changes in `affected`, derived from `self` (the index of
    /// the state before them) by redoing only what they touch. Falls back to a full build for
    /// changes that reach everything (namespaces, relists, the server's own endpoints).
    pub fn update(
        &self,
        state: &ClusterState,
        config: &KubernetesConfig,
        affected: &Affected,
        serial: u32,
        synced: bool,
    ) -> Index {
        if affected.full || self.affects_name_servers(state, affected) {
            return Index::build(state, config, &self.own_ips, serial, synced);
        }
        let mut next = self.clone();
        next.serial = serial;
        next.synced = synced;
        for key in &affected.services {
            next.update_service(state, config, key);
        }
        if config.pods == PodMode::Verified {
            for (ns, ip) in &affected.pods {
                let live = state
                    .pods
                    .range((ns.clone(), String::new())..)
                    .take_while(|((pod_ns, _), _)| pod_ns == ns)
                    .any(|(_, p)| pod_is_live(p) && p.ips.first() == Some(ip));
                let key = (lower(ns), *ip);
                if live {
                    next.pod_ips.insert(key, ());
                } else {
                    next.pod_ips.remove(&key);
                }
            }
        }
        next
    }

    /// Whether the apex NS records may change: a changed slice holds one of the server's own
    /// addresses, or a changed service names the server now or may name it after the change.
    fn affects_name_servers(&self, state: &ClusterState, affected: &Affected) -> bool {
        let own = |ip: &IpAddr| self.own_ips.contains(ip);
        affected.addresses.iter().any(own)
            || affected.services.iter().any(|(ns, name)| {
                let named = self.nameservers.iter().any(|n| {
                    n.owner
                        .as_ref()
                        .is_some_and(|(o_ns, o_name)| **o_ns == *ns && **o_name == *name)
                });
                named
                    || slices_of(state, ns, name).iter().any(|s| {
                        s.endpoints
                            .iter()
                            .any(|ep| ep.addresses().any(|ip| own(&ip)))
                    })
            })
    }

    fn update_service(&mut self, state: &ClusterState, config: &KubernetesConfig, key: &ObjectKey) {
        let ns_key = lower(&key.0);
        let name_key = lower(&key.1);
        let Some(namespace) = self.namespaces.get_mut(&ns_key) else {
            return; // not exposed, or does not exist: nothing of it is served
        };
        if let Some(old) = namespace.services.get(&*name_key).cloned() {
            remove_reverse(&mut self.reverse, &old);
            Arc::make_mut(namespace).services.remove(&*name_key);
        }
        let Some(svc) = state.services.get(key) else {
            return;
        };
        let own = slices_of(state, &key.0, &key.1);
        if let Some((entry, true)) = service_entry(svc, &own, config) {
            let entry = Arc::new(entry);
            add_reverse(&mut self.reverse, &entry);
            Arc::make_mut(namespace)
                .services
                .insert(entry.name.clone(), entry);
        }
    }
}

/// The slices of service `ns/name`, in slice-key order.
fn slices_of<'s>(state: &'s ClusterState, ns: &str, name: &str) -> Vec<&'s EndpointSlice> {
    state
        .endpoint_slices
        .range((ns.to_string(), String::new())..)
        .take_while(|((slice_ns, _), _)| slice_ns == ns)
        .map(|(_, slice)| slice)
        .filter(|slice| slice.service.as_deref() == Some(name))
        .collect()
}

fn pod_is_live(p: &Pod) -> bool {
    !p.deleting
        && !matches!(
            p.phase,
            PodPhase::Succeeded | PodPhase::Failed | PodPhase::Unknown
        )
}

/// Adds `svc` to the reverse entry of each of its ClusterIPs and endpoint addresses.
fn add_reverse(reverse: &mut Shards<IpAddr, ReverseEntry>, svc: &Arc<ServiceEntry>) {
    for ip in reverse_ips(svc) {
        let r = reverse.shard_mut(&ip).entry(ip).or_default();
        let key = reverse_order(svc, ip);
        if let Err(at) = r
            .services
            .binary_search_by(|s| reverse_order(s, ip).cmp(&key))
        {
            r.services.insert(at, svc.clone());
        }
    }
}

/// The addresses a service appears under in the reverse map, each once.
fn reverse_ips(svc: &ServiceEntry) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = svc.endpoints().map(|ep| ep.ip).collect();
    if let EntryKind::ClusterIp(cluster_ips) = &svc.kind {
        ips.extend(cluster_ips);
    }
    ips.sort_unstable();
    ips.dedup();
    ips
}

fn remove_reverse(reverse: &mut Shards<IpAddr, ReverseEntry>, svc: &ServiceEntry) {
    for ip in reverse_ips(svc) {
        if reverse.get(&ip).is_none() {
            continue;
        }
        let shard = reverse.shard_mut(&ip);
        if let Some(r) = shard.get_mut(&ip) {
            r.services
                .retain(|s| !(s.namespace == svc.namespace && s.name == svc.name));
            r.services.shrink_to_fit();
            if r.services.is_empty() {
                shard.remove(&ip);
            }
        }
    }
}

/// A Service's entry from its own slices (in slice-key order), paired with whether the block's
/// `labels` filter exposes it (the apex NS computation looks at every service, exposed or not,
/// as CoreDNS does). `None` when `ignore empty_service` hides it.
fn service_entry(
    svc: &Service,
    slices: &[&EndpointSlice],
    config: &KubernetesConfig,
) -> Option<(ServiceEntry, bool)> {
    let groups = if config.noendpoints {
        Vec::new()
    } else {
        slices
            .iter()
            .filter(|slice| slice.address_type != AddressType::Fqdn)
            .map(|slice| {
                let ready = || {
                    let published = svc.publish_not_ready;
                    slice.endpoints.iter().filter(move |ep| ep.ready || published)
                };
                let endpoints = ready()
                    .flat_map(|ep| {
                        let label = endpoint_label(ep, config.endpoint_pod_names);
                        ep.addresses().map(move |ip| (label.clone(), ip))
                    })
                    .collect();
                let group = EndpointGroup::new(slice.ports.clone(), endpoints);
                if !config.zonal {
                    return group;
                }
                let zone = |ep: &crate::cluster::model::Endpoint| ep.zone().map(Arc::from);
                group.with_zones(
                    ready()
                        .flat_map(|ep| std::iter::repeat_n(zone(ep), ep.addresses().len()))
                        .collect(),
                )
            })
            .collect()
    };
    let kind = match &svc.kind {
        ServiceKind::ClusterIp(ips) => EntryKind::ClusterIp(ips.clone()),
        ServiceKind::Headless => EntryKind::Headless,
        ServiceKind::ExternalName(target) => {
            EntryKind::ExternalName(external_target(target).map(Box::new))
        }
    };
    let entry = ServiceEntry {
        name: Arc::from(svc.name.to_ascii_lowercase()),
        namespace: Arc::from(svc.namespace.to_ascii_lowercase()),
        kind,
        ports: svc.ports.clone(),
        groups,
        external: svc.external.clone().into_boxed_slice(),
    };
    let has_ready = entry.endpoints().next().is_some();
    if config.ignore_empty_service && matches!(entry.kind, EntryKind::ClusterIp(_)) && !has_ready {
        return None;
    }
    let exposed = config
        .labels
        .as_ref()
        .is_none_or(|sel| sel.matches(&svc.labels));
    Some((entry, exposed))
}

fn endpoint_label(
    ep: &crate::cluster::model::Endpoint,
    endpoint_pod_names: bool,
) -> Option<Arc<str>> {
    if let Some(hostname) = ep.hostname().filter(|h| !h.is_empty()) {
        return Some(Arc::from(hostname.to_ascii_lowercase()));
    }
    if endpoint_pod_names {
        if let Some(pod) = ep.target_pod().filter(|p| !p.is_empty() && p.len() < 64) {
            return Some(Arc::from(pod.to_ascii_lowercase()));
        }
    }
    None
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

pub mod multicluster;
mod name_servers;
#[cfg(test)]
mod tests;
