//! The in-memory object store: a multi-version map of objects, the event log, and watchers.
//!
//! Owns every object, the global resourceVersion counter and compaction. Like etcd, it keeps
//! old versions so a list can be read at a snapshot (continue tokens, `resourceVersionMatch=Exact`)
//! until compaction drops them. Must not know about HTTP; the lock is never held across `.await`.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::resource::{self, Resource};
use crate::selector::{FieldSelector, LabelSelector};

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as recorded in the event log and sent to watchers.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub resource: usize,
    pub kind: EventType,
    /// The object after the change (for DELETED: the final object, with the deletion's RV).
    pub object: Arc<Value>,
    /// The object before the change, for selector transitions on MODIFIED.
    pub previous: Option<Arc<Value>>,
}

struct Version {
    rv: u64,
    object: Option<Arc<Value>>,
}

/// Store key: resource index + `namespace/name` (or `name`), ordered like etcd keys.
type Key = (usize, String);

struct Inner {
    rv: u64,
    /// Resource versions `<= compacted` are too old (0: nothing compacted).
    compacted: u64,
    objects: BTreeMap<Key, Vec<Version>>,
    log: Vec<Arc<Event>>,
    watchers: Vec<(usize, mpsc::UnboundedSender<Arc<Event>>)>,
    uids: u64,
}

/// A list read: items at snapshot `rv`, and where to continue.
#[derive(Debug)]
pub struct ListResult {
    pub items: Vec<Arc<Value>>,
    pub rv: u64,
    /// The last key returned, when more items remain.
    pub continue_key: Option<String>,
    pub remaining: usize,
}

/// Which snapshot a list reads.
#[derive(Debug, Clone, Copy)]
pub enum Snapshot {
    /// The current state.
    Latest,
    /// The state at exactly this RV (continue tokens, `resourceVersionMatch=Exact`).
    Exact(u64),
}

/// What a new watch starts from.
#[derive(Debug, Clone, Copy)]
pub enum WatchFrom {
    /// Synthetic ADDED events for the current state, then live events.
    CurrentState,
    /// Events with RV strictly greater than this one.
    After(u64),
}

/// Where a watch's first events come from, and its live feed.
pub struct Subscription {
    pub initial: Vec<Arc<Event>>,
    /// The RV the initial events bring the client to.
    pub rv: u64,
    pub live: mpsc::UnboundedReceiver<Arc<Event>>,
}

