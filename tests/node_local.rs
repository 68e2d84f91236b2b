//! Node-local mode end to end, in a lab of network namespaces (see `nodelocal_lab`): a pod, a
//! node running the emulated service proxy and the node-local Cairn, and the central Cairn
//! behind the kube-dns Service. The central and node-local Cairns answer `web.shop` with
//! different addresses (10.0.0.1 and 10.0.0.2), so every answer tells who gave it.
//!
//! Each test builds its own lab (namespaces named after the process and the test) and removes
//! it on drop. Without root, or where network namespaces cannot be made, the tests say why and
//! return.

mod common;
mod netlab;
mod nodelocal_lab;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Transport, TRANSPORTS};
use netlab::within;
use nodelocal_lab::{
    cluster_dns, link_local, metric, Lab, Proxy, CENTRAL_WEB, CHECK, CLUSTER_DNS, INTERFACE,
    LAMEDUCK, LINK_LOCAL, LOCAL_WEB, POD_ELSEWHERE, POD_HERE,
};
use serde_json::Value;

/// A lab for this test, or return (the reason was printed).
macro_rules! lab {
    ($name:expr) => {
        match Lab::new($name) {
            Some(lab) => lab,
            None => return,
        }
    };
}

/// How late a repair may be beyond the check interval (parallel tests share two CPUs).
const SLACK: Duration = Duration::from_millis(1500);

fn local() -> Vec<String> {
    vec![LOCAL_WEB.to_string()]
}

fn central() -> Vec<String> {
    vec![CENTRAL_WEB.to_string()]
}

/// The addresses node-local mode captures, as `ip addr` lists them.
fn captured() -> BTreeSet<String> {
    [LINK_LOCAL, CLUSTER_DNS]
        .iter()
        .map(|a| format!("{a}/32"))
        .collect()
}

/// The interface is there, up, with exactly the captured addresses (each once).
fn interface_in_place(lab: &Lab) -> Result<nodelocal_lab::Link, String> {
    let link = lab.link()?;
    let set: BTreeSet<String> = link.addresses.iter().cloned().collect();
    if set != captured() || link.addresses.len() != set.len() {
        return Err(format!("{INTERFACE} has addresses {:?}", link.addresses));
    }
    if !link.up {
        return Err(format!("{INTERFACE} is not up: {link:?}"));
    }
    Ok(link)
}

/// The chains of an `nft list table` listing: name → (the chain's `type ...` line, its rules).
fn chains(table: &str) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
    for line in table.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("chain ") {
            let name = name.trim_end_matches('{').trim().to_string();
            out.push((name, String::new(), Vec::new()));
        } else if let Some((_, head, rules)) = out.last_mut() {
            if line.starts_with("type ") {
                *head = line.to_string();
            } else if !line.is_empty() && line != "}" {
                rules.push(line.to_string());
            }
        }
    }
    out
}

/// `table inet cairn` is the contract's: four base chains at the right hooks and priorities,
/// and for every captured address and both protocols the notrack and accept rules.
fn assert_contract_table(table: &str) {
    let chains = chains(table);
    let chain = |name: &str| {
        chains
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no chain {name} in\n{table}"))
    };
    for (name, hook, priority) in [
        ("raw_prerouting", "prerouting", "raw"),
        ("raw_output", "output", "raw"),
        ("filter_input", "input", "filter"),
        ("filter_output", "output", "filter"),
    ] {
        let head = &chain(name).1;
        assert!(
            head.starts_with(&format!("type filter hook {hook} priority {priority};")),
            "chain {name} is `{head}`, expected type filter hook {hook} priority {priority}\n{table}"
        );
    }
    // (chain, ip saddr/daddr, sport/dport, verdict)
    let wanted = [
        ("raw_prerouting", "daddr", "dport", "notrack"),
        ("raw_output", "saddr", "sport", "notrack"),
        ("raw_output", "daddr", "dport", "notrack"),
        ("filter_input", "daddr", "dport", "accept"),
        ("filter_output", "saddr", "sport", "accept"),
    ];
    for (name, side, port, verdict) in wanted {
        for address in [LINK_LOCAL, CLUSTER_DNS] {
            for protocol in ["udp", "tcp"] {
                let found = chain(name).2.iter().any(|r| {
                    // A rule may carry a comment after its statements.
                    let r = r.split(" comment ").next().unwrap_or(r);
                    r.contains(&format!("ip {side} "))
                        && r.contains(address)
                        && r.contains(&format!("{protocol} {port} 53"))
                        && r.ends_with(verdict)
                });
                assert!(
                    found,
                    "chain {name} has no `ip {side} {address} {protocol} {port} 53 {verdict}`\n{table}"
                );
            }
        }
    }
}

