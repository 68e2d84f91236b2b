use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, NS, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tokio::time::Instant;

use super::*;
use crate::corefile::Location;

mod keys;
mod refresh;

fn config() -> CacheConfig {
    CacheConfig {
        location: Location {
            file: PathBuf::from("Corefile"),
            line: 1,
        },
        zones: Vec::new(),
        success: CacheClass {
            capacity: 9984,
            max_ttl: 3600,
            min_ttl: 5,
        },
        denial: CacheClass {
            capacity: 9984,
            max_ttl: 1800,
            min_ttl: 5,
        },
        disable_success: None,
        disable_denial: None,
        prefetch: None,
        serve_stale: None,
        keepttl: false,
    }
}

fn cache(config: CacheConfig) -> Cache {
    Cache::new(config, "dns://:53".into(), Arc::new(Metrics::new()))
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn key(qname: &str) -> CacheKey {
    CacheKey::new(&name(qname), RecordType::A, DNSClass::IN, false, false)
}

fn msg(qname: &str, rcode: ResponseCode) -> Message {
    let mut m = Message::response(7, OpCode::Query);
    m.metadata.response_code = rcode;
    m.metadata.recursion_available = true;
    m.add_query(Query::query(name(qname), RecordType::A));
    m
}

/// NOERROR: one A per TTL in the answer, plus an NS in authority and glue in additional with
/// long TTLs.
fn answer(qname: &str, ttls: &[u32]) -> Message {
    let mut m = msg(qname, ResponseCode::NoError);
    for (i, &ttl) in ttls.iter().enumerate() {
        let rdata = RData::A(A::new(10, 0, 0, i as u8 + 1));
        m.add_answer(Record::from_rdata(name(qname), ttl, rdata));
    }
    let ns = RData::NS(NS(name("ns.example.org.")));
    m.add_authority(Record::from_rdata(name("example.org."), 86400, ns));
    let glue = RData::A(A::new(192, 0, 2, 53));
    m.add_additional(Record::from_rdata(name("ns.example.org."), 86400, glue));
    m
}

fn soa(ttl: u32, minimum: u32) -> Record {
    let data = SOA::new(
        name("ns.example.org."),
        name("h.example.org."),
        1,
        2,
        3,
        4,
        minimum,
    );
    Record::from_rdata(name("example.org."), ttl, RData::SOA(data))
}

fn nxdomain(qname: &str, soa_ttl: u32, minimum: u32) -> Message {
    let mut m = msg(qname, ResponseCode::NXDomain);
    m.add_authority(soa(soa_ttl, minimum));
    m
}

fn nodata(qname: &str, soa_ttl: u32, minimum: u32) -> Message {
    let mut m = msg(qname, ResponseCode::NoError);
    m.add_authority(soa(soa_ttl, minimum));
    m
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Every record's TTL of a hit (panics on anything else).
fn hit_ttls(l: &Lookup) -> Vec<u32> {
    match l {
        Lookup::Hit { response, .. } => all_ttls(response),
        other => panic!("expected a hit, got {other:?}"),
    }
}

fn all_ttls(m: &Message) -> Vec<u32> {
    m.answers
        .iter()
        .chain(&m.authorities)
        .chain(&m.additionals)
        .map(|r| r.ttl)
        .collect()
}

fn is_miss(l: &Lookup) -> bool {
    matches!(l, Lookup::Miss)
}

fn prefetch_flag(l: &Lookup) -> bool {
    match l {
        Lookup::Hit { prefetch, .. } => *prefetch,
        other => panic!("expected a hit, got {other:?}"),
    }
}

#[test]
fn ttl_decrements_then_expires() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("www.example.org.");
    assert!(is_miss(&c.lookup(&k, t0)));
    c.insert(k.clone(), &answer("www.example.org.", &[300, 60]), t0);
    assert_eq!(c.len(), (1, 0));

    // Entry TTL is the smallest record TTL; every record of every section carries what is left.
    assert_eq!(hit_ttls(&c.lookup(&k, t0)), vec![60; 4]);
    assert_eq!(hit_ttls(&c.lookup(&k, t0 + secs(10.0))), vec![50; 4]);
    assert_eq!(hit_ttls(&c.lookup(&k, t0 + secs(59.9))), vec![1; 4]);
    assert!(is_miss(&c.lookup(&k, t0 + secs(60.0))));
    assert_eq!(c.len(), (0, 0), "expired entry dropped");
}

#[test]
fn hit_carries_rcode_flags_and_question() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("www.example.org.");
    let mut m = answer("www.example.org.", &[60]);
    m.metadata.authentic_data = true;
    c.insert(k.clone(), &m, t0);
    let Lookup::Hit {
        response, prefetch, ..
    } = c.lookup(&k, t0)
    else {
        panic!("expected a hit");
    };
    assert!(!prefetch);
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(response.metadata.authentic_data);
    assert!(response.metadata.recursion_available);
    assert_eq!(response.queries, m.queries);
    assert_eq!(response.answers.len(), 1);
}