pub struct Store {
    inner: Mutex<Inner>,
    seed: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// `namespace/name` or `name`.
fn path_of(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn is_deleted(versions: &[Version]) -> bool {
    versions.last().is_none_or(|v| v.object.is_none())
}

fn at(versions: &[Version], rv: u64) -> Option<&Arc<Value>> {
    versions
        .iter()
        .rev()
        .find(|v| v.rv <= rv)
        .and_then(|v| v.object.as_ref())
}

fn set_meta(object: &mut Value, field: &str, value: Value) {
    object["metadata"][field] = value;
}

fn resource_name(r: &Resource) -> String {
    if r.group.is_empty() {
        r.plural.to_string()
    } else {
        format!("{}.{}", r.plural, r.group)
    }
}

/// RFC 3339 UTC timestamp with second precision, as Kubernetes writes `creationTimestamp`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Store {
    pub fn new() -> Store {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Store {
            inner: Mutex::new(Inner {
                rv: 1,
                compacted: 0,
                objects: BTreeMap::new(),
                log: Vec::new(),
                watchers: Vec::new(),
                uids: 0,
            }),
            seed,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Makes every resource version issued so far too old, and moves to a fresh one.
    pub fn compact(&self) {
        let mut inner = self.lock();
        let point = inner.rv;
        inner.compacted = point;
        inner.rv += 1;
        inner.log.retain(|e| e.rv > point);
        inner.objects.retain(|_, versions| {
            // Keep only the newest version at or below the compaction point.
            let keep_from = versions.iter().rposition(|v| v.rv <= point).unwrap_or(0);
            versions.drain(..keep_from);
            !is_deleted(versions) || versions.len() > 1
        });
    }

    fn uid(&self, inner: &mut Inner) -> String {
        inner.uids += 1;
        let x = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(inner.uids.wrapping_mul(1_442_695_040_888_963_407));
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (x >> 32) as u32,
            (x >> 16) as u16,
            x & 0xfff,
            (x >> 20) & 0xfff,
            inner.uids & 0xffff_ffff_ffff
        )
    }

    /// Checks an object and fills in `apiVersion`, `kind` and the namespace.
    /// Returns the store path (`ns/name` or `name`).
    fn prepare(
        &self,
        inner: &mut Inner,
        r: &Resource,
        object: &mut Value,
        path_namespace: Option<&str>,
    ) -> Result<(Option<String>, String), ApiError> {
        if !object.is_object() {
            return Err(ApiError::BadRequest(format!(
                "{}: expected a JSON object",
                r.kind
            )));
        }
        let api_version = r.api_version();
        for (field, expected) in [("apiVersion", api_version.as_str()), ("kind", r.kind)] {
            match object.get(field).and_then(Value::as_str) {
                None | Some("") => object[field] = json!(expected),
                Some(actual) if actual == expected => {}
                Some(actual) => {
                    return Err(ApiError::BadRequest(format!(
                        "{field} {actual:?} does not match the {} endpoint (expected {expected:?})",
                        r.plural
                    )))
                }
            }
        }
        if !object.get("metadata").is_some_and(Value::is_object) {
            object["metadata"] = json!({});
        }
        let meta_str = |object: &Value, f: &str| {
            object["metadata"]
                .get(f)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let name = match meta_str(object, "name") {
            Some(name) => name,
            None => match meta_str(object, "generateName") {
                Some(prefix) => {
                    let suffix = self.uid(inner).replace('-', "");
                    let name = format!("{prefix}{}", &suffix[suffix.len() - 5..]);
                    set_meta(object, "name", json!(name));
                    name
                }
                None => {
                    return Err(ApiError::BadRequest(format!(
                        "{} is invalid: metadata.name: Required value: name or generateName is required",
                        r.kind
                    )))
                }
            },
        };
        let namespace = if r.namespaced {
            let body_ns = meta_str(object, "namespace");
            let ns = match (path_namespace, body_ns) {
                (Some(p), Some(b)) if p != b => {
                    return Err(ApiError::BadRequest(
                        "the namespace of the provided object does not match the namespace sent on the request"
                            .into(),
                    ))
                }
                (Some(p), _) => p.to_string(),
                (None, Some(b)) => b,
                (None, None) => "default".to_string(),
            };
            set_meta(object, "namespace", json!(ns));
            Some(ns)
        } else {
            if let Some(meta) = object["metadata"].as_object_mut() {
                meta.remove("namespace");
            }
            None
        };
        r.validate(object).map_err(|e| {
            ApiError::BadRequest(format!(
                "{} {}: invalid object: {e}",
                r.kind,
                path_of(namespace.as_deref(), &name)
            ))
        })?;
        Ok((namespace, name))
    }

    /// Creates, replaces (optionally checking the resourceVersion precondition) or, with
    /// `create_or_replace`, upserts an object. Returns the stored object.
    pub fn write(
        &self,
        r: &'static Resource,
        mut object: Value,
        path_namespace: Option<&str>,
        path_name: Option<&str>,
        mode: WriteMode,
    ) -> Result<Arc<Value>, ApiError> {
        let mut inner = self.lock();
        let (namespace, name) = self.prepare(&mut inner, r, &mut object, path_namespace)?;
        if let Some(path_name) = path_name {
            if path_name != name {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({name}) does not match the name on the URL ({path_name})"
                )));
            }
        }
        let idx = resource::index(r);
        let key = (idx, path_of(namespace.as_deref(), &name));
        let previous = inner
            .objects
            .get(&key)
            .and_then(|v| v.last())
            .and_then(|v| v.object.clone());
        let not_found = || ApiError::NotFound {
            resource: resource_name(r),
            name: name.clone(),
        };
        match (&previous, mode) {
            (Some(_), WriteMode::Create) => {
                return Err(ApiError::AlreadyExists {
                    resource: resource_name(r),
                    name,
                })
            }
            (None, WriteMode::Replace { .. }) => return Err(not_found()),
            (Some(old), WriteMode::Replace { check_rv: true }) => {
                let current = old["metadata"]["resourceVersion"].as_str().unwrap_or("");
                match object["metadata"].get("resourceVersion").and_then(Value::as_str) {
                    Some(given) if !given.is_empty() && given != current => {
                        return Err(ApiError::Conflict {
                            resource: resource_name(r),
                            name,
                            message: "the object has been modified; please apply your changes to the latest version and try again".into(),
                        })
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        match &previous {
            Some(old) => {
                // Identity fields are immutable: keep the stored ones.
                for field in ["uid", "creationTimestamp"] {
                    set_meta(&mut object, field, old["metadata"][field].clone());
                }
                set_meta(
                    &mut object,
                    "resourceVersion",
                    old["metadata"]["resourceVersion"].clone(),
                );
                if object == **old {
                    // A no-op update writes nothing, like the real API server.
                    return Ok(old.clone());
                }
            }
            None => {
                if object["metadata"]["uid"].as_str().is_none_or(str::is_empty) {
                    let uid = self.uid(&mut inner);
                    set_meta(&mut object, "uid", json!(uid));
                }
                if object["metadata"]["creationTimestamp"]
                    .as_str()
                    .is_none_or(str::is_empty)
                {
                    set_meta(&mut object, "creationTimestamp", json!(now_rfc3339()));
                }
            }
        }
        inner.rv += 1;
        let rv = inner.rv;
        set_meta(&mut object, "resourceVersion", json!(rv.to_string()));
        let object = Arc::new(object);
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(&mut inner, key, rv, kind, object.clone(), previous);
        Ok(object)
    }

    /// Deletes an object; returns its final state (with the deletion's RV).
    pub fn delete(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let mut inner = self.lock();
        let namespace = if r.namespaced {
            Some(namespace.unwrap_or("default"))
        } else {
            None
        };
        let key = (resource::index(r), path_of(namespace, name));
        let Some(old) = inner
            .objects
            .get(&key)
            .and_then(|v| v.last())
            .and_then(|v| v.object.clone())
        else {
            return Err(ApiError::NotFound {
                resource: resource_name(r),
                name: name.to_string(),
            });
        };
        inner.rv += 1;
        let rv = inner.rv;
        let mut last = (*old).clone();
        set_meta(&mut last, "resourceVersion", json!(rv.to_string()));
        let last = Arc::new(last);
        self.record(
            &mut inner,
            key,
            rv,
            EventType::Deleted,
            last.clone(),
            Some(old),
        );
        Ok(last)
    }

    fn record(
        &self,
        inner: &mut Inner,
        key: Key,
        rv: u64,
        kind: EventType,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let resource = key.0;
        let stored = (kind != EventType::Deleted).then(|| object.clone());
        inner
            .objects
            .entry(key)
            .or_default()
            .push(Version { rv, object: stored });
        let event = Arc::new(Event {
            rv,
            resource,
            kind,
            object,
            previous,
        });
        inner.log.push(event.clone());
        inner
            .watchers
            .retain(|(r, tx)| *r != resource || tx.send(event.clone()).is_ok());
        inner.watchers.retain(|(_, tx)| !tx.is_closed());
    }

    /// Reads objects of `r` (in `namespace`, matching the selectors) at a snapshot, in key
    /// order, starting after `after`, at most `limit`.
    #[allow(clippy::too_many_arguments)]
    pub fn list(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        snapshot: Snapshot,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ListResult, ApiError> {
        let inner = self.lock();
        let rv = match snapshot {
            Snapshot::Latest => inner.rv,
            Snapshot::Exact(rv) if rv <= inner.compacted => {
                return Err(ApiError::Expired(format!(
                    "The provided continue parameter is too old to display a consistent list result. \
                     You can start a new list without the continue parameter. (resource version {rv} is older than {})",
                    inner.compacted + 1
                )))
            }
            Snapshot::Exact(rv) if rv > inner.rv => {
                return Err(ApiError::TooLargeResourceVersion {
                    requested: rv,
                    current: inner.rv,
                })
            }
            Snapshot::Exact(rv) => rv,
        };
        let idx = resource::index(r);
        let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
        let start = match after {
            Some(a) if a >= prefix.as_str() => Bound::Excluded((idx, a.to_string())),
            _ => Bound::Included((idx, prefix.clone())),
        };
        let mut items = Vec::new();
        let mut continue_key = None;
        let mut remaining = 0;
        let range = inner
            .objects
            .range((start, Bound::Unbounded))
            .take_while(|((i, path), _)| *i == idx && path.starts_with(&prefix));
        for ((_, path), versions) in range {
            let Some(object) = at(versions, rv) else {
                continue;
            };
            if !labels.matches(object) || !fields.matches(object) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                remaining += 1;
                continue;
            }
            items.push(object.clone());
            continue_key = Some(path.clone());
        }
        if remaining == 0 {
            continue_key = None;
        }
        Ok(ListResult {
            items,
            rv,
            continue_key,
            remaining,
        })
    }

    /// One object, current state.
    pub fn get(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let inner = self.lock();
        let key = (resource::index(r), path_of(namespace, name));
        inner
            .objects
            .get(&key)
            .and_then(|v| v.last())
            .and_then(|v| v.object.clone())
            .ok_or_else(|| ApiError::NotFound {
                resource: resource_name(r),
                name: name.to_string(),
            })
    }

    /// Registers a watcher of resource `r`; its initial events and live feed are gap-free.
    pub fn subscribe(&self, r: &Resource, from: WatchFrom) -> Result<Subscription, ApiError> {
        let mut inner = self.lock();
        let idx = resource::index(r);
        let initial = match from {
            WatchFrom::After(rv) if rv != 0 && rv <= inner.compacted => {
                return Err(ApiError::Expired(format!(
                    "too old resource version: {rv} ({})",
                    inner.compacted + 1
                )))
            }
            WatchFrom::After(rv) => inner
                .log
                .iter()
                .filter(|e| e.resource == idx && e.rv > rv)
                .cloned()
                .collect(),
            WatchFrom::CurrentState => inner
                .objects
                .range((idx, String::new())..)
                .take_while(|((i, _), _)| *i == idx)
                .filter_map(|(_, versions)| versions.last()?.object.clone())
                .map(|object| {
                    Arc::new(Event {
                        rv: 0,
                        resource: idx,
                        kind: EventType::Added,
                        object,
                        previous: None,
                    })
                })
                .collect(),
        };
        let (tx, live) = mpsc::unbounded_channel();
        inner.watchers.push((idx, tx));
        Ok(Subscription {
            initial,
            rv: inner.rv,
            live,
        })
    }

    /// Current objects of a resource, in key order.
    pub fn objects(&self, r: &Resource) -> Vec<Value> {
        let all = LabelSelector::default();
        let fields = FieldSelector::default();
        self.list(r, None, &all, &fields, Snapshot::Latest, None, None)
            .map(|l| l.items.iter().map(|o| (**o).clone()).collect())
            .unwrap_or_default()
    }
}

/// How [`Store::write`] treats an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Fail with AlreadyExists if present.
    Create,
    /// Fail with NotFound if absent; with `check_rv`, a set `metadata.resourceVersion` must match.
    Replace { check_rv: bool },
    /// Create or replace, no preconditions.
    Upsert,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(ns: &str, name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}})
    }