#[test]
fn pods_are_answered_on_the_node_and_their_queries_are_not_tracked() {
    let lab = lab!("capture");

    // Before node-local mode: the Service path. The central Cairn answers, through the DNAT,
    // and the node tracks every flow. (This is what the checks below must not see.)
    lab.flush_conntrack();
    for t in TRANSPORTS {
        assert_eq!(lab.ask(&lab.pod, cluster_dns(), t), Ok(central()), "{t:?}");
    }
    let (udp, tcp) = (lab.dns_flows("udp"), lab.dns_flows("tcp"));
    assert!(
        udp.iter()
            .any(|f| f.contains(&format!("dst={CLUSTER_DNS} "))),
        "a DNATed UDP query is tracked: {udp:?}"
    );
    assert!(
        tcp.iter()
            .any(|f| f.contains(&format!("dst={CLUSTER_DNS} "))),
        "a DNATed TCP query is tracked: {tcp:?}"
    );
    assert!(
        lab.ask_within(
            &lab.pod,
            link_local(),
            Transport::Udp,
            Duration::from_millis(300)
        )
        .is_err(),
        "nothing answers at {LINK_LOCAL} yet"
    );

    let mut node_local = lab.start_node_local("node-local");
    let took = lab.wait_serving(&mut node_local);
    eprintln!("MEASURED node-local serving {took:?} after start");

    // Pods, at either address, over either transport, get node-local answers, untracked.
    lab.flush_conntrack();
    for server in [cluster_dns(), link_local()] {
        for t in TRANSPORTS {
            assert_eq!(lab.ask(&lab.pod, server, t), Ok(local()), "{server} {t:?}");
        }
    }
    // Host-network clients (the node itself) too: its output is captured as well.
    for t in TRANSPORTS {
        assert_eq!(
            lab.ask(&lab.node, cluster_dns(), t),
            Ok(local()),
            "from the node, {t:?}"
        );
    }
    let (udp, tcp) = (lab.dns_flows("udp"), lab.dns_flows("tcp"));
    assert!(
        udp.is_empty(),
        "node-local UDP queries left conntrack entries: {udp:?}"
    );
    assert!(
        tcp.is_empty(),
        "node-local TCP queries left conntrack entries: {tcp:?}"
    );

    // What is in place: the contract's table, the interface with both addresses.
    let table = lab.table().expect("table inet cairn is installed");
    assert_contract_table(&table);
    let link = interface_in_place(&lab).expect("the interface is in place");
    assert_eq!(
        link.kind, lab.expected_kind,
        "the link kind (dummy where the kernel has it, else a bridge): {link:?}"
    );
    if lab.expected_kind == "bridge" {
        let said = node_local
            .cairn
            .logged("no dummy interface type in this kernel");
        assert_eq!(said.len(), 1, "the fallback is logged once: {said:?}");
    }

    // /status and the metrics say so.
    let s = lab.node_local_status().expect("/status has node_local");
    assert_eq!(s["interface"], INTERFACE, "{s}");
    assert_eq!(s["kind"], lab.expected_kind, "{s}");
    assert_eq!(s["interface_present"], true, "{s}");
    assert_eq!(s["table"], "inet cairn", "{s}");
    assert_eq!(s["rules_present"], true, "{s}");
    let addresses: BTreeSet<(String, bool)> = s["addresses"]
        .as_array()
        .unwrap_or_else(|| panic!("addresses is a list: {s}"))
        .iter()
        .map(|a| {
            (
                a["address"].as_str().unwrap_or("?").to_string(),
                a["present"] == true,
            )
        })
        .collect();
    let expected: BTreeSet<(String, bool)> = [LINK_LOCAL, CLUSTER_DNS]
        .iter()
        .map(|a| (a.to_string(), true))
        .collect();
    assert_eq!(addresses, expected, "{s}");
    assert_eq!(
        s["check_interval_seconds"].as_f64(),
        Some(CHECK.as_secs_f64()),
        "{s}"
    );
    // `null` until the first check; then never older than an interval (and some slack).
    within(CHECK + SLACK, || {
        let s = lab.node_local_status()?;
        match s["last_check_age_seconds"].as_f64() {
            Some(age) if age <= (CHECK + SLACK).as_secs_f64() => Ok(()),
            _ => Err(format!("{s}")),
        }
    })
    .unwrap_or_else(|why| panic!("checks run every {CHECK:?}: {why}"));
    assert_eq!(s["failures"], 0, "{s}");
    assert_eq!(s["last_error"], Value::Null, "{s}");
    assert_eq!(s["other_instances"], 0, "{s}");
    // At least the queries above: 2 addresses x 2 transports from the pod, 2 from the node,
    // plus the waits.
    let queries = s["local_queries"].as_u64().unwrap_or(0);
    assert!(queries >= 6, "local_queries counts the queries: {s}");
    let metrics = lab.metrics().expect("/metrics answers");
    for gauge in [
        "cairn_nodelocal_interface_present",
        "cairn_nodelocal_rules_present",
    ] {
        assert_eq!(metric(&metrics, gauge), Some(1.0), "{gauge} in\n{metrics}");
    }
}

