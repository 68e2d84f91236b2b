//! A synthetic cluster of a chosen size, shaped the way the EndpointSlice controller writes it
//! (one slice per Service, ready endpoints with a pod `targetRef`), for benchmarks and size
//! tests: `bench/` measures memory and cold start on it, and the snapshot tests check its
//! encoded size. Deterministic, so runs compare.

use std::net::IpAddr;

use super::model::{
    AddressType, ClusterState, Endpoint, EndpointSlice, Namespace, Port, Service, ServiceKind,
};

/// `services` ClusterIP Services round robin over `namespaces` namespaces (`team-NN`), each
/// with one EndpointSlice of `per_service` ready endpoints.
pub fn cluster(services: usize, per_service: usize, namespaces: usize) -> ClusterState {
    let namespaces = namespaces.max(1);
    let mut state = ClusterState::default();
    for n in 0..namespaces {
        let name = format!("team-{n:02}");
        state.namespaces.insert(
            name.clone(),
            Namespace {
                labels: [("kubernetes.io/metadata.name", name.as_str())]
                    .into_iter()
                    .collect(),
                name,
            },
        );
    }
    let port = |name: &str, port: u16| Port {
        name: name.into(),
        protocol: "TCP".into(),
        port,
    };
    for i in 0..services {
        let ns = format!("team-{:02}", i % namespaces);
        let name = format!("svc-{i}");
        let [_, _, a, b] = (i as u32).to_be_bytes();
        state.services.insert(
            (ns.clone(), name.clone()),
            Service {
                namespace: ns.clone(),
                name: name.clone(),
                kind: ServiceKind::ClusterIp(vec![IpAddr::from([10, 96, a, b])]),
                ports: vec![port("http", 80)].into(),
                publish_not_ready: false,
                labels: [("app", name.as_str())].into_iter().collect(),
                external: Vec::new(),
            },
        );
        let endpoints = (0..per_service)
            .map(|j| {
                let host = (i * per_service + j) as u32;
                let [_, x, y, z] = host.to_be_bytes();
                Endpoint::new(
                    [IpAddr::from([10, 128 + (x & 0x3f), y, z])],
                    true,
                    None,
                    Some(format!("{name}-7d9f8b6c5-{j:05x}").into()),
                )
            })
            .collect();
        let slice = format!("{name}-x7k2p");
        state.endpoint_slices.insert(
            (ns.clone(), slice.clone()),
            EndpointSlice {
                namespace: ns,
                name: slice,
                service: Some(name),
                address_type: AddressType::IPv4,
                endpoints,
                ports: vec![port("http", 8080)].into(),
                multicluster: None,
            },
        );
    }
    state
}