#[test]
fn keepttl_serves_stored_ttl() {
    let c = cache(CacheConfig {
        keepttl: true,
        ..config()
    });
    let t0 = Instant::now();
    let k = key("www.example.org.");
    c.insert(k.clone(), &answer("www.example.org.", &[60]), t0);
    assert_eq!(hit_ttls(&c.lookup(&k, t0 + secs(30.0))), vec![60; 3]);
    assert!(is_miss(&c.lookup(&k, t0 + secs(60.0))), "still expires");
}

#[test]
fn ttl_clamped_to_class_bounds() {
    // (record TTL, success min, success max, TTL served at insert time)
    let cases = [
        (1, 5, 3600, 5),
        (60, 5, 3600, 60),
        (100_000, 5, 3600, 3600),
        (600, 5, 30, 30),
        (10, 30, 300, 30),
        (10, 60, 20, 20), // crossed bounds: the maximum wins
    ];
    for (ttl, min_ttl, max_ttl, want) in cases {
        let mut cfg = config();
        cfg.success.min_ttl = min_ttl;
        cfg.success.max_ttl = max_ttl;
        let c = cache(cfg);
        let t0 = Instant::now();
        let k = key("www.example.org.");
        c.insert(k.clone(), &answer("www.example.org.", &[ttl]), t0);
        let case = format!("ttl {ttl} in [{min_ttl}, {max_ttl}]");
        assert_eq!(hit_ttls(&c.lookup(&k, t0))[0], want, "{case}");
        let last = t0 + secs(f64::from(want) - 0.5);
        assert!(!is_miss(&c.lookup(&k, last)), "{case}: alive before expiry");
        let end = t0 + secs(f64::from(want));
        assert!(is_miss(&c.lookup(&k, end)), "{case}: gone at expiry");
    }
}

#[test]
fn zero_max_ttl_caches_nothing() {
    let mut cfg = config();
    cfg.success.max_ttl = 0;
    cfg.success.min_ttl = 0;
    let c = cache(cfg);
    let t0 = Instant::now();
    c.insert(key("a.example.org."), &answer("a.example.org.", &[60]), t0);
    assert_eq!(c.len(), (0, 0));
}

#[test]
fn negative_caching_uses_soa() {
    let c = cache(config());
    let t0 = Instant::now();

    // NXDOMAIN: min(SOA TTL 3600, MINIMUM 60) = 60.
    let nx = key("nope.example.org.");
    c.insert(nx.clone(), &nxdomain("nope.example.org.", 3600, 60), t0);
    // NODATA: min(SOA TTL 30, MINIMUM 300) = 30.
    let nd = key("empty.example.org.");
    c.insert(nd.clone(), &nodata("empty.example.org.", 30, 300), t0);
    // Denial max TTL (1800) caps a long SOA.
    let long = key("long.example.org.");
    c.insert(
        long.clone(),
        &nxdomain("long.example.org.", 86400, 86400),
        t0,
    );
    assert_eq!(c.len(), (0, 3));

    let Lookup::Hit { response, .. } = c.lookup(&nx, t0 + secs(10.0)) else {
        panic!("expected a hit");
    };
    assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(all_ttls(&response), vec![50]);
    assert!(is_miss(&c.lookup(&nx, t0 + secs(60.0))));

    let Lookup::Hit { response, .. } = c.lookup(&nd, t0) else {
        panic!("expected a hit");
    };
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert!(response.answers.is_empty());
    assert_eq!(all_ttls(&response), vec![30]);
    assert!(is_miss(&c.lookup(&nd, t0 + secs(30.0))));

    assert_eq!(hit_ttls(&c.lookup(&long, t0)), vec![1800]);
}