#[test]
fn a_proxy_that_drops_dns_is_not_noticed_on_a_node_local_node() {
    let lab = lab!("drop");
    // The broken proxy bites without node-local mode: the query is lost.
    lab.proxy(Proxy::Drop);
    let lost = lab.ask_within(
        &lab.pod,
        cluster_dns(),
        Transport::Udp,
        Duration::from_millis(300),
    );
    assert!(
        lost.is_err(),
        "the dropping proxy must lose the query: {lost:?}"
    );
    lab.proxy(Proxy::Dnat);

    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    let queries = lab.query_loop(cluster_dns());
    std::thread::sleep(Duration::from_millis(300));
    lab.proxy(Proxy::Drop);
    // Longer than a check interval: the repair loop sees the changed proxy rules too.
    std::thread::sleep(CHECK + Duration::from_millis(500));
    let tcp = lab.ask(&lab.pod, cluster_dns(), Transport::Tcp);
    let stats = queries.finish();
    eprintln!(
        "MEASURED dropping proxy: {} queries, {} first attempts failed, {} lost, answers {:?}",
        stats.sent,
        stats.first_attempt_failures.len(),
        stats.lost.len(),
        stats.answered
    );
    assert!(stats.sent > 50, "queries flowed: {stats:?}");
    assert!(stats.lost.is_empty(), "lost queries: {:?}", stats.lost);
    assert!(
        stats.first_attempt_failures.is_empty(),
        "queries failed on the first attempt: {:?}",
        stats.first_attempt_failures
    );
    let all_local: BTreeSet<&String> = stats.answered.keys().collect();
    assert_eq!(
        all_local,
        [format!("{:?}", local())].iter().collect(),
        "every answer is node-local: {:?}",
        stats.answered
    );
    assert_eq!(tcp, Ok(local()), "TCP through the dropping proxy");
}

