//! Property: whatever sequence of changes the API goes through, interleaved with dropped watch
//! connections and compactions (410 Gone), Cairn converges to exactly the answers a fresh load
//! of the final state gives. Seeded, bounded in operations and time.

mod api;
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use hickory_proto::rr::RecordType;
use serde_json::{json, Value};

use api::{eventually, namespace, service, slice, start_api, start_cairn};
use common::{exchange, query, render_all, Transport};

const NAMESPACES: [&str; 2] = ["a", "b"];
const SERVICES: usize = 5;
const OPERATIONS: usize = 60;
const SEEDS: u64 = 5;

/// xorshift64*: small, seedable, good enough to pick operations.
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

fn random_service(rng: &mut Rng, ns: &str, name: &str) -> Value {
    if rng.chance(30) {
        service(ns, name, "None")
    } else {
        service(
            ns,
            name,
            &format!("10.96.{}.{}", rng.below(4), 1 + rng.below(200)),
        )
    }
}

fn random_slice(rng: &mut Rng, ns: &str, svc: &str, slice_name: &str) -> Value {
    let count = 1 + rng.below(3);
    let addresses: Vec<String> = (0..count)
        .map(|_| format!("10.244.{}.{}", rng.below(3), 1 + rng.below(50)))
        .collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let mut s = slice(ns, slice_name, svc, &refs, rng.chance(50));
    if rng.chance(20) {
        s["endpoints"][0]["conditions"] = json!({"ready": false});
    }
    s
}

/// The names whose answers are compared: every possible service (A, SRV), namespaces, and the
/// endpoint names a slice may create.
fn probes() -> Vec<(String, RecordType)> {
    let mut out = Vec::new();
    for ns in NAMESPACES {
        out.push((format!("{ns}.svc.cluster.local."), RecordType::A));
        for s in 0..SERVICES {
            let svc = format!("s{s}.{ns}.svc.cluster.local.");
            out.push((svc.clone(), RecordType::A));
            out.push((svc.clone(), RecordType::SRV));
            out.push((format!("_http._tcp.{svc}"), RecordType::SRV));
            for i in 0..3 {
                out.push((format!("s{s}-{i}.{svc}"), RecordType::A));
            }
        }
    }
    for c in 0..4 {
        for d in [1, 50, 100, 150, 200] {
            out.push((format!("{d}.{c}.96.10.in-addr.arpa."), RecordType::PTR));
        }
    }
    out
}

fn snapshot(addr: SocketAddr) -> Vec<String> {
    probes()
        .into_iter()
        .map(|(name, qtype)| {
            let m = exchange(addr, Transport::Udp, &query(&name, qtype, Some(4096)))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut answers = render_all(&m.answers);
            answers.sort();
            format!("{name} {qtype} {} {answers:?}", m.metadata.response_code)
        })
        .collect()
}

/// A server loaded fresh from the API's current objects, as a dump.
fn fresh(api: &apisim::ApiServer) -> cairn::server::RunningServer {
    let mut items = Vec::new();
    for kind in ["Namespace", "Service", "EndpointSlice"] {
        items.extend(api.objects(kind));
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let state = cairn::source::file::parse_dump(&list.to_string(), "apisim")
        .expect("the API's objects load as a dump")
        .state;
    let config = cairn::config::parse_corefile(
        ".:0 {\n bind 127.0.0.1\n kubernetes cluster.local in-addr.arpa\n}\n",
        Path::new("Corefile"),
        &|_: &str| None,
    )
    .unwrap();
    cairn::run::start(config, state).unwrap()
}

#[test]
fn random_changes_with_disconnects_and_410s_converge_to_a_fresh_load() {
    for seed in 1..=SEEDS {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let mut initial = vec![namespace("a"), namespace("b")];
        for ns in NAMESPACES {
            for s in 0..SERVICES {
                if rng.chance(60) {
                    let name = format!("s{s}");
                    initial.push(random_service(&mut rng, ns, &name));
                    initial.push(random_slice(&mut rng, ns, &name, &format!("{name}-x")));
                }
            }
        }
        let api = start_api(&initial);
        api.server.set_bookmark_interval(Duration::from_millis(200));
        let cairn = start_cairn(&api::corefile(&api.kubeconfig, ""), Duration::from_secs(10));
        assert!(cairn.status.borrow().synced, "seed {seed}: first sync");

        let (mut disconnects, mut compactions) = (0, 0);
        for _ in 0..OPERATIONS {
            let ns = NAMESPACES[rng.below(NAMESPACES.len())];
            let name = format!("s{}", rng.below(SERVICES));
            let slice_name = format!("{name}-{}", ["x", "y"][rng.below(2)]);
            match rng.below(100) {
                0..=29 => {
                    let svc = random_service(&mut rng, ns, &name);
                    api.server.apply(svc).unwrap();
                }
                30..=44 => {
                    let _ = api.server.delete("Service", Some(ns), &name);
                }
                45..=74 => {
                    let s = random_slice(&mut rng, ns, &name, &slice_name);
                    api.server.apply(s).unwrap();
                }
                75..=86 => {
                    let _ = api.server.delete("EndpointSlice", Some(ns), &slice_name);
                }
                87..=92 => {
                    api.server.disconnect_watches();
                    disconnects += 1;
                }
                _ => {
                    api.server.compact();
                    compactions += 1;
                }
            }
            if rng.chance(15) {
                std::thread::sleep(Duration::from_millis(rng.below(30) as u64));
            }
        }

        let expected_server = fresh(&api.server);
        let expected = snapshot(expected_server.local_addrs()[0]);
        eventually(Duration::from_secs(15), || {
            let got = snapshot(cairn.addr);
            let diff: Vec<String> = got
                .iter()
                .zip(&expected)
                .filter(|(g, e)| g != e)
                .map(|(g, e)| format!("\n  got  {g}\n  want {e}"))
                .collect();
            if diff.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "seed {seed} ({disconnects} disconnects, {compactions} compactions): {} of {} probes differ:{}",
                    diff.len(),
                    expected.len(),
                    diff.join("")
                ))
            }
        });
    }
}