#[test]
fn nxdomain_without_soa_is_not_cached() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("nope.example.org.");
    c.insert(
        k.clone(),
        &msg("nope.example.org.", ResponseCode::NXDomain),
        t0,
    );
    assert_eq!(c.len(), (0, 0));
    assert!(is_miss(&c.lookup(&k, t0)));
}

#[test]
fn servfail_cached_five_seconds_and_never_stale() {
    let c = cache(CacheConfig {
        serve_stale: Some(ServeStale {
            duration: Duration::from_secs(3600),
            verify: false,
        }),
        ..config()
    });
    let t0 = Instant::now();
    let k = key("broken.example.org.");
    c.insert(
        k.clone(),
        &msg("broken.example.org.", ResponseCode::ServFail),
        t0,
    );
    assert_eq!(c.len(), (0, 1), "SERVFAIL goes to the denial class");
    let Lookup::Hit { response, .. } = c.lookup(&k, t0 + secs(4.9)) else {
        panic!("expected a hit");
    };
    assert_eq!(response.metadata.response_code, ResponseCode::ServFail);
    assert!(is_miss(&c.lookup(&k, t0 + secs(5.0))));
}

#[test]
fn refused_is_not_cached() {
    let c = cache(config());
    let t0 = Instant::now();
    c.insert(
        key("a.example.org."),
        &msg("a.example.org.", ResponseCode::Refused),
        t0,
    );
    assert_eq!(c.len(), (0, 0));
}

#[test]
fn disable_success_for_a_zone() {
    let c = cache(CacheConfig {
        disable_success: Some(vec![name("example.org.")]),
        ..config()
    });
    let t0 = Instant::now();
    let inside = key("www.Example.org.");
    c.insert(inside.clone(), &answer("www.example.org.", &[60]), t0);
    assert!(is_miss(&c.lookup(&inside, t0)), "success disabled in zone");

    let nx = key("nope.example.org.");
    c.insert(nx.clone(), &nxdomain("nope.example.org.", 60, 60), t0);
    assert!(!is_miss(&c.lookup(&nx, t0)), "denial still cached in zone");

    let outside = key("www.example.com.");
    c.insert(outside.clone(), &answer("www.example.com.", &[60]), t0);
    assert!(!is_miss(&c.lookup(&outside, t0)), "success cached outside");
    assert_eq!(c.len(), (1, 1));
}

#[test]
fn disable_denial_everywhere() {
    let c = cache(CacheConfig {
        disable_denial: Some(Vec::new()),
        ..config()
    });
    let t0 = Instant::now();
    c.insert(
        key("nope.example.org."),
        &nxdomain("nope.example.org.", 60, 60),
        t0,
    );
    c.insert(
        key("nope.example.com."),
        &nodata("nope.example.com.", 60, 60),
        t0,
    );
    c.insert(
        key("x.example.com."),
        &msg("x.example.com.", ResponseCode::ServFail),
        t0,
    );
    c.insert(
        key("www.example.org."),
        &answer("www.example.org.", &[60]),
        t0,
    );
    assert_eq!(c.len(), (1, 0));
}

#[test]
fn zones_restrict_what_is_cached() {
    let c = cache(CacheConfig {
        zones: vec![name("example.org.")],
        ..config()
    });
    assert!(c.covers(&name("example.org.")));
    assert!(c.covers(&name("A.EXAMPLE.ORG.")));
    assert!(!c.covers(&name("example.com.")));
    assert!(!c.covers(&name("badexample.org.")));
    let t0 = Instant::now();
    let out = key("www.example.com.");
    c.insert(out.clone(), &answer("www.example.com.", &[60]), t0);
    assert!(is_miss(&c.lookup(&out, t0)));
    c.insert(
        key("www.example.org."),
        &answer("www.example.org.", &[60]),
        t0,
    );
    assert_eq!(c.len(), (1, 0));
}

#[test]
fn capacity_evicts() {
    let mut cfg = config();
    cfg.success.capacity = 4;
    cfg.denial.capacity = 2;
    let c = cache(cfg);
    assert_eq!(c.success.shard_count(), 1);
    let t0 = Instant::now();
    let names: Vec<String> = (0..10).map(|i| format!("h{i}.example.org.")).collect();
    for n in &names {
        c.insert(key(n), &answer(n, &[60]), t0);
        assert!(!is_miss(&c.lookup(&key(n), t0)), "just inserted {n}");
    }
    for i in 0..5 {
        let n = format!("nx{i}.example.org.");
        c.insert(key(&n), &nxdomain(&n, 60, 60), t0);
    }
    assert_eq!(c.len(), (4, 2));
    let alive = names
        .iter()
        .filter(|n| !is_miss(&c.lookup(&key(n), t0)))
        .count();
    assert_eq!(alive, 4);
    assert_eq!(c.success.count_slow(), 4);
    assert_eq!(c.denial.count_slow(), 2);
}