#[test]
fn a_deleted_table_or_interface_is_repaired_within_the_check_interval() {
    let lab = lab!("repair");
    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    let table = lab.table().expect("table inet cairn is installed");
    let repairs = |lab: &Lab| -> u64 {
        lab.node_local_status()
            .map(|s| s["repairs"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    };
    let repaired = |lab: &Lab, what: &str| -> f64 {
        let text = lab.metrics().unwrap_or_default();
        metric(
            &text,
            &format!("cairn_nodelocal_repairs_total{{what=\"{what}\"}}"),
        )
        .unwrap_or(0.0)
    };
    let (repairs_before, rules_before) = (repairs(&lab), repaired(&lab, "rules"));

    // The table, deleted behind Cairn's back.
    lab.exec(&lab.node, &["nft", "delete", "table", "inet", "cairn"])
        .expect("the table is deleted");
    let (took, again) = within(CHECK + SLACK, || lab.table()).unwrap_or_else(|why| {
        panic!(
            "table inet cairn not back within {:?}: {why}",
            CHECK + SLACK
        )
    });
    eprintln!("MEASURED table repaired {took:?} after its deletion");
    assert_eq!(again, table, "the same table comes back");
    within(Duration::from_secs(2), || {
        let s = lab.node_local_status()?;
        if s["repairs"].as_u64().unwrap_or(0) > repairs_before
            && s["last_repair"]["what"] == "rules"
        {
            Ok(())
        } else {
            Err(format!("repairs not counted: {s}"))
        }
    })
    .expect("/status counts the rules repair");
    assert!(
        repaired(&lab, "rules") > rules_before,
        "cairn_nodelocal_repairs_total{{what=\"rules\"}} increased:\n{}",
        lab.metrics().unwrap_or_default()
    );
    lab.flush_conntrack();
    assert_eq!(
        lab.ask(&lab.pod, cluster_dns(), Transport::Udp),
        Ok(local())
    );
    assert_eq!(
        lab.dns_flows("udp"),
        Vec::<String>::new(),
        "untracked again"
    );

    // The interface, deleted behind Cairn's back (its addresses go with it).
    let (repairs_before, interface_before) = (repairs(&lab), repaired(&lab, "interface"));
    lab.exec(&lab.node, &["ip", "link", "del", INTERFACE])
        .expect("the interface is deleted");
    let (took, _) = within(CHECK + SLACK, || interface_in_place(&lab))
        .unwrap_or_else(|why| panic!("{INTERFACE} not back within {:?}: {why}", CHECK + SLACK));
    eprintln!("MEASURED interface repaired {took:?} after its deletion");
    within(Duration::from_secs(2), || {
        let s = lab.node_local_status()?;
        if s["repairs"].as_u64().unwrap_or(0) > repairs_before && s["interface_present"] == true {
            Ok(())
        } else {
            Err(format!("repairs not counted: {s}"))
        }
    })
    .expect("/status counts the interface repair");
    assert!(
        repaired(&lab, "interface") > interface_before,
        "cairn_nodelocal_repairs_total{{what=\"interface\"}} increased:\n{}",
        lab.metrics().unwrap_or_default()
    );
    assert_eq!(lab.table(), Ok(table), "the table is untouched");
    for server in [cluster_dns(), link_local()] {
        assert_eq!(
            lab.ask(&lab.pod, server, Transport::Udp),
            Ok(local()),
            "{server} after the repair"
        );
    }
}

#[test]
fn sigterm_removes_table_and_interface_and_the_service_answers_again() {
    let lab = lab!("sigterm");
    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    // Steady state: a moment after it serves (a SIGTERM during startup is the next test's).
    std::thread::sleep(Duration::from_millis(200));

    node_local.sigterm();
    let signalled = Instant::now();
    // Lameduck: answers go on (still node-local), /ready turns false.
    assert_eq!(
        lab.ask(&lab.pod, cluster_dns(), Transport::Udp),
        Ok(local()),
        "answered during lameduck"
    );
    within(Duration::from_millis(500), || {
        match lab.http(nodelocal_lab::READY, "/ready") {
            Ok((200, _)) => Err("still ready".to_string()),
            _ => Ok(()),
        }
    })
    .expect("/ready turns false at SIGTERM");

    let limit = LAMEDUCK + Duration::from_secs(1);
    within(limit.saturating_sub(signalled.elapsed()), || {
        match (lab.table(), lab.link()) {
            (Err(_), Err(_)) => Ok(()),
            (table, link) => Err(format!("table: {table:?}, link: {link:?}")),
        }
    })
    .unwrap_or_else(|why| panic!("table and interface not gone {limit:?} after SIGTERM: {why}"));
    eprintln!(
        "MEASURED table and interface gone {:?} after SIGTERM",
        signalled.elapsed()
    );
    let status = node_local
        .wait_exit(Duration::from_secs(3))
        .expect("node-local exits");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        !lab.tables().iter().any(|t| t.contains("cairn")),
        "no table of Cairn's left: {:?}",
        lab.tables()
    );

    // The switch back: the Service (DNAT to the central Cairn) answers, and tracks again.
    lab.flush_conntrack();
    for t in TRANSPORTS {
        assert_eq!(
            lab.ask(&lab.pod, cluster_dns(), t),
            Ok(central()),
            "{t:?} after node-local stopped"
        );
    }
    let udp = lab.dns_flows("udp");
    assert!(
        udp.iter()
            .any(|f| f.contains(&format!("dst={CLUSTER_DNS} "))),
        "the Service path is tracked again: {udp:?}"
    );
}

/// Kubelet may stop a pod at any moment, also while it starts. Signalled as soon as its
/// interface exists (before it serves), an instance must still leave the node as it found it:
/// no interface, no table, the Service path answering.
#[test]
fn sigterm_during_startup_leaves_the_node_to_the_service() {
    let lab = lab!("earlyterm");
    let mut node_local = lab.start_node_local("node-local");
    within(Duration::from_secs(10), || {
        node_local.assert_running();
        lab.link().map(|_| ())
    })
    .expect("the interface is made at startup");
    node_local.sigterm();
    let signalled = Instant::now();
    let status = node_local
        .wait_exit(LAMEDUCK + Duration::from_secs(5))
        .expect("it exits after SIGTERM");
    eprintln!(
        "MEASURED SIGTERM during startup: exited {:?} after the signal, {status}",
        signalled.elapsed()
    );
    let left = (lab.link(), lab.table());
    assert!(
        left.0.is_err() && left.1.is_err(),
        "SIGTERM during startup ({status}) left behind: interface {:?}, table {:?}",
        left.0,
        left.1.map(|_| "present")
    );
    for t in TRANSPORTS {
        assert_eq!(
            lab.ask(&lab.pod, cluster_dns(), t),
            Ok(central()),
            "{t:?}: the Service path answers"
        );
    }
}

#[test]
fn an_upgrade_hands_over_without_losing_a_query() {
    let lab = lab!("upgrade");
    let mut first = lab.start_node_local("node-local-1");
    lab.wait_serving(&mut first);
    let table = lab.table().expect("table inet cairn is installed");
    let link = interface_in_place(&lab).expect("the interface is in place");

    let queries = lab.query_loop(cluster_dns());
    std::thread::sleep(Duration::from_millis(300));
    let mut second = lab.start_node_local("node-local-2");
    // Ready: its own listeners logged, and every /ready (fresh connections, spread over both
    // instances' listeners) says so, and each instance sees the other.
    lab.wait_serving(&mut second);
    within(Duration::from_secs(5), || {
        for _ in 0..16 {
            match lab.http(nodelocal_lab::READY, "/ready")? {
                (200, _) => {}
                other => return Err(format!("/ready: {other:?}")),
            }
            let s = lab.node_local_status()?;
            if s["other_instances"] != 1 {
                return Err(format!("other_instances: {s}"));
            }
        }
        Ok(())
    })
    .expect("both instances ready, each seeing the other");
    std::thread::sleep(Duration::from_millis(300));

    first.sigterm();
    let exit = first
        .wait_exit(LAMEDUCK + Duration::from_secs(3))
        .expect("the first instance exits");
    assert!(exit.success(), "the first instance's exit status: {exit}");
    std::thread::sleep(Duration::from_millis(700));
    let stats = queries.finish();
    eprintln!(
        "MEASURED upgrade: {} queries, {} failed on the first attempt {:?}, {} lost after the \
         retry, answers {:?}",
        stats.sent,
        stats.first_attempt_failures.len(),
        stats.first_attempt_failures,
        stats.lost.len(),
        stats.answered
    );
    assert!(stats.sent > 100, "queries flowed: {stats:?}");
    assert!(
        stats.lost.is_empty(),
        "queries lost across the upgrade (after one retry): {:?}",
        stats.lost
    );
    // Not even a retry: the leaving instance hands its UDP sockets over before it closes them,
    // so no query waits in a socket that is going away (a resolver would wait 5 s for it).
    assert!(
        stats.first_attempt_failures.is_empty(),
        "queries that needed a retry across the upgrade: {:?}",
        stats.first_attempt_failures
    );
    let answers: BTreeSet<&String> = stats.answered.keys().collect();
    assert_eq!(
        answers,
        [format!("{:?}", local())].iter().collect(),
        "every answer is node-local (none from the Service path): {:?}",
        stats.answered
    );

    // The first instance left everything in place for the second.
    assert_eq!(lab.table(), Ok(table), "the table is in place");
    let after = interface_in_place(&lab).expect("the interface is in place");
    assert_eq!(after.index, link.index, "the same interface");
    second.assert_running();
    // `other_instances` is as of the last check: the first one's departure shows within one.
    let (_, s) = within(CHECK + SLACK, || {
        let s = lab.node_local_status()?;
        (s["other_instances"] == 0)
            .then_some(s.clone())
            .ok_or(format!("{s}"))
    })
    .unwrap_or_else(|why| panic!("the second instance sees no other one: {why}"));
    assert_eq!(s["interface_present"], true, "{s}");
    assert_eq!(s["rules_present"], true, "{s}");
    assert_eq!(s["repairs"], 0, "nothing had to be put back: {s}");
    for t in TRANSPORTS {
        assert_eq!(lab.ask(&lab.pod, cluster_dns(), t), Ok(local()), "{t:?}");
    }
}

#[test]
fn after_kill_9_a_restart_adopts_interface_and_table_and_serves_the_snapshot() {
    let mut lab = lab!("kill9");
    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    within(Duration::from_secs(5), || {
        lab.snapshot
            .exists()
            .then_some(())
            .ok_or_else(|| "no snapshot yet".to_string())
    })
    .expect("the snapshot is written");
    std::thread::sleep(Duration::from_millis(1200)); // the snapshot catches up (≤ 1 s)
    let table = lab.table().expect("table inet cairn is installed");
    let link = interface_in_place(&lab).expect("the interface is in place");

    node_local.kill9();
    // Nothing is removed on kill -9, but the capture needs a listener: with none, the
    // kube-dns address takes the Service path again (NodeLocal DNSCache would black-hole it).
    for t in TRANSPORTS {
        assert_eq!(
            lab.ask(&lab.pod, cluster_dns(), t),
            Ok(central()),
            "{t:?}: with nothing listening, the Service answers through the stale table"
        );
    }
    // The node's own clients too, once the dead instance's ports leave `@listening` (3 s).
    let (took, _) = within(Duration::from_secs(5), || {
        for t in TRANSPORTS {
            let got = lab.ask(&lab.node, cluster_dns(), t);
            if got != Ok(central()) {
                return Err(format!("{t:?} from the node: {got:?}"));
            }
        }
        Ok(())
    })
    .expect("host-network clients take the Service path after kill -9");
    eprintln!("MEASURED kill -9: the node's own queries on the Service path after {took:?}");
    assert_eq!(
        lab.table(),
        Ok(table.clone()),
        "the table stays after kill -9"
    );
    assert_eq!(
        interface_in_place(&lab),
        Ok(link.clone()),
        "the interface stays after kill -9"
    );

    // The API is gone too: the restarted instance has only its snapshot.
    lab.stop_api();
    let mut restarted = lab.start_node_local("node-local-restarted");
    let took = lab.wait_serving(&mut restarted);
    eprintln!("MEASURED restart after kill -9 (API gone): serving after {took:?}");
    let tables: Vec<String> = lab
        .tables()
        .into_iter()
        .filter(|t| t.contains("cairn"))
        .collect();
    assert_eq!(tables, ["table inet cairn"], "exactly one table of Cairn's");
    assert_eq!(lab.table(), Ok(table), "the same rules, once");
    let after = interface_in_place(&lab).expect("the interface is in place, addresses once");
    assert_eq!(
        after.index, link.index,
        "the interface is adopted, not made anew: before {link:?}, after {after:?}"
    );
    for server in [cluster_dns(), link_local()] {
        for t in TRANSPORTS {
            assert_eq!(
                lab.ask(&lab.pod, server, t),
                Ok(local()),
                "{server} {t:?} from the snapshot"
            );
        }
    }
    let s = lab.status().expect("/status answers");
    assert_eq!(s["data"]["source"], "snapshot", "{s}");
    assert_eq!(s["node_local"]["interface_present"], true, "{s}");
    assert_eq!(s["node_local"]["rules_present"], true, "{s}");
    eprintln!(
        "restarted instance's node_local status: {}",
        s["node_local"]
    );
}

#[test]
fn glibc_in_a_pod_resolves_through_node_local() {
    let mut lab = lab!("glibc");
    lab.pod_resolv_conf(&format!(
        "nameserver {CLUSTER_DNS}\nsearch shop.svc.cluster.local svc.cluster.local \
         cluster.local\noptions ndots:5\n"
    ));
    // The lab's path first: through the Service, glibc gets the central answer.
    assert_eq!(lab.getent("web"), Ok(CENTRAL_WEB.to_string()));

    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    for name in ["web", "web.shop", "web.shop.svc.cluster.local"] {
        assert_eq!(
            lab.getent(name),
            Ok(LOCAL_WEB.to_string()),
            "getent hosts {name}"
        );
    }
}

#[test]
fn pods_verified_needs_node_name_and_serves_only_this_nodes_pods() {
    let lab = lab!("nodename");
    let mut refused = lab.start_node_local_with("node-local-no-name", None);
    let status = refused
        .wait_exit(Duration::from_secs(10))
        .expect("without NODE_NAME Cairn refuses to start");
    assert!(!status.success(), "exit status without NODE_NAME: {status}");
    let said = refused.cairn.logged("NODE_NAME");
    assert!(
        !said.is_empty(),
        "the error names NODE_NAME; the log:\n{}",
        refused.cairn.logged("").join("\n")
    );

    // The start failed after the interface was up: the addresses are given back.
    let left = (lab.link(), lab.table());
    assert!(
        left.0.is_err() && left.1.is_err(),
        "the refused start left behind: interface {:?}, table {:?}",
        left.0,
        left.1.map(|_| "present")
    );
    assert_eq!(
        lab.ask(&lab.pod, cluster_dns(), Transport::Udp),
        Ok(central()),
        "the Service path answers"
    );

    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    assert_eq!(
        lab.ask_name(POD_HERE),
        Ok(vec!["10.244.1.5".to_string()]),
        "a pod on this node (node-a)"
    );
    assert_eq!(
        lab.ask_name(POD_ELSEWHERE),
        Err("NXDomain".to_string()),
        "a pod on node-b is not watched"
    );
}

/// `cairn doctor` on the node reads the node-local part of `/status` and shows it: the
/// interface and its addresses, the table, the local queries. (Which verdict a missing part
/// gives is unit-tested in `doctor::verdict`: here the 1 s repair would race it.)
#[test]
fn the_doctor_shows_the_node_local_state() {
    let lab = lab!("doctor");
    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    assert_eq!(
        lab.ask(&lab.pod, cluster_dns(), Transport::Udp),
        Ok(local())
    );
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.node,
            env!("CARGO_BIN_EXE_cairn"),
            "doctor",
        ])
        .args(["--dns", &format!("{CLUSTER_DNS}:53")])
        .args([
            "--status",
            &format!("http://{}/status", nodelocal_lab::HEALTH),
        ])
        .args(["--timeout", "1s"])
        .output()
        .expect("the doctor runs");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    let line = text
        .lines()
        .find(|l| l.contains("nodelocal"))
        .unwrap_or_else(|| panic!("no nodelocal line in:\n{text}"));
    assert!(line.starts_with('✓'), "{line}");
    for want in [
        "cairn0 (",
        LINK_LOCAL,
        CLUSTER_DNS,
        "table inet cairn present",
        "local queries",
    ] {
        assert!(line.contains(want), "`{want}` in {line}");
    }
    assert!(
        !line.contains(" 0 local queries"),
        "the pod's query was counted: {line}"
    );
}

