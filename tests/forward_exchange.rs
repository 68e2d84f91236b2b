//! The `forward` engine against fake upstream DNS servers on 127.0.0.1 (nothing leaves loopback).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn::config::model::Location;
use cairn::dns::Transport;
use cairn::metrics::Metrics;
use cairn::plugin::forward::{ForwardConfig, ForwardPolicy};
use cairn::plugin::forward::{ForwardError, Forwarder, Timeouts};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, Instant};

/// What a fake upstream does with a query.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    /// One A record, 10.0.0.1.
    Answer,
    /// Over UDP: first a response with a wrong ID, then one with a different question, then
    /// the right one.
    Spoof,
    /// Over UDP: TC and no records; over TCP: 40 A records.
    TruncateUdp,
    /// Never answers anything.
    Silent,
    /// Answers after this long.
    Slow(Duration),
    /// Answers queries but not health checks (`. NS`).
    IgnoreHealthChecks,
    /// Answers, and over TCP closes the connection after each answer.
    AnswerThenClose,
}

#[derive(Default)]
struct Counts {
    udp: AtomicUsize,
    tcp: AtomicUsize,
    tcp_connections: AtomicUsize,
    health_checks: AtomicUsize,
}

struct Fake {
    addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    counts: Arc<Counts>,
    last_query: Arc<Mutex<Option<Message>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Fake {
    /// A fake upstream listening on UDP and TCP on the same loopback port.
    async fn start(behaviour: Behaviour) -> Fake {
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            let port = udp.local_addr().unwrap().port();
            if let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
                break (Arc::new(udp), tcp);
            }
        };
        let addr = udp.local_addr().unwrap();
        let behaviour = Arc::new(Mutex::new(behaviour));
        let counts = Arc::new(Counts::default());
        let last_query = Arc::new(Mutex::new(None));
        let ctx = Ctx {
            behaviour: behaviour.clone(),
            counts: counts.clone(),
            last_query: last_query.clone(),
        };
        let udp_task = tokio::spawn({
            let ctx = ctx.clone();
            async move {
                let mut buf = vec![0u8; 65535];
                loop {
                    let (n, from) = udp.recv_from(&mut buf).await.unwrap();
                    let Ok(query) = Message::from_vec(&buf[..n]) else {
                        continue;
                    };
                    let (ctx, udp) = (ctx.clone(), udp.clone());
                    tokio::spawn(async move {
                        for reply in ctx.replies(&query, false).await {
                            let _ = udp.send_to(&reply.to_vec().unwrap(), from).await;
                        }
                    });
                }
            }
        });
        let tcp_task = tokio::spawn(async move {
            loop {
                let (mut conn, _) = tcp.accept().await.unwrap();
                ctx.counts.tcp_connections.fetch_add(1, Ordering::SeqCst);
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    while let Ok(len) = conn.read_u16().await {
                        let mut buf = vec![0u8; usize::from(len)];
                        if conn.read_exact(&mut buf).await.is_err() {
                            return;
                        }
                        let query = Message::from_vec(&buf).unwrap();
                        for reply in ctx.replies(&query, true).await {
                            let wire = reply.to_vec().unwrap();
                            let mut framed = (wire.len() as u16).to_be_bytes().to_vec();
                            framed.extend_from_slice(&wire);
                            if conn.write_all(&framed).await.is_err() {
                                return;
                            }
                        }
                        if *ctx.behaviour.lock().unwrap() == Behaviour::AnswerThenClose {
                            return;
                        }
                    }
                });
            }
        });
        Fake {
            addr,
            behaviour,
            counts,
            last_query,
            tasks: vec![udp_task, tcp_task],
        }
    }

    fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    fn udp(&self) -> usize {
        self.counts.udp.load(Ordering::SeqCst)
    }

    fn tcp(&self) -> usize {
        self.counts.tcp.load(Ordering::SeqCst)
    }

    fn queries(&self) -> usize {
        self.udp() + self.tcp()
    }
}

#[derive(Clone)]
struct Ctx {
    behaviour: Arc<Mutex<Behaviour>>,
    counts: Arc<Counts>,
    last_query: Arc<Mutex<Option<Message>>>,
}

