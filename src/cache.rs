//! STUB until the cache branch lands: the agreed interface only.
use std::sync::Arc;

use hickory_proto::op::Message;
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::time::Instant;

use crate::config::model::CacheConfig;
use crate::metrics::Metrics;

pub struct CacheKey;
impl CacheKey {
    pub fn new(
        qname: &Name,
        qtype: RecordType,
        qclass: DNSClass,
        dnssec_ok: bool,
        checking_disabled: bool,
    ) -> Self {
        let _ = (qname, qtype, qclass, dnssec_ok, checking_disabled);
        CacheKey
    }
}

pub enum Lookup {
    Miss,
    Hit { response: Message, prefetch: bool },
    Stale { response: Message, verify: bool },
}

pub struct Cache;
impl Cache {
    pub fn new(config: CacheConfig, server: String, metrics: Arc<Metrics>) -> Cache {
        let _ = (config, server, metrics);
        Cache
    }
    pub fn covers(&self, qname: &Name) -> bool {
        let _ = qname;
        false
    }
    pub fn lookup(&self, key: &CacheKey, now: Instant) -> Lookup {
        let _ = (key, now);
        Lookup::Miss
    }
    pub fn insert(&self, key: CacheKey, response: &Message, now: Instant) {
        let _ = (key, response, now);
    }
    pub fn len(&self) -> (usize, usize) {
        (0, 0)
    }
}
