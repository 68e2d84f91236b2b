//! Prefetch and serve-stale: when a lookup asks for a refresh, and what it serves meanwhile.

use super::*;

#[test]
fn prefetch_after_amount_hits_when_ttl_low() {
    let c = cache(CacheConfig {
        prefetch: Some(Prefetch {
            amount: 3,
            duration: Duration::from_secs(60),
            percentage: 10,
        }),
        ..config()
    });
    let t0 = Instant::now();
    let k = key("popular.example.org.");
    c.insert(k.clone(), &answer("popular.example.org.", &[100]), t0);

    assert!(
        !prefetch_flag(&c.lookup(&k, t0 + secs(40.0))),
        "1 hit, 60 s left"
    );
    assert!(
        !prefetch_flag(&c.lookup(&k, t0 + secs(80.0))),
        "2 hits, 20 s left"
    );
    assert!(
        !prefetch_flag(&c.lookup(&k, t0 + secs(85.0))),
        "3 hits, 15 s left"
    );
    assert!(
        prefetch_flag(&c.lookup(&k, t0 + secs(90.0))),
        "4 hits, 10 s left"
    );
    assert!(
        !prefetch_flag(&c.lookup(&k, t0 + secs(91.0))),
        "said once per entry"
    );

    // The refreshed entry keeps its hit count: the next low-TTL hit prefetches again.
    let t1 = t0 + secs(92.0);
    c.insert(k.clone(), &answer("popular.example.org.", &[100]), t1);
    assert!(!prefetch_flag(&c.lookup(&k, t1 + secs(50.0))));
    assert!(prefetch_flag(&c.lookup(&k, t1 + secs(95.0))));
}

#[test]
fn prefetch_needs_hits_without_gaps() {
    let c = cache(CacheConfig {
        prefetch: Some(Prefetch {
            amount: 2,
            duration: Duration::from_secs(10),
            percentage: 50,
        }),
        ..config()
    });
    let t0 = Instant::now();
    let k = key("rare.example.org.");
    c.insert(k.clone(), &answer("rare.example.org.", &[100]), t0);
    // Low TTL share, but each hit comes after a gap longer than the duration.
    assert!(!prefetch_flag(&c.lookup(&k, t0 + secs(55.0))));
    assert!(!prefetch_flag(&c.lookup(&k, t0 + secs(70.0))));
    assert!(!prefetch_flag(&c.lookup(&k, t0 + secs(85.0))));
    // Two hits within 10 s.
    assert!(prefetch_flag(&c.lookup(&k, t0 + secs(90.0))));
}

#[test]
fn no_prefetch_without_config() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("www.example.org.");
    c.insert(k.clone(), &answer("www.example.org.", &[100]), t0);
    for s in 90..100 {
        assert!(!prefetch_flag(&c.lookup(&k, t0 + secs(f64::from(s)))));
    }
}

fn stale_cache(verify: bool) -> Cache {
    cache(CacheConfig {
        serve_stale: Some(ServeStale {
            duration: Duration::from_secs(60),
            verify,
        }),
        ..config()
    })
}

#[test]
fn serve_stale_within_and_beyond_window() {
    for verify in [false, true] {
        let c = stale_cache(verify);
        let t0 = Instant::now();
        let k = key("www.example.org.");
        c.insert(k.clone(), &answer("www.example.org.", &[10]), t0);
        assert_eq!(hit_ttls(&c.lookup(&k, t0 + secs(9.0))), vec![1; 3]);
        for at in [10.0, 15.0, 69.9] {
            match c.lookup(&k, t0 + secs(at)) {
                Lookup::Stale {
                    response,
                    verify: v,
                } => {
                    assert_eq!(v, verify, "at {at}s");
                    assert_eq!(all_ttls(&response), vec![0; 3], "stale TTL is 0");
                    assert_eq!(response.answers.len(), 1);
                }
                other => panic!("verify={verify} at {at}s: expected stale, got {other:?}"),
            }
        }
        assert!(is_miss(&c.lookup(&k, t0 + secs(70.0))), "window over");
        assert_eq!(c.len(), (0, 0), "dropped after the window");
    }
}

#[test]
fn stale_entry_replaced_by_refresh() {
    let c = stale_cache(false);
    let t0 = Instant::now();
    let k = key("www.example.org.");
    c.insert(k.clone(), &answer("www.example.org.", &[10]), t0);
    assert!(matches!(
        c.lookup(&k, t0 + secs(20.0)),
        Lookup::Stale { .. }
    ));
    c.insert(
        k.clone(),
        &answer("www.example.org.", &[10]),
        t0 + secs(20.0),
    );
    assert_eq!(hit_ttls(&c.lookup(&k, t0 + secs(21.0))), vec![9; 3]);
}

#[test]
fn no_stale_without_config() {
    let c = cache(config());
    let t0 = Instant::now();
    let k = key("www.example.org.");
    c.insert(k.clone(), &answer("www.example.org.", &[10]), t0);
    assert!(is_miss(&c.lookup(&k, t0 + secs(10.0))));
}
