//! The `cache` plugin's metrics, under CoreDNS's names: `coredns_cache_entries{server,type,
//! zones,view}` (a gauge), `coredns_cache_hits_total{server,type,zones,view}`,
//! `coredns_cache_requests_total`, `coredns_cache_misses_total`,
//! `coredns_cache_served_stale_total` and `coredns_cache_prefetch_total` (`{server,zones,view}`).
//! Registered when the first cache is built; each cache resolves its series once.

use std::sync::{Arc, OnceLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::metrics::{view, PluginMetrics, Value};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Typed {
    server: Value,
    r#type: &'static str,
    zones: Value,
    view: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    server: Value,
    zones: Value,
    view: Value,
}

/// The registered families.
#[derive(Debug, Default)]
pub struct CacheMetrics {
    entries: Family<Typed, Gauge>,
    hits: Family<Typed, Counter>,
    requests: Family<Labels, Counter>,
    misses: Family<Labels, Counter>,
    served_stale: Family<Labels, Counter>,
    prefetch: Family<Labels, Counter>,
}

impl PluginMetrics for CacheMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = CacheMetrics::default();
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "coredns_cache_entries",
            "The number of elements in the cache",
            m.entries.clone(),
        );
        registry.register(
            "coredns_cache_requests",
            "The count of cache requests",
            m.requests.clone(),
        );
        registry.register("coredns_cache_hits", "The count of cache hits", m.hits.clone());
        registry.register(
            "coredns_cache_misses",
            "The count of cache misses. Deprecated, derive misses from cache hits/requests counters",
            m.misses.clone(),
        );
        registry.register(
            "coredns_cache_served_stale",
            "The number of requests served from stale cache entries",
            m.served_stale.clone(),
        );
        registry.register(
            "coredns_cache_prefetch",
            "The number of times the cache has prefetched a cached item",
            m.prefetch.clone(),
        );
        m
    }
}

impl CacheMetrics {
    /// The series of one cache (`server`, `zones`).
    pub fn series(self: &Arc<Self>, server: &str, zones: &str) -> CacheSeries {
        CacheSeries {
            families: self.clone(),
            server: server.into(),
            zones: zones.into(),
            hits: Default::default(),
            entries: Default::default(),
            requests: OnceLock::new(),
            misses: OnceLock::new(),
            served_stale: OnceLock::new(),
            prefetch: OnceLock::new(),
        }
    }
}

/// Pre-resolved series of one cache, each created on first use.
#[derive(Debug)]
pub struct CacheSeries {
    families: Arc<CacheMetrics>,
    server: Value,
    zones: Value,
    /// Indexed by denial (0 success, 1 denial).
    hits: [OnceLock<Counter>; 2],
    entries: [OnceLock<Gauge>; 2],
    requests: OnceLock<Counter>,
    misses: OnceLock<Counter>,
    served_stale: OnceLock<Counter>,
    prefetch: OnceLock<Counter>,
}

impl CacheSeries {
    fn labels(&self) -> Labels {
        Labels {
            server: self.server.clone(),
            zones: self.zones.clone(),
            view: view(),
        }
    }

    fn typed(&self, denial: bool) -> Typed {
        Typed {
            server: self.server.clone(),
            r#type: if denial { "denial" } else { "success" },
            zones: self.zones.clone(),
            view: view(),
        }
    }

    fn request(&self) {
        self.requests
            .get_or_init(|| self.families.requests.get_or_create_owned(&self.labels()))
            .inc();
    }

    /// A hit of class `denial` (or success); counts a request too.
    pub fn hit(&self, denial: bool) {
        self.hits[usize::from(denial)]
            .get_or_init(|| self.families.hits.get_or_create_owned(&self.typed(denial)))
            .inc();
        self.request();
    }

    /// A miss; counts a request too.
    pub fn miss(&self) {
        self.misses
            .get_or_init(|| self.families.misses.get_or_create_owned(&self.labels()))
            .inc();
        self.request();
    }

    pub fn served_stale(&self) {
        self.served_stale
            .get_or_init(|| {
                self.families
                    .served_stale
                    .get_or_create_owned(&self.labels())
            })
            .inc();
    }

    pub fn prefetch(&self) {
        self.prefetch
            .get_or_init(|| self.families.prefetch.get_or_create_owned(&self.labels()))
            .inc();
    }

    /// The entries of class `denial` (or success) now.
    pub fn entries(&self, denial: bool, entries: usize) {
        self.entries[usize::from(denial)]
            .get_or_init(|| {
                self.families
                    .entries
                    .get_or_create_owned(&self.typed(denial))
            })
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::test_support::{parse, value};
    use crate::metrics::Metrics;

    const SERVER: &str = "dns://:53";

    #[test]
    fn cache_series() {
        let m = Metrics::new();
        let c = m.plugin::<CacheMetrics>().series(SERVER, ".");
        c.hit(false);
        c.hit(true);
        c.hit(true);
        c.miss();
        c.served_stale();
        c.prefetch();
        c.entries(true, 7);
        c.entries(true, 5);
        let s = parse(&m.render());
        let typed = |t: &'static str| vec![("server", SERVER), ("type", t), ("zones", "."), ("view", "")];
        let z = [("server", SERVER), ("zones", "."), ("view", "")];
        assert_eq!(value(&s, "coredns_cache_hits_total", &typed("success")), Some(1.0));
        assert_eq!(value(&s, "coredns_cache_hits_total", &typed("denial")), Some(2.0));
        assert_eq!(value(&s, "coredns_cache_entries", &typed("denial")), Some(5.0));
        assert_eq!(value(&s, "coredns_cache_misses_total", &z), Some(1.0));
        assert_eq!(value(&s, "coredns_cache_requests_total", &z), Some(4.0));
        assert_eq!(value(&s, "coredns_cache_served_stale_total", &z), Some(1.0));
        assert_eq!(value(&s, "coredns_cache_prefetch_total", &z), Some(1.0));
    }
}