impl Ctx {
    async fn replies(&self, query: &Message, over_tcp: bool) -> Vec<Message> {
        let behaviour = *self.behaviour.lock().unwrap();
        let q = &query.queries[0];
        let health_check = q.query_type() == RecordType::NS && q.name().is_root();
        if health_check {
            self.counts.health_checks.fetch_add(1, Ordering::SeqCst);
        } else {
            let counter = if over_tcp {
                &self.counts.tcp
            } else {
                &self.counts.udp
            };
            counter.fetch_add(1, Ordering::SeqCst);
            *self.last_query.lock().unwrap() = Some(query.clone());
        }
        match behaviour {
            Behaviour::Silent => vec![],
            Behaviour::IgnoreHealthChecks if health_check => vec![],
            Behaviour::Slow(d) => {
                sleep(d).await;
                vec![answer(query, 1)]
            }
            Behaviour::Spoof if !over_tcp => {
                let mut wrong_id = answer(query, 0);
                wrong_id.metadata.id = query.metadata.id.wrapping_add(1);
                wrong_id.add_answer(a_record(q.name(), [6, 6, 6, 6]));
                let mut wrong_question = answer(query, 0);
                wrong_question.queries[0].set_name(Name::from_ascii("evil.example.").unwrap());
                wrong_question.add_answer(a_record(q.name(), [6, 6, 6, 6]));
                vec![wrong_id, wrong_question, answer(query, 1)]
            }
            Behaviour::TruncateUdp if !over_tcp => {
                let mut m = answer(query, 0);
                m.metadata.truncation = true;
                vec![m]
            }
            Behaviour::TruncateUdp => vec![answer(query, 40)],
            _ => vec![answer(query, 1)],
        }
    }
}

fn a_record(name: &Name, ip: [u8; 4]) -> Record {
    Record::from_rdata(name.clone(), 30, RData::A(A(Ipv4Addr::from(ip))))
}

/// A response echoing `query`'s ID, RD and question, with `records` A records 10.0.0.1...
fn answer(query: &Message, records: u8) -> Message {
    let mut m = Message::response(query.metadata.id, OpCode::Query);
    m.metadata.recursion_desired = query.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.add_query(query.queries[0].clone());
    for i in 0..records {
        m.add_answer(a_record(query.queries[0].name(), [10, 0, 0, i + 1]));
    }
    if let Some(e) = &query.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(e.max_payload());
        m.set_edns(edns);
    }
    m
}

fn query(id: u16, name: &str) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    m
}

fn config(to: Vec<SocketAddr>) -> ForwardConfig {
    ForwardConfig {
        location: Location {
            file: "Corefile".into(),
            line: 1,
        },
        from: hickory_proto::rr::Name::root(),
        to,
        except: vec![],
        force_tcp: false,
        prefer_udp: false,
        expire: Duration::from_secs(10),
        max_fails: 2,
        health_check: Duration::from_millis(50),
        health_check_no_rec: false,
        health_check_domain: hickory_proto::rr::Name::root(),
        policy: ForwardPolicy::Sequential,
        max_concurrent: None,
    }
}

const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_millis(200),
    read: Duration::from_millis(200),
    overall: Duration::from_millis(1000),
    health_check: Duration::from_millis(100),
};

fn forwarder(config: ForwardConfig) -> Arc<Forwarder> {
    Forwarder::with_timeouts(config, Arc::new(Metrics::new()), TIMEOUTS)
}

/// A loopback port nothing listens on (UDP answers with ICMP port unreachable, TCP with RST).
async fn closed_port() -> SocketAddr {
    let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    s.local_addr().unwrap()
}

fn first_a(m: &Message) -> Ipv4Addr {
    match m.answers.first().map(|r| &r.data) {
        Some(RData::A(a)) => a.0,
        other => panic!("no A record: {other:?}"),
    }
}

