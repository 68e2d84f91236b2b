//! Object labels in one exact-size allocation.
//!
//! A `BTreeMap<String, String>` spends a whole B-tree leaf (~540 bytes) on even one label; at 10k
//! Services that was 5.6 MiB of the heap (`heaptrack` on `bench/api.sh`). Labels are written
//! once per object and only read by selectors, so a sorted boxed slice does the job: binary
//! search for `get`, equal label sets compare equal. Encoded like a map (the snapshot format of
//! the `BTreeMap` it replaces).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Sorted by key, keys unique.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(Box<[(Box<str>, Box<str>)]>);

impl Labels {
    pub fn new() -> Self {
        Labels::default()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).ok().map(|i| &*self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value` (replacing an earlier value).
    pub fn insert(&mut self, key: String, value: String) {
        let mut pairs = std::mem::take(&mut self.0).into_vec();
        match pairs.binary_search_by(|(k, _)| (**k).cmp(key.as_str())) {
            Ok(i) => pairs[i].1 = value.into(),
            Err(i) => pairs.insert(i, (key.into(), value.into())),
        }
        self.0 = pairs.into_boxed_slice();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| (**k).cmp(key))
    }
}

/// Later pairs win over earlier ones with the same key, as with a map.
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let map: BTreeMap<String, String> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Labels::from(map)
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(map: BTreeMap<String, String>) -> Self {
        Labels(
            map.into_iter()
                .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
                .collect(),
        )
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(deserializer).map(Labels::from)
    }
}

#[cfg(test)]
mod tests {
    use super::Labels;

    #[test]
    fn looks_up_sorts_and_replaces_like_a_map() {
        let mut labels: Labels = [("tier", "web"), ("app", "shop"), ("app", "cart")]
            .into_iter()
            .collect();
        assert_eq!(labels.get("app"), Some("cart"));
        assert_eq!(labels.get("tier"), Some("web"));
        assert_eq!(labels.get("env"), None);
        assert!(!labels.contains_key("env"));
        labels.insert("env".into(), "prod".into());
        labels.insert("app".into(), "shop".into());
        let pairs: Vec<_> = labels.iter().collect();
        assert_eq!(pairs, [("app", "shop"), ("env", "prod"), ("tier", "web")]);
        assert_eq!(labels.len(), 3);
    }

    #[test]
    fn encodes_like_the_map_it_replaced() {
        let map: std::collections::BTreeMap<String, String> =
            [("b".to_string(), "2".to_string()), ("a".into(), "1".into())].into();
        let labels = Labels::from(map.clone());
        let ours = postcard::to_allocvec(&labels).expect("encode");
        assert_eq!(ours, postcard::to_allocvec(&map).expect("encode"));
        let back: Labels = postcard::from_bytes(&ours).expect("decode");
        assert_eq!(back, labels);
    }
}
