//! A hash map split into shards behind `Arc`s: cloning it is cheap (one pointer per shard), and
//! an edit copies only the shard it touches. This is what lets a new index be derived from the
//! previous one in time proportional to the change, not to the cluster.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

const SHARDS: usize = 256;

#[derive(Clone, Debug)]
pub struct Shards<K, V> {
    shards: Vec<Arc<HashMap<K, V>>>,
    hasher: std::hash::RandomState,
}

impl<K: Hash + Eq + Clone, V: Clone> Default for Shards<K, V> {
    fn default() -> Self {
        Shards {
            shards: (0..SHARDS).map(|_| Arc::new(HashMap::new())).collect(),
            hasher: std::hash::RandomState::new(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shards<K, V> {
    fn shard(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.shards[self.shard(key)].get(key)
    }

    /// The shard holding `key`, copied first if another index still shares it.
    pub fn shard_mut(&mut self, key: &K) -> &mut HashMap<K, V> {
        let at = self.shard(key);
        Arc::make_mut(&mut self.shards[at])
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.shard_mut(&key).insert(key, value);
    }

    pub fn remove(&mut self, key: &K) {
        if self.get(key).is_some() {
            self.shard_mut(key).remove(key);
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards.iter().flat_map(|s| s.iter())
    }
}
