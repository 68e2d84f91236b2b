//! Pre-resolved series handles keyed by a label string (server, zone, upstream, plugin).
//!
//! Reads are lock-free (`ArcSwap` load, no shared write) and scan a short vector: the keys are
//! bounded by the Corefile (a few servers, zones, upstreams and plugins), where a linear scan
//! of a handful of short strings is cheaper than hashing. Inserts copy the vector under a mutex
//! and happen once per key.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

pub struct Interner<T> {
    entries: ArcSwap<Vec<(Box<str>, Arc<T>)>>,
    insert: Mutex<()>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            entries: ArcSwap::from_pointee(Vec::new()),
            insert: Mutex::new(()),
        }
    }
}

impl<T> std::fmt::Debug for Interner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("len", &self.entries.load().len())
            .finish()
    }
}

impl<T> Interner<T> {
    /// Run `f` on the handle for `key`, made by `make` on first use. Borrows instead of cloning
    /// the `Arc`, so concurrent readers never write a shared reference count.
    pub fn with<R>(&self, key: &str, make: impl FnOnce() -> T, f: impl FnOnce(&T) -> R) -> R {
        {
            let entries = self.entries.load();
            if let Some((_, found)) = entries.iter().find(|(k, _)| &**k == key) {
                return f(found);
            }
        }
        f(&self.insert(key, make))
    }

    /// The handle for `key` itself (made by `make` on first use), for callers that keep it
    /// and skip the lookup afterwards.
    pub fn get(&self, key: &str, make: impl FnOnce() -> T) -> Arc<T> {
        if let Some((_, found)) = self.entries.load().iter().find(|(k, _)| &**k == key) {
            return found.clone();
        }
        self.insert(key, make)
    }

    /// Every handle made so far, with its key.
    pub fn entries(&self) -> Arc<Vec<(Box<str>, Arc<T>)>> {
        self.entries.load_full()
    }

    /// The slow path of both: under the insert lock, the handle another caller may have made
    /// meanwhile, else a new one published in a copy of the list.
    fn insert(&self, key: &str, make: impl FnOnce() -> T) -> Arc<T> {
        let _guard = self.insert.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.entries.load_full();
        if let Some((_, found)) = current.iter().find(|(k, _)| &**k == key) {
            return found.clone();
        }
        let made = Arc::new(make());
        let mut next = Vec::with_capacity(current.len() + 1);
        next.extend(current.iter().cloned());
        next.push((key.into(), made.clone()));
        self.entries.store(Arc::new(next));
        made
    }
}