/// Polls `cond` every 10 ms for up to 3 s.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(3);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for: {what}");
        sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn answer_carries_the_client_id_rd_and_edns() {
    let up = Fake::start(Behaviour::Answer).await;
    let f = forwarder(config(vec![up.addr]));
    let mut q = query(0x1234, "www.example.com.");
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    edns.set_dnssec_ok(true);
    q.set_edns(edns);

    let r = f.exchange(&q).await.unwrap();
    assert_eq!(r.metadata.id, 0x1234);
    assert_eq!(r.metadata.message_type, MessageType::Response);
    assert_eq!(first_a(&r), Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(r.queries, q.queries);

    let seen = up.last_query.lock().unwrap().clone().unwrap();
    assert!(seen.metadata.recursion_desired);
    let seen_edns = seen.edns.expect("EDNS forwarded");
    assert_eq!(seen_edns.max_payload(), 1232);
    assert!(seen_edns.flags().dnssec_ok);
    assert_eq!(up.udp(), 1);
    assert_eq!(up.tcp(), 0);
}

#[tokio::test]
async fn upstream_sees_a_fresh_id_per_exchange() {
    let up = Fake::start(Behaviour::Answer).await;
    let f = forwarder(config(vec![up.addr]));
    let mut ids = std::collections::HashSet::new();
    for _ in 0..8 {
        let r = f.exchange(&query(7, "a.example.")).await.unwrap();
        assert_eq!(r.metadata.id, 7);
        ids.insert(up.last_query.lock().unwrap().as_ref().unwrap().metadata.id);
    }
    assert!(ids.len() > 1, "the same upstream ID every time: {ids:?}");
}

#[tokio::test]
async fn wrong_id_and_wrong_question_are_ignored() {
    let up = Fake::start(Behaviour::Spoof).await;
    let f = forwarder(config(vec![up.addr]));
    let r = f.exchange(&query(42, "www.example.com.")).await.unwrap();
    assert_eq!(r.metadata.id, 42);
    assert_eq!(r.answers.len(), 1);
    assert_eq!(first_a(&r), Ipv4Addr::new(10, 0, 0, 1));
}

#[tokio::test]
async fn truncated_answer_goes_to_a_udp_client_as_is() {
    let up = Fake::start(Behaviour::TruncateUdp).await;
    let f = forwarder(config(vec![up.addr]));
    let r = f.exchange(&query(1, "big.example.")).await.unwrap();
    assert!(r.metadata.truncation);
    assert_eq!((up.udp(), up.tcp()), (1, 0));
}

#[tokio::test]
async fn tcp_client_is_forwarded_over_tcp() {
    let up = Fake::start(Behaviour::TruncateUdp).await;
    let f = forwarder(config(vec![up.addr]));
    let r = f
        .exchange_via(&query(2, "big.example."), Transport::Tcp)
        .await
        .unwrap();
    assert!(!r.metadata.truncation);
    assert_eq!(r.answers.len(), 40);
    assert_eq!((up.udp(), up.tcp()), (0, 1));
}

#[tokio::test]
async fn prefer_udp_retries_a_truncated_answer_over_tcp() {
    let up = Fake::start(Behaviour::TruncateUdp).await;
    let mut c = config(vec![up.addr]);
    c.prefer_udp = true;
    let f = forwarder(c);
    for client in [Transport::Udp, Transport::Tcp] {
        let r = f
            .exchange_via(&query(3, "big.example."), client)
            .await
            .unwrap();
        assert_eq!(r.metadata.id, 3);
        assert!(!r.metadata.truncation);
        assert_eq!(r.answers.len(), 40);
    }
    assert_eq!((up.udp(), up.tcp()), (2, 2));
}

#[tokio::test]
async fn force_tcp_uses_tcp_only_and_reuses_the_connection() {
    let up = Fake::start(Behaviour::TruncateUdp).await;
    let mut c = config(vec![up.addr]);
    c.force_tcp = true;
    let f = forwarder(c);
    for id in 0..3 {
        let r = f.exchange(&query(id, "big.example.")).await.unwrap();
        assert_eq!(r.metadata.id, id);
        assert_eq!(r.answers.len(), 40);
    }
    assert_eq!((up.udp(), up.tcp()), (0, 3));
    assert_eq!(up.counts.tcp_connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_upstream_is_replaced() {
    let up = Fake::start(Behaviour::AnswerThenClose).await;
    let mut c = config(vec![up.addr]);
    c.force_tcp = true;
    let f = forwarder(c);
    for id in 0..3 {
        let r = f.exchange(&query(id, "a.example.")).await.unwrap();
        assert_eq!(r.metadata.id, id);
        sleep(Duration::from_millis(20)).await; // let the close arrive
    }
    assert_eq!(up.tcp(), 3);
    assert_eq!(up.counts.tcp_connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn idle_tcp_connections_expire() {
    let up = Fake::start(Behaviour::Answer).await;
    let mut c = config(vec![up.addr]);
    c.force_tcp = true;
    c.expire = Duration::from_millis(100);
    let f = forwarder(c);
    f.exchange(&query(1, "a.example.")).await.unwrap();
    f.exchange(&query(2, "a.example.")).await.unwrap();
    assert_eq!(up.counts.tcp_connections.load(Ordering::SeqCst), 1);
    sleep(Duration::from_millis(250)).await;
    f.exchange(&query(3, "a.example.")).await.unwrap();
    assert_eq!(up.counts.tcp_connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_dead_upstream_is_passed_over_with_every_policy() {
    let good = Fake::start(Behaviour::Answer).await;
    let silent = Fake::start(Behaviour::Silent).await;
    let closed = closed_port().await;
    for policy in [
        ForwardPolicy::Random,
        ForwardPolicy::RoundRobin,
        ForwardPolicy::Sequential,
    ] {
        for dead in [silent.addr, closed] {
            for to in [vec![dead, good.addr], vec![good.addr, dead]] {
                let mut c = config(to.clone());
                c.policy = policy;
                let f = forwarder(c);
                for id in 0..4 {
                    let started = Instant::now();
                    let r = f.exchange(&query(id, "a.example.")).await;
                    let r = r.unwrap_or_else(|e| panic!("{policy:?} {to:?}: {e}"));
                    assert_eq!(r.metadata.id, id);
                    assert!(started.elapsed() < TIMEOUTS.overall);
                }
            }
        }
    }
}

#[tokio::test]
async fn health_checks_mark_an_upstream_down_and_up_again() {
    let flaky = Fake::start(Behaviour::Silent).await;
    let good = Fake::start(Behaviour::Answer).await;
    let f = forwarder(config(vec![flaky.addr, good.addr])); // sequential: flaky first
    f.start();
    assert_eq!(
        f.upstreams(),
        vec![(flaky.addr, true, 0), (good.addr, true, 0)]
    );

    // The failure kicks off health checks; two failed checks (max_fails) mark it down.
    let r = f.exchange(&query(1, "a.example.")).await.unwrap();
    assert_eq!(good.queries(), 1);
    assert_eq!(r.metadata.id, 1);
    eventually("flaky marked down", || {
        let u = f.upstreams();
        !u[0].1 && u[0].2 >= 2
    })
    .await;
    assert_eq!(f.upstreams()[1], (good.addr, true, 0));

    // Down upstreams are skipped: no query reaches it and no time is lost on it.
    let before = flaky.queries();
    for id in 2..6 {
        let started = Instant::now();
        f.exchange(&query(id, "a.example.")).await.unwrap();
        assert!(
            started.elapsed() < TIMEOUTS.read,
            "waited on a down upstream"
        );
    }
    assert_eq!(flaky.queries(), before);
    assert_eq!(good.queries(), 5);

    // It recovers: the next health check succeeds and it is used again (first in sequence).
    flaky.set(Behaviour::Answer);
    eventually("flaky back up", || {
        f.upstreams()[0] == (flaky.addr, true, 0)
    })
    .await;
    f.exchange(&query(9, "a.example.")).await.unwrap();
    assert_eq!(flaky.queries(), before + 1);
    assert_eq!(good.queries(), 5);
}

#[tokio::test]
async fn max_fails_zero_never_marks_down() {
    let silent = Fake::start(Behaviour::Silent).await;
    let good = Fake::start(Behaviour::Answer).await;
    let mut c = config(vec![silent.addr, good.addr]);
    c.max_fails = 0;
    let f = forwarder(c);
    f.start();
    f.exchange(&query(1, "a.example.")).await.unwrap();
    sleep(Duration::from_millis(300)).await;
    assert_eq!(silent.counts.health_checks.load(Ordering::SeqCst), 0);
    assert!(f
        .upstreams()
        .iter()
        .all(|&(_, healthy, fails)| healthy && fails == 0));
}

#[tokio::test]
async fn when_all_are_down_one_is_tried_anyway() {
    let a = Fake::start(Behaviour::Silent).await;
    let b = Fake::start(Behaviour::Silent).await;
    let mut c = config(vec![a.addr, b.addr]);
    c.max_fails = 1;
    let f = forwarder(c);
    f.start();
    assert!(f.exchange(&query(1, "a.example.")).await.is_err());
    eventually("both down", || f.upstreams().iter().all(|u| !u.1)).await;

    // They answer queries again, but health checks still fail: all stay "down".
    a.set(Behaviour::IgnoreHealthChecks);
    b.set(Behaviour::IgnoreHealthChecks);
    let r = f.exchange(&query(2, "a.example.")).await.unwrap();
    assert_eq!(r.metadata.id, 2);
    assert!(f.upstreams().iter().all(|u| !u.1));
}

#[tokio::test]
async fn nothing_answers_errors_within_the_bound() {
    let a = Fake::start(Behaviour::Silent).await;
    let b = Fake::start(Behaviour::Silent).await;
    let f = forwarder(config(vec![a.addr, b.addr, closed_port().await]));
    let started = Instant::now();
    let err = f.exchange(&query(1, "a.example.")).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            ForwardError::Timeout(_) | ForwardError::NoHealthyUpstream
        ),
        "{err}"
    );
    assert!(
        took <= TIMEOUTS.overall + Duration::from_millis(150),
        "took {took:?}"
    );
    // Datagrams get lost, so silent upstreams are asked again until the deadline.
    assert!(a.queries() >= 2 && b.queries() >= 2);
}

#[tokio::test]
async fn refused_upstreams_error_at_once() {
    let f = forwarder(config(vec![closed_port().await, closed_port().await]));
    let started = Instant::now();
    let err = f.exchange(&query(1, "a.example.")).await.unwrap_err();
    assert!(matches!(err, ForwardError::Io { .. }), "{err}");
    assert!(started.elapsed() < TIMEOUTS.read, "waited for a timeout");
}

#[tokio::test]
async fn max_concurrent_refuses_the_query_beyond_the_limit() {
    let slow = Fake::start(Behaviour::Slow(Duration::from_millis(500))).await;
    let mut c = config(vec![slow.addr]);
    c.max_concurrent = Some(2);
    let patient = Timeouts {
        read: Duration::from_secs(2),
        overall: Duration::from_secs(3),
        ..TIMEOUTS
    };
    let f = Forwarder::with_timeouts(c, Arc::new(Metrics::new()), patient);
    let in_flight: Vec<_> = (0..2)
        .map(|id| {
            let f = f.clone();
            tokio::spawn(async move { f.exchange(&query(id, "slow.example.")).await })
        })
        .collect();
    eventually("two queries upstream", || slow.queries() == 2).await;

    let started = Instant::now();
    let err = f.exchange(&query(3, "slow.example.")).await.unwrap_err();
    assert!(matches!(err, ForwardError::Refused(2)), "{err}");
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(slow.queries(), 2);

    for t in in_flight {
        timeout(Duration::from_secs(2), t)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    f.exchange(&query(4, "slow.example.")).await.unwrap();
}

#[tokio::test]
async fn dropping_the_forwarder_stops_its_health_checks() {
    let silent = Fake::start(Behaviour::Silent).await;
    let f = forwarder(config(vec![silent.addr]));
    f.start();
    let _ = f.exchange(&query(1, "a.example.")).await;
    eventually("checking", || {
        silent.counts.health_checks.load(Ordering::SeqCst) > 0
    })
    .await;
    drop(f);
    sleep(Duration::from_millis(150)).await;
    let checks = silent.counts.health_checks.load(Ordering::SeqCst);
    sleep(Duration::from_millis(300)).await;
    assert_eq!(silent.counts.health_checks.load(Ordering::SeqCst), checks);
}
