//! What an entry is filed under: name (case-folded), type, class, DO and CD bits.

use super::*;

#[test]
fn dnssec_ok_and_cd_bits_separate_entries() {
    let c = cache(config());
    let t0 = Instant::now();
    let qname = name("www.example.org.");
    let k = |dnssec_ok, cd| CacheKey::new(&qname, RecordType::A, DNSClass::IN, dnssec_ok, cd);
    c.insert(k(true, false), &answer("www.example.org.", &[60]), t0);
    assert!(is_miss(&c.lookup(&k(false, false), t0)));
    assert!(is_miss(&c.lookup(&k(true, true), t0)));
    assert!(!is_miss(&c.lookup(&k(true, false), t0)));
    c.insert(k(false, false), &answer("www.example.org.", &[30]), t0);
    assert_eq!(c.len(), (2, 0));
    assert_eq!(hit_ttls(&c.lookup(&k(false, false), t0))[0], 30);
    assert_eq!(hit_ttls(&c.lookup(&k(true, false), t0))[0], 60);
}

#[test]
fn type_and_class_separate_entries() {
    let c = cache(config());
    let t0 = Instant::now();
    c.insert(
        key("www.example.org."),
        &answer("www.example.org.", &[60]),
        t0,
    );
    let qname = name("www.example.org.");
    let other_type = CacheKey::new(&qname, RecordType::AAAA, DNSClass::IN, false, false);
    let other_class = CacheKey::new(&qname, RecordType::A, DNSClass::CH, false, false);
    assert!(is_miss(&c.lookup(&other_type, t0)));
    assert!(is_miss(&c.lookup(&other_class, t0)));
}

#[test]
fn keys_ignore_case_and_trailing_dot() {
    let c = cache(config());
    let t0 = Instant::now();
    c.insert(
        key("WWW.Example.ORG."),
        &answer("www.example.org.", &[60]),
        t0,
    );
    assert!(!is_miss(&c.lookup(&key("www.example.org."), t0)));
    assert!(!is_miss(&c.lookup(&key("wWw.eXample.org"), t0)));
    assert_eq!(key("A.B."), key("a.b"));
    assert_eq!(key("A.B.").name().to_ascii(), "a.b.");
}
