//! The `cache` plugin: CoreDNS's success and denial caches, with prefetch, serve-stale
//! (RFC 8767) and `keepttl`.
//!
//! This module owns what is stored, for how long, and what a lookup returns; its place in the
//! chain (`handler`) asks the plugins after it on a miss and stores what they answer. The store
//! does not talk to upstream servers, spawn tasks or touch sockets: a [`Lookup`] says when the caller should refresh an entry
//! (prefetch, stale) and the caller feeds the new response back through [`Cache::insert`]. Time is
//! always passed in (`tokio::time::Instant`), so tests choose it.
//!
//! Semantics, after CoreDNS's `plugin/cache`:
//! - `success` holds NOERROR answers and referrals; `denial` holds NXDOMAIN (with SOA), NODATA and,
//!   for [`SERVFAIL_TTL`](classify::SERVFAIL_TTL) seconds, SERVFAIL/NOTIMP.
//! - An entry lives for the smallest TTL of its records (a denial's SOA counts as
//!   `min(TTL, MINIMUM)`, RFC 2308), clamped to the class's `[min_ttl, max_ttl]` (max wins).
//! - Served records all carry the entry's remaining TTL, as CoreDNS does (`keepttl`: the stored
//!   TTL); stale answers carry TTL 0, as CoreDNS does (RFC 8767 suggests 30 s).
//! - Keys are the case-folded name, type, class, DO and CD bits.

mod classify;
mod handler;
pub mod metrics;
mod setup;
mod store;

pub use setup::{CacheClass, CacheConfig, Prefetch, ServeStale};

use std::sync::Arc;

use hickory_proto::op::Message;
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::time::Instant;

use crate::metrics::Metrics;
use metrics::{CacheMetrics, CacheSeries};
use classify::{Kind, FALLBACK_TTL, SERVFAIL_TTL};
use store::{Found, Item, Policy, Store};

/// What a cached answer is filed under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Lower-case, fully qualified.
    name: Name,
    qtype: RecordType,
    qclass: DNSClass,
    dnssec_ok: bool,
    checking_disabled: bool,
    /// The answer is `autopath`'s search for this client (see [`CacheKey::searched`]).
    searched: bool,
}

impl CacheKey {
    pub fn new(
        qname: &Name,
        qtype: RecordType,
        qclass: DNSClass,
        dnssec_ok: bool,
        checking_disabled: bool,
    ) -> Self {
        let mut name = qname.to_lowercase();
        name.set_fqdn(true);
        CacheKey {
            name,
            qtype,
            qclass,
            dnssec_ok,
            checking_disabled,
            searched: false,
        }
    }

    /// Keeps the answer apart from the plain one: `autopath` completes the search path of
    /// the client that asked, which other clients asking the same name may not share.
    pub fn searched(mut self, searched: bool) -> Self {
        self.searched = searched;
        self
    }

    pub fn name(&self) -> &Name {
        &self.name
    }
}

/// The result of [`Cache::lookup`].
#[derive(Clone, Debug)]
pub enum Lookup {
    /// Nothing usable: ask upstream, then [`Cache::insert`] the answer.
    Miss,
    /// A fresh answer. The response has ID 0, QR set, the stored rcode, AD and RA bits and question,
    /// and every record's TTL set to the time left; the caller sets the ID, RD, CD, question case
    /// and EDNS from the query. `prefetch`: the entry is popular and nearly expired — refresh it
    /// upstream (in the background) and insert the result. Said once per stored entry.
    Hit {
        response: Message,
        prefetch: bool,
        /// Until then the same lookup returns the very same response (its TTLs count down in
        /// whole seconds), so an encoded copy of it may be served again.
        stable_until: Instant,
        /// Which class answered (for counting hits served from such a copy).
        denial: bool,
    },
    /// An expired answer still inside the `serve_stale` window, records at TTL 0.
    /// `verify: false` (immediate): serve it and refresh in the background.
    /// `verify: true`: ask upstream first; serve this only if that fails (no NOERROR or NXDOMAIN).
    Stale { response: Message, verify: bool },
}

/// A `cache` plugin instance (one per server block). Shared across threads.
pub struct Cache {
    config: CacheConfig,
    success: Store,
    denial: Store,
    zones: ZoneSet,
    disable_success: Option<ZoneSet>,
    disable_denial: Option<ZoneSet>,
    policy: Policy,
    /// Its metric series (`server`, `zones` labels).
    series: CacheSeries,
}

impl Cache {
    /// A cache for `config`. `server` is the metrics label (`dns://ADDR:PORT`). An empty
    /// `config.zones` caches every name handed in; the caller fills it with the server block's
    /// zones to match CoreDNS (they also become the `zones` metrics label, else ".").
    pub fn new(config: CacheConfig, server: String, metrics: Arc<Metrics>) -> Cache {
        let zones = ZoneSet::new(&config.zones);
        let disable_success = config.disable_success.as_deref().map(ZoneSet::new);
        let disable_denial = config.disable_denial.as_deref().map(ZoneSet::new);
        let policy = Policy {
            stale_secs: config.serve_stale.as_ref().map(|s| s.duration.as_secs()),
            prefetch: config
                .prefetch
                .as_ref()
                .map(|p| (p.amount, p.duration, p.percentage)),
        };
        let zones_label = if config.zones.is_empty() {
            ".".to_string()
        } else {
            config
                .zones
                .iter()
                .map(|z| z.to_ascii())
                .collect::<Vec<_>>()
                .join(",")
        };
        Cache {
            success: Store::new(config.success.capacity),
            denial: Store::new(config.denial.capacity),
            zones,
            disable_success,
            disable_denial,
            policy,
            series: metrics.plugin::<CacheMetrics>().series(&server, &zones_label),
            config,
        }
    }