    fn services() -> &'static Resource {
        resource::by_name("services").unwrap()
    }

    #[test]
    fn timestamp_shape() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }

    #[test]
    fn snapshot_reads_see_the_past() {
        let store = Store::new();
        store
            .write(services(), svc("a", "one"), None, None, WriteMode::Create)
            .unwrap();
        let before = store.resource_version();
        store
            .write(services(), svc("a", "two"), None, None, WriteMode::Create)
            .unwrap();
        store.delete(services(), Some("a"), "one").unwrap();
        let (l, f) = (LabelSelector::default(), FieldSelector::default());
        let past = store
            .list(
                services(),
                None,
                &l,
                &f,
                Snapshot::Exact(before),
                None,
                None,
            )
            .unwrap();
        assert_eq!(past.items.len(), 1);
        assert_eq!(past.items[0]["metadata"]["name"], "one");
        let now = store
            .list(services(), None, &l, &f, Snapshot::Latest, None, None)
            .unwrap();
        assert_eq!(now.items.len(), 1);
        assert_eq!(now.items[0]["metadata"]["name"], "two");
        store.compact();
        assert!(matches!(
            store.list(
                services(),
                None,
                &l,
                &f,
                Snapshot::Exact(before),
                None,
                None
            ),
            Err(ApiError::Expired(_))
        ));
        assert_eq!(store.objects(services()).len(), 1);
    }

    #[test]
    fn noop_update_writes_nothing() {
        let store = Store::new();
        store
            .write(services(), svc("a", "one"), None, None, WriteMode::Create)
            .unwrap();
        let rv = store.resource_version();
        store
            .write(services(), svc("a", "one"), None, None, WriteMode::Upsert)
            .unwrap();
        assert_eq!(store.resource_version(), rv);
    }
}
