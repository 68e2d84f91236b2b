//! Property: deriving an index from the previous one ([`Index::update`]) gives exactly the index a
//! full build of the same state gives, for random changes under every filtering option.

use std::net::IpAddr;

use super::*;
use crate::cluster::model::{Endpoint, ExternalAddress, Labels, Namespace, Port};
use crate::config::model::Location;
use crate::plugin::kubernetes::LabelSelector;
use crate::source::kubernetes::change::{self, Change, Kind, Object, Scope};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const NAMESPACES: [&str; 3] = ["a", "b", "c"];
const OWN_IP: &str = "10.244.0.7";

fn ip(rng: &mut Rng, net: &str) -> IpAddr {
    format!("{net}.{}", 1 + rng.below(8)).parse().unwrap()
}

fn labels(rng: &mut Rng) -> Labels {
    let mut l = Labels::new();
    if rng.chance(50) {
        l.insert("env".into(), ["prod", "dev"][rng.below(2)].into());
    }
    l
}

fn random_change(rng: &mut Rng) -> Change {
    let ns = NAMESPACES[rng.below(NAMESPACES.len())].to_string();
    let svc = format!("s{}", rng.below(4));
    match rng.below(100) {
        0..=24 => Change::Applied(Object::Service(Service {
            namespace: ns,
            name: svc,
            kind: match rng.below(4) {
                0 => ServiceKind::Headless,
                1 => ServiceKind::ExternalName("web.a.svc.cluster.local".into()),
                _ => ServiceKind::ClusterIp(vec![ip(rng, "10.96.0")]),
            },
            ports: vec![Port {
                name: "http".into(),
                protocol: "TCP".into(),
                port: 80,
            }]
            .into(),
            publish_not_ready: rng.chance(20),
            labels: labels(rng),
            external: if rng.chance(20) {
                vec![ExternalAddress::Ip(ip(rng, "192.0.2"))]
            } else {
                Vec::new()
            },
        })),
        25..=34 => Change::Deleted(Kind::Service, (ns, svc)),
        35..=64 => {
            let endpoints = (0..rng.below(3))
                .map(|_| {
                    Endpoint::new(
                        [if rng.chance(5) {
                            OWN_IP.parse().unwrap()
                        } else {
                            ip(rng, "10.244.1")
                        }],
                        rng.chance(80),
                        rng.chance(40).then(|| format!("h{}", rng.below(3)).into()),
                        Some(format!("pod-{}", rng.below(5)).into()),
                    )
                })
                .collect();
            Change::Applied(Object::EndpointSlice(EndpointSlice {
                namespace: ns,
                name: format!("{svc}-{}", rng.below(2)),
                service: if rng.chance(90) {
                    Some(svc)
                } else {
                    Some("s0".into())
                },
                address_type: AddressType::IPv4,
                endpoints,
                ports: vec![Port {
                    name: "http".into(),
                    protocol: "TCP".into(),
                    port: 8080,
                }]
                .into(),
                multicluster: None,
            }))
        }
        65..=74 => Change::Deleted(Kind::EndpointSlice, (ns, format!("{svc}-{}", rng.below(2)))),
        75..=84 => Change::Applied(Object::Pod(Pod {
            namespace: ns,
            name: format!("pod-{}", rng.below(5)),
            ips: vec![ip(rng, "10.244.1")],
            phase: [PodPhase::Running, PodPhase::Pending, PodPhase::Succeeded][rng.below(3)],
            deleting: rng.chance(10),
        })),
        85..=89 => Change::Deleted(Kind::Pod, (ns, format!("pod-{}", rng.below(5)))),
        90..=94 => Change::Applied(Object::Namespace(Namespace {
            name: ns,
            labels: labels(rng),
        })),
        95..=97 => Change::Deleted(Kind::Namespace, (String::new(), ns)),
        _ => Change::Relisted(
            Scope {
                kind: Kind::Service,
                namespace: Some(ns),
            },
            Vec::new(),
        ),
    }
}

/// Everything an index answers from, in a canonical order.
fn canonical(ix: &Index) -> Vec<String> {
    let mut out = Vec::new();
    for (ns, entry) in &ix.namespaces {
        out.push(format!("ns {ns}"));
        for (name, svc) in &entry.services {
            out.push(format!("svc {ns}/{name} {svc:?}"));
        }
    }
    for (ip, r) in ix.reverse.iter() {
        out.push(format!("ptr {ip} {r:?}"));
    }
    for (k, _) in ix.pod_ips.iter() {
        out.push(format!("pod {k:?}"));
    }
    out.push(format!("ns-records {:?}", ix.nameservers));
    out.push(format!("serial {} synced {}", ix.serial, ix.synced));
    out.sort();
    out
}

fn configs() -> Vec<KubernetesConfig> {
    let base = KubernetesConfig::with_zones(
        vec!["cluster.local.".into(), "in-addr.arpa.".into()],
        Location {
            file: "Corefile".into(),
            line: 1,
        },
    );
    let with = |f: &dyn Fn(&mut KubernetesConfig)| {
        let mut k = base.clone();
        f(&mut k);
        k
    };
    vec![
        base.clone(),
        with(&|k| k.labels = Some("env=prod".parse::<LabelSelector>().unwrap())),
        with(&|k| k.namespaces = vec!["a".into(), "c".into()]),
        with(&|k| k.namespace_labels = Some("env".parse::<LabelSelector>().unwrap())),
        with(&|k| k.ignore_empty_service = true),
        with(&|k| k.pods = PodMode::Verified),
        with(&|k| k.endpoint_pod_names = true),
        with(&|k| k.noendpoints = true),
    ]
}

#[test]
fn incremental_updates_equal_a_full_build() {
    let own: Vec<IpAddr> = vec![OWN_IP.parse().unwrap()];
    for (c, config) in configs().iter().enumerate() {
        for seed in 0..12u64 {
            let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (seed * 7919 + c as u64));
            let mut state = ClusterState::default();
            for ns in NAMESPACES {
                change::apply(
                    &mut state,
                    Change::Applied(Object::Namespace(Namespace {
                        name: ns.into(),
                        labels: labels(&mut rng),
                    })),
                );
            }
            let mut index = Index::build(&state, config, &own, 1, true);
            for step in 0..120u32 {
                let mut affected = Affected::default();
                for _ in 0..1 + rng.below(4) {
                    let change = random_change(&mut rng);
                    change::note(&state, &change, &mut affected);
                    change::apply(&mut state, change);
                }
                let serial = step + 2;
                index = index.update(&state, config, &affected, serial, true);
                let full = Index::build(&state, config, &own, serial, true);
                assert_eq!(
                    canonical(&index),
                    canonical(&full),
                    "config {c}, seed {seed}, step {step}, affected {affected:?}"
                );
            }
        }
    }
}
