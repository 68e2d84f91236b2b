//! One class of cached answers: a fixed number of mutex-guarded shards, each a slab of entries
//! with a hash index, bounded in size, evicting a random entry when full (as CoreDNS does).
//!
//! It owns entry lifetimes (fresh, stale, gone) and hit counting; it knows nothing of DNS classes,
//! zones or metrics. A lock is held only to read or change one shard's slots: messages are built
//! from the shared [`Item`] after the lock is released.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::Record;
use tokio::time::Instant;

use super::CacheKey;

/// Most shards a store has.
const MAX_SHARDS: usize = 64;
/// Fewest entries a shard is given room for (small capacities get fewer shards instead).
const MIN_PER_SHARD: usize = 16;

/// A cached response: what is needed to rebuild it, and when it was stored.
#[derive(Debug)]
pub(crate) struct Item {
    pub rcode: ResponseCode,
    pub authentic_data: bool,
    pub recursion_available: bool,
    pub queries: Vec<Query>,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    /// Without OPT (hop-by-hop; the caller adds its own EDNS).
    pub additionals: Vec<Record>,
    pub stored: Instant,
    /// Seconds the entry is fresh for (already clamped).
    pub ttl: u32,
    /// False for server errors: never served stale.
    pub may_be_stale: bool,
}

impl Item {
    /// Seconds of freshness left, negative once expired (CoreDNS's `item.ttl`: whole seconds
    /// elapsed are subtracted).
    pub fn remaining(&self, now: Instant) -> i64 {
        i64::from(self.ttl) - now.saturating_duration_since(self.stored).as_secs() as i64
    }

    /// A response with every record's TTL set to `ttl`; ID 0, no EDNS (the caller sets both).
    pub fn to_message(&self, ttl: u32) -> Message {
        let mut m = Message::response(0, OpCode::Query);
        m.metadata.response_code = self.rcode;
        m.metadata.authentic_data = self.authentic_data;
        m.metadata.recursion_available = self.recursion_available;
        m.queries.clone_from(&self.queries);
        let with_ttl = |rs: &[Record]| -> Vec<Record> {
            rs.iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.ttl = ttl;
                    r
                })
                .collect()
        };
        m.answers = with_ttl(&self.answers);
        m.authorities = with_ttl(&self.authorities);
        m.additionals = with_ttl(&self.additionals);
        m
    }
}

/// How often an entry has been asked for: hits with no gap longer than the prefetch duration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Freq {
    pub hits: u32,
    pub last: Option<Instant>,
}

impl Freq {
    /// Counts a hit at `now`; a gap longer than `window` starts the count over (CoreDNS `freq`).
    fn update(&mut self, window: Duration, now: Instant) -> u32 {
        let recent = self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) <= window);
        self.hits = if recent {
            self.hits.saturating_add(1)
        } else {
            1
        };
        self.last = Some(now);
        self.hits
    }
}

/// What a lookup may do beyond serving fresh entries.
pub(crate) struct Policy {
    /// Seconds past expiry an entry may still be served (`serve_stale`).
    pub stale_secs: Option<u64>,
    /// `(amount, window, percentage)` of `prefetch`.
    pub prefetch: Option<(u32, Duration, u8)>,
}

/// A lookup that found something.
pub(crate) enum Found {
    Fresh {
        item: Arc<Item>,
        /// Whole seconds left, at least 1.
        remaining: u32,
        /// This hit made the entry due for prefetch (said once per stored entry).
        prefetch: bool,
    },
    Stale(Arc<Item>),
}

struct Slot {
    key: CacheKey,
    item: Arc<Item>,
    freq: Freq,
    prefetch_due: bool,
}

struct Shard {
    index: HashMap<CacheKey, usize>,
    slots: Vec<Slot>,
    capacity: usize,
    rng: u64,
}

impl Shard {
    fn remove_at(&mut self, i: usize) -> Slot {
        let slot = self.slots.swap_remove(i);
        self.index.remove(&slot.key);
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(moved.key.clone(), i);
        }
        slot
    }

    /// xorshift64: good enough to pick an eviction victim.
    fn random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