    /// True when `qname` is in the cache's zones (always, when none are configured). Names
    /// outside are neither looked up nor stored.
    pub fn covers(&self, qname: &Name) -> bool {
        self.zones.contains(qname)
    }

    pub fn lookup(&self, key: &CacheKey, now: Instant) -> Lookup {
        if !self.covers(&key.name) {
            return Lookup::Miss;
        }
        let found = match self.denial.get(key, now, &self.policy) {
            Some(found) => Some((found, true)),
            None => self.success.get(key, now, &self.policy).map(|f| (f, false)),
        };
        let Some((found, denial)) = found else {
            self.series.miss();
            self.report_entries();
            return Lookup::Miss;
        };
        self.series.hit(denial);
        match found {
            Found::Fresh {
                item,
                remaining,
                prefetch,
            } => {
                if prefetch {
                    self.series.prefetch();
                }
                let ttl = if self.config.keepttl {
                    item.ttl
                } else {
                    remaining
                };
                let elapsed = now.saturating_duration_since(item.stored).as_secs();
                let stable_until = if self.config.keepttl {
                    let expiry = item.stored + std::time::Duration::from_secs(u64::from(item.ttl));
                    (now + std::time::Duration::from_secs(1)).min(expiry)
                } else {
                    item.stored + std::time::Duration::from_secs(elapsed + 1)
                };
                Lookup::Hit {
                    response: item.to_message(ttl),
                    prefetch,
                    stable_until,
                    denial,
                }
            }
            Found::Stale(item) => {
                self.series.served_stale();
                let verify = self.config.serve_stale.as_ref().is_some_and(|s| s.verify);
                Lookup::Stale {
                    response: item.to_message(0),
                    verify,
                }
            }
        }
    }

    /// Stores `response` under `key` if it may be cached: the name is covered and not in a
    /// `disable` zone of its class, the response is not truncated, its question (if any) is the
    /// key's, and its class and TTL allow it. Replaces whatever the key held in either class.
    pub fn insert(&self, key: CacheKey, response: &Message, now: Instant) {
        if !self.covers(&key.name) {
            return;
        }
        if let Some(q) = response.queries.first() {
            if !q.name.eq_ignore_root(&key.name)
                || q.query_type != key.qtype
                || q.query_class != key.qclass
            {
                return;
            }
        }
        let Some(kind) = classify::classify(response) else {
            return;
        };
        let denial = kind.is_denial();
        let disabled = if denial {
            &self.disable_denial
        } else {
            &self.disable_success
        };
        if disabled.as_ref().is_some_and(|z| z.contains(&key.name)) {
            return;
        }
        let ttl = match kind {
            Kind::ServerError => SERVFAIL_TTL,
            _ => {
                let class = if denial {
                    &self.config.denial
                } else {
                    &self.config.success
                };
                clamp(
                    classify::record_ttl(response, denial).unwrap_or(FALLBACK_TTL),
                    class,
                )
            }
        };
        if ttl == 0 {
            return;
        }
        let item = Arc::new(Item {
            rcode: response.metadata.response_code,
            authentic_data: response.metadata.authentic_data,
            recursion_available: response.metadata.recursion_available,
            queries: response.queries.clone(),
            answers: response.answers.clone(),
            authorities: response.authorities.clone(),
            additionals: response
                .additionals
                .iter()
                .filter(|r| r.record_type() != RecordType::OPT)
                .cloned()
                .collect(),
            stored: now,
            ttl,
            may_be_stale: kind != Kind::ServerError,
        });
        let (store, other) = if denial {
            (&self.denial, &self.success)
        } else {
            (&self.success, &self.denial)
        };
        // A refreshed entry keeps its popularity, whichever class it was in.
        let inherited = other.remove(&key);
        store.insert(key, item, inherited);
        self.report_entries();
    }

    /// Entries held: `(success, denial)`.
    /// Whether `prefetch` is on (every hit must then be seen by [`Cache::lookup`]).
    pub fn prefetches(&self) -> bool {
        self.config.prefetch.is_some()
    }

    /// Counts a hit served from an encoded copy of an earlier lookup's response.
    pub fn count_reused_hit(&self, denial: bool) {
        self.series.hit(denial);
    }

    pub fn len(&self) -> (usize, usize) {
        (self.success.len(), self.denial.len())
    }

    /// True when both classes are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    fn report_entries(&self) {
        let (success, denial) = self.len();
        self.series.entries(false, success);
        self.series.entries(true, denial);
    }
}

/// `ttl` within `[min_ttl, max_ttl]`; the maximum wins if they cross (as in CoreDNS).
fn clamp(ttl: u32, class: &CacheClass) -> u32 {
    ttl.max(class.min_ttl).min(class.max_ttl)
}

/// Zones from the typed config; an empty list means every name.
struct ZoneSet {
    all: bool,
    names: Vec<Name>,
}

impl ZoneSet {
    fn new(zones: &[Name]) -> Self {
        ZoneSet {
            all: zones.is_empty(),
            names: zones.to_vec(),
        }
    }

    fn contains(&self, name: &Name) -> bool {
        self.all || self.names.iter().any(|z| z.zone_of(name))
    }
}

#[cfg(test)]
mod tests;