#[test]
fn large_capacity_is_sharded_and_bounded() {
    let mut cfg = config();
    cfg.success.capacity = 1000;
    let c = cache(cfg);
    assert_eq!(c.success.shard_count(), 32);
    let t0 = Instant::now();
    for i in 0..5000 {
        let n = format!("h{i}.example.org.");
        c.insert(key(&n), &answer(&n, &[60]), t0);
    }
    let (success, _) = c.len();
    assert!(success <= 1000, "{success} entries");
    assert!(success > 900, "shards fill up: {success}");
    assert_eq!(c.success.count_slow(), success);
}

#[test]
fn truncated_not_cached() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("big.example.org.");
    let mut m = answer("big.example.org.", &[60]);
    m.metadata.truncation = true;
    c.insert(k.clone(), &m, t0);
    assert!(is_miss(&c.lookup(&k, t0)));
    assert_eq!(c.len(), (0, 0));
}

#[test]
fn question_mismatch_not_cached() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("asked.example.org.");
    c.insert(k.clone(), &answer("other.example.org.", &[60]), t0);
    let aaaa = CacheKey::new(
        &name("asked.example.org."),
        RecordType::AAAA,
        DNSClass::IN,
        false,
        false,
    );
    c.insert(aaaa, &answer("asked.example.org.", &[60]), t0);
    assert_eq!(c.len(), (0, 0));
}

#[test]
fn new_answer_replaces_other_class() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("flip.example.org.");
    c.insert(k.clone(), &nxdomain("flip.example.org.", 600, 600), t0);
    assert_eq!(c.len(), (0, 1));
    c.insert(
        k.clone(),
        &answer("flip.example.org.", &[60]),
        t0 + secs(1.0),
    );
    assert_eq!(c.len(), (1, 0));
    let Lookup::Hit { response, .. } = c.lookup(&k, t0 + secs(2.0)) else {
        panic!("expected a hit");
    };
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert_eq!(response.answers.len(), 1);
}

#[test]
fn opt_records_are_not_stored() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("www.example.org.");
    let mut m = answer("www.example.org.", &[60]);
    m.set_edns(hickory_proto::op::Edns::new());
    c.insert(k.clone(), &m, t0);
    let Lookup::Hit { response, .. } = c.lookup(&k, t0) else {
        panic!("expected a hit");
    };
    assert!(response.edns.is_none());
}

#[test]
fn concurrent_lookups_and_inserts() {
    const THREADS: usize = 8;
    const NAMES: usize = 500;
    let c = Arc::new(cache(config()));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut hits = 0;
                for round in 0..3 {
                    for i in 0..NAMES {
                        // Every thread touches every name, starting at a different place.
                        let i = (i + t * 61) % NAMES;
                        let n = format!("h{i}.example.org.");
                        let now = t0 + secs(f64::from(round));
                        if i.is_multiple_of(7) {
                            c.insert(key(&n), &nxdomain(&n, 60, 60), now);
                        } else {
                            c.insert(key(&n), &answer(&n, &[60]), now);
                        }
                        if !is_miss(&c.lookup(&key(&n), now)) {
                            hits += 1;
                        }
                    }
                }
                hits
            })
        })
        .collect();
    let hits: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(hits, THREADS * 3 * NAMES, "a name just inserted is found");
    let denial = (0..NAMES).filter(|i| i.is_multiple_of(7)).count();
    assert_eq!(c.len(), (NAMES - denial, denial));
    assert_eq!(c.success.count_slow(), NAMES - denial);
    assert_eq!(c.denial.count_slow(), denial);
}

#[test]
fn concurrent_eviction_stays_within_capacity() {
    let mut cfg = config();
    cfg.success.capacity = 256;
    let c = Arc::new(cache(cfg));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    let n = format!("t{t}-{i}.example.org.");
                    c.insert(key(&n), &answer(&n, &[60]), t0);
                    let _ = c.lookup(&key(&format!("t{t}-{}.example.org.", i / 2)), t0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (success, _) = c.len();
    assert!(success <= 256);
    assert_eq!(c.success.count_slow(), success);
}
