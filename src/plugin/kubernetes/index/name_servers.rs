//! The apex NS records of an index: which Services name the server (its own addresses are
//! their endpoints), and the addresses they are reached at.

use std::net::IpAddr;

use super::{EntryKind, Index, NameServer, ServiceEntry};
use crate::cluster::model::ExternalAddress;

/// The apex NS records: if one of the server's own addresses is an endpoint of a Service, that
/// Service names the server (ClusterIP: the service name with its cluster IPs as glue; headless:
/// the endpoint name with its address); otherwise `ns.dns.<zone>` with the own addresses.
pub(super) fn name_servers(services: &[(ServiceEntry, bool)], own_ips: &[IpAddr]) -> Vec<NameServer> {
    let mut out: Vec<NameServer> = Vec::new();
    for (svc, _) in services {
        let external: Vec<IpAddr> = svc
            .external
            .iter()
            .filter_map(|a| match a {
                ExternalAddress::Ip(ip) => Some(*ip),
                ExternalAddress::Hostname(_) => None,
            })
            .collect();
        for ep in svc.endpoints().filter(|ep| own_ips.contains(&ep.ip)) {
            let ns = match &svc.kind {
                EntryKind::ClusterIp(ips) => NameServer {
                    owner: Some((svc.namespace.clone(), svc.name.clone())),
                    labels: vec![(*svc.name).into(), (*svc.namespace).into(), "svc".into()],
                    glue: ips.clone(),
                    external: external.clone(),
                    headless: false,
                },
                EntryKind::Headless => NameServer {
                    owner: Some((svc.namespace.clone(), svc.name.clone())),
                    labels: vec![
                        ep.label().into(),
                        (*svc.name).into(),
                        (*svc.namespace).into(),
                        "svc".into(),
                    ],
                    glue: vec![ep.ip],
                    external: external.clone(),
                    headless: true,
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
            owner: None,
            labels: vec!["ns".into(), "dns".into()],
            glue: own_ips.to_vec(),
            external: own_ips.to_vec(),
            headless: false,
        });
    }
    out
}

impl Index {
    /// The addresses of the apex name servers, each once in order: the glue of every NS
    /// record (the kube-dns ClusterIPs when the server is its endpoint, else the own
    /// addresses), what `ns.dns.<zone>` answers, as CoreDNS's `nsAddrs` does.
    pub fn name_server_addresses(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = Vec::new();
        for ip in self.nameservers.iter().flat_map(|ns| &ns.glue) {
            if !ips.contains(ip) {
                ips.push(*ip);
            }
        }
        ips
    }
}