pub(crate) struct Store {
    shards: Box<[Mutex<Shard>]>,
    len: AtomicUsize,
    hasher: RandomState,
}

impl Store {
    /// A store holding at most `capacity` entries (0: holds nothing).
    pub fn new(capacity: usize) -> Self {
        let mut n = 1;
        while n * 2 <= MAX_SHARDS && n * 2 * MIN_PER_SHARD <= capacity {
            n *= 2;
        }
        let hasher = RandomState::new();
        let shards = (0..n)
            .map(|i| {
                Mutex::new(Shard {
                    index: HashMap::new(),
                    slots: Vec::new(),
                    // Split exactly, so the shards add up to `capacity`.
                    capacity: capacity / n + usize::from(i < capacity % n),
                    rng: hasher.hash_one(i) | 1,
                })
            })
            .collect();
        Store {
            shards,
            len: AtomicUsize::new(0),
            hasher,
        }
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    fn shard(&self, key: &CacheKey) -> MutexGuard<'_, Shard> {
        let h = self.hasher.hash_one(key);
        let i = (h >> 32) as usize & (self.shards.len() - 1);
        // A panic while holding a shard cannot leave the slab and index inconsistent in a way
        // that matters more than losing the cache: keep serving.
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry for `key` if it is fresh, or stale within the policy's window. An entry past
    /// both is removed.
    pub fn get(&self, key: &CacheKey, now: Instant, policy: &Policy) -> Option<Found> {
        let mut shard = self.shard(key);
        let i = *shard.index.get(key)?;
        let slot = &mut shard.slots[i];
        let remaining = slot.item.remaining(now);
        if remaining > 0 {
            let remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
            let mut prefetch = false;
            if let Some((amount, window, percentage)) = policy.prefetch {
                let hits = slot.freq.update(window, now);
                let threshold = (u64::from(percentage) * u64::from(slot.item.ttl)).div_ceil(100);
                if hits >= amount && u64::from(remaining) <= threshold && !slot.prefetch_due {
                    slot.prefetch_due = true;
                    prefetch = true;
                }
            }
            return Some(Found::Fresh {
                item: slot.item.clone(),
                remaining,
                prefetch,
            });
        }
        let within = policy
            .stale_secs
            .is_some_and(|window| remaining.unsigned_abs() < window);
        if slot.item.may_be_stale && within {
            return Some(Found::Stale(slot.item.clone()));
        }
        shard.remove_at(i);
        self.len.fetch_sub(1, Ordering::Relaxed);
        None
    }

    /// Stores `item` under `key`, replacing an entry for the same key (whose hit count it keeps
    /// unless `inherited` is given) or evicting a random entry when the shard is full.
    pub fn insert(&self, key: CacheKey, item: Arc<Item>, inherited: Option<Freq>) {
        let mut shard = self.shard(&key);
        if shard.capacity == 0 {
            return;
        }
        if let Some(&i) = shard.index.get(&key) {
            let slot = &mut shard.slots[i];
            slot.item = item;
            slot.freq = inherited.unwrap_or(slot.freq);
            slot.prefetch_due = false;
            return;
        }
        if shard.slots.len() >= shard.capacity {
            let victim = (shard.random() % shard.slots.len() as u64) as usize;
            shard.remove_at(victim);
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        let i = shard.slots.len();
        shard.index.insert(key.clone(), i);
        shard.slots.push(Slot {
            key,
            item,
            freq: inherited.unwrap_or_default(),
            prefetch_due: false,
        });
        self.len.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes the entry for `key`, returning its hit count.
    pub fn remove(&self, key: &CacheKey) -> Option<Freq> {
        let mut shard = self.shard(key);
        let i = *shard.index.get(key)?;
        let slot = shard.remove_at(i);
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(slot.freq)
    }

    /// Entries counted by walking every shard (tests compare it with [`Store::len`]).
    #[cfg(test)]
    pub fn count_slow(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap();
                assert_eq!(s.index.len(), s.slots.len(), "index and slab agree");
                assert!(s.slots.len() <= s.capacity, "shard within capacity");
                s.slots.len()
            })
            .sum()
    }

    #[cfg(test)]
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }
}