/// `reload` applies what it can while running; the interface and the table are set up once, so
/// a changed `nodelocal` block is refused (logged, counted) and the running one keeps working.
#[test]
fn a_reload_that_changes_nodelocal_is_refused_and_the_capture_goes_on() {
    let lab = lab!("reload");
    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    let text = std::fs::read_to_string(&lab.corefile).expect("the lab's Corefile");
    assert!(text.contains("check 1s"), "{text}");
    std::fs::write(&lab.corefile, text.replace("check 1s", "check 30s")).expect("rewritten");
    within(Duration::from_secs(6), || {
        let refused = node_local
            .cairn
            .logged("the nodelocal block changed; restart Cairn to apply");
        (!refused.is_empty())
            .then_some(())
            .ok_or_else(|| "no refusal logged yet".to_string())
    })
    .expect("the reload is refused");
    // Still the 1 s check: a deleted table is back within it.
    lab.exec(&lab.node, &["nft", "delete", "table", "inet", "cairn"])
        .expect("the table is deleted");
    within(CHECK + SLACK, || lab.table().map(|_| ())).expect("repaired at the running interval");
    assert_eq!(
        lab.ask(&lab.pod, cluster_dns(), Transport::Udp),
        Ok(local())
    );
}

/// An interface that already has the name but is not Cairn's (an admin's bridge,
/// `nodelocaldns`, `kube-ipvs0`) is never adopted, changed or deleted: Cairn refuses to start
/// and says why.
#[test]
fn an_interface_that_is_not_cairns_is_left_alone() {
    let lab = lab!("foreign");
    lab.exec(
        &lab.node,
        &["ip", "link", "add", "cairn0", "type", "bridge"],
    )
    .expect("a bridge of someone else's");
    let before = lab.link().expect("the bridge is there");
    let mut node_local = lab.start_node_local("node-local");
    let status = node_local
        .wait_exit(Duration::from_secs(10))
        .expect("it refuses to start");
    assert!(!status.success(), "exit status {status}");
    assert!(
        !node_local.cairn.logged("is not Cairn's").is_empty(),
        "the refusal names the interface"
    );
    let after = lab.link().expect("the bridge is still there");
    assert_eq!(after.index, before.index, "the same interface");
    assert_eq!(after, before, "addresses and state untouched");
    assert!(lab.table().is_err(), "no table was installed");
}

/// An address on Cairn's interface that the Corefile does not capture (left by an earlier
/// `bind`, or added by hand) is removed at the next check; the captured ones stay.
#[test]
fn an_address_the_corefile_does_not_capture_is_removed() {
    let lab = lab!("stale");
    let mut node_local = lab.start_node_local("node-local");
    lab.wait_serving(&mut node_local);
    lab.exec(
        &lab.node,
        &["ip", "addr", "add", "10.96.0.99/32", "dev", "cairn0"],
    )
    .expect("an extra address");
    within(CHECK + SLACK, || {
        let link = lab.link()?;
        if link.addresses.iter().any(|a| a.starts_with("10.96.0.99/")) {
            return Err(format!("still there: {:?}", link.addresses));
        }
        Ok(())
    })
    .expect("the stale address is removed");
    let link = interface_in_place(&lab).expect("the captured addresses are in place");
    assert_eq!(link.addresses.len(), 2, "{link:?}");
    assert_eq!(
        lab.ask(&lab.pod, cluster_dns(), Transport::Udp),
        Ok(local())
    );
}
