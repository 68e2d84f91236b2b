//! The dump source: a cluster dump file (`cairn serve --from FILE`) read into a whole
//! `ClusterState`.
//!
//! Owns reading and splitting the file and dispatching each object by `apiVersion` + `kind`; the
//! field rules live in `source::convert`. Accepted input:
//! * what `kubectl get namespaces,services,endpointslices,pods -A -o yaml` prints: one
//!   `kind: List` with `items`;
//! * multi-document YAML (`---`), each document an object or a List; empty documents are ignored;
//! * the same as JSON (detected by a first non-space character `{` or `[`): one object or List,
//!   several concatenated objects, or an array of objects.
//!
//! Typed lists as the API server returns them (`kind: ServiceList`) work too: items without
//! `kind`/`apiVersion` take them from the list.
//!
//! `v1` Namespace/Service/Pod, `discovery.k8s.io/v1` EndpointSlice and
//! `multicluster.x-k8s.io/v1alpha1` ServiceImport are loaded; every other object is skipped and
//! counted under its kind (under `Kind (apiVersion)` for one of those five kinds in another version, e.g. a `discovery.k8s.io/v1beta1` EndpointSlice). Any malformed
//! document or object fails the whole load: no partial state is returned. When the same object
//! (kind, namespace, name) appears twice, the later one wins.
//!
//! **Synthesized namespaces:** if the dump holds no Namespace object at all, a Namespace without
//! labels is made up for every namespace a loaded object lives in, so that
//! `kubectl get services,endpointslices -A -o yaml` alone is a usable dump. If it holds any
//! Namespace, only those exist.
//!
//! This module does not watch the file or log; the caller reports `skipped`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cluster::model::{ClusterState, Namespace};
use crate::source::convert::{self, ConvertError, ObjectRef};

mod strict;
#[cfg(test)]
mod tests;

use strict::Strict;

/// A dump read into cluster state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadedDump {
    pub state: ClusterState,
    /// Objects not loaded, counted by kind (see the module doc for the key).
    pub skipped: BTreeMap<String, usize>,
}

/// Where in the dump an object is: `document N` (1-based, in file order) and, inside a List,
/// `item M` (1-based; `items[M-1]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub document: usize,
    pub item: Option<usize>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item} (items[{}])", item - 1)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("cannot read cluster dump {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: document {document}: invalid YAML: {source}")]
    Yaml {
        origin: String,
        document: usize,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("{origin}: invalid JSON: {source}")]
    Json {
        origin: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{origin}: {position}: expected a Kubernetes object (a mapping with apiVersion and kind), found {found}")]
    NotAnObject {
        origin: String,
        position: Position,
        found: &'static str,
    },
    /// The object does not have the shape of its kind (`field` is a path such as
    /// `spec.ports[0].port`).
    #[error("{origin}: {position}: {object}: {field}: {problem}")]
    Field {
        origin: String,
        position: Position,
        object: Box<ObjectRef>,
        field: String,
        problem: String,
    },
    #[error("{origin}: {position}: {source}")]
    Convert {
        origin: String,
        position: Position,
        #[source]
        source: ConvertError,
    },
}

/// Reads and parses the dump at `path`; the path is the origin in error messages.
pub fn load_dump(path: &Path) -> Result<LoadedDump, DumpError> {
    let text = std::fs::read_to_string(path).map_err(|source| DumpError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_dump(&text, &path.display().to_string())
}

/// Parses a dump held in memory; `origin` names it in error messages (usually the file name).
pub fn parse_dump(text: &str, origin: &str) -> Result<LoadedDump, DumpError> {
    let mut loader = Loader {
        origin,
        dump: LoadedDump::default(),
        saw_namespace: false,
    };
    // Parse the whole text (not a trimmed slice) so that error line numbers match the file.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['[', '{']) {
        let stream = serde_json::Deserializer::from_str(text).into_iter::<Strict>();
        for (i, doc) in stream.enumerate() {
            let Strict(doc) = doc.map_err(|source| DumpError::Json {
                origin: origin.to_owned(),
                source,
            })?;
            loader.document(i + 1, doc)?;
        }
    } else {
        for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
            let Strict(doc) = Strict::deserialize(doc).map_err(|source| DumpError::Yaml {
                origin: origin.to_owned(),
                document: i + 1,
                source,
            })?;
            loader.document(i + 1, doc)?;
        }
    }
    Ok(loader.finish())
}

struct Loader<'a> {
    origin: &'a str,
    dump: LoadedDump,
    saw_namespace: bool,
}

/// Names a JSON value's type for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn str_at<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    map.get(key).and_then(Value::as_str)
}

/// What can be told about an object before it is deserialized.
fn raw_ref(map: &Map<String, Value>) -> ObjectRef {
    let meta = map.get("metadata").and_then(Value::as_object);
    let meta_str = |key| meta.and_then(|m| str_at(m, key)).map(str::to_owned);
    ObjectRef {
        kind: str_at(map, "kind").unwrap_or_default().to_owned(),
        namespace: meta_str("namespace"),
        name: meta_str("name"),
    }
}

impl Loader<'_> {
    fn document(&mut self, document: usize, doc: Value) -> Result<(), DumpError> {
        let here = Position {
            document,
            item: None,
        };
        let map = match doc {
            Value::Null => return Ok(()),
            Value::Array(items) => return self.items(document, items, None),
            Value::Object(map) => map,
            other => return Err(self.not_an_object(here, &other)),
        };
        let kind = str_at(&map, "kind").unwrap_or_default();
        let is_list = kind == "List" || (kind.ends_with("List") && map.contains_key("items"));
        if !is_list {
            return self.object(here, map);
        }
        // A typed list (`ServiceList`) lends its kind and apiVersion to items without them.
        let defaults = (kind != "List").then(|| {
            let item_kind = kind.trim_end_matches("List").to_owned();
            let api_version = str_at(&map, "apiVersion").unwrap_or_default().to_owned();
            (item_kind, api_version)
        });
        let object = raw_ref(&map);
        let mut map = map;
        match map.remove("items") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(items)) => self.items(document, items, defaults),
            Some(other) => Err(DumpError::Field {
                origin: self.origin.to_owned(),
                position: here,
                object: Box::new(object),
                field: "items".to_owned(),
                problem: format!("expected a list of objects, found {}", type_name(&other)),
            }),
        }
    }

    fn items(
        &mut self,
        document: usize,
        items: Vec<Value>,
        defaults: Option<(String, String)>,
    ) -> Result<(), DumpError> {
        for (i, item) in items.into_iter().enumerate() {
            let here = Position {
                document,
                item: Some(i + 1),
            };
            let mut map = match item {
                Value::Object(map) => map,
                other => return Err(self.not_an_object(here, &other)),
            };
            if let Some((kind, api_version)) = &defaults {
                map.entry("kind").or_insert_with(|| kind.clone().into());
                map.entry("apiVersion")
                    .or_insert_with(|| api_version.clone().into());
            }
            if str_at(&map, "kind").is_some_and(|k| k.ends_with("List"))
                && map.contains_key("items")
            {
                return Err(self.field_error(
                    here,
                    &map,
                    "kind",
                    "expected an object, found a List nested in a List",
                ));
            }
            self.object(here, map)?;
        }
        Ok(())
    }

    fn object(&mut self, here: Position, map: Map<String, Value>) -> Result<(), DumpError> {
        let Some(kind) = str_at(&map, "kind").map(str::to_owned) else {
            return Err(self.field_error(
                here,
                &map,
                "kind",
                "missing; expected the object's kind, e.g. Service",
            ));
        };
        let Some(api_version) = str_at(&map, "apiVersion").map(str::to_owned) else {
            return Err(self.field_error(here, &map, "apiVersion", "missing; expected e.g. v1"));
        };
        let convert_err = |source| DumpError::Convert {
            origin: self.origin.to_owned(),
            position: here,
            source,
        };
        match (api_version.as_str(), kind.as_str()) {
            ("v1", "Namespace") => {
                let o: core::Namespace = self.typed(here, map)?;
                let ns = convert::namespace(&o).map_err(convert_err)?;
                self.saw_namespace = true;
                self.dump.state.namespaces.insert(ns.name.clone(), ns);
            }
            ("v1", "Service") => {
                let o: core::Service = self.typed(here, map)?;
                let svc = convert::service(&o).map_err(convert_err)?;
                let key = (svc.namespace.clone(), svc.name.clone());
                self.dump.state.services.insert(key, svc);
            }
            ("discovery.k8s.io/v1", "EndpointSlice") => {
                let o: discovery::EndpointSlice = self.typed(here, map)?;
                let slice = convert::endpoint_slice(&o).map_err(convert_err)?;
                let key = (slice.namespace.clone(), slice.name.clone());
                self.dump.state.endpoint_slices.insert(key, slice);
            }
            ("multicluster.x-k8s.io/v1alpha1", "ServiceImport") => {
                let o: convert::ServiceImportObject = self.typed(here, map)?;
                let import = convert::service_import(&o).map_err(convert_err)?;
                let key = (import.namespace.clone(), import.name.clone());
                self.dump.state.service_imports.insert(key, import);
            }
            ("v1", "Pod") => {
                let o: core::Pod = self.typed(here, map)?;
                let pod = convert::pod(&o).map_err(convert_err)?;
                let key = (pod.namespace.clone(), pod.name.clone());
                self.dump.state.pods.insert(key, pod);
            }
            (_, "Namespace" | "Service" | "EndpointSlice" | "Pod" | "ServiceImport") => {
                *self
                    .dump
                    .skipped
                    .entry(format!("{kind} ({api_version})"))
                    .or_default() += 1;
            }
            _ => *self.dump.skipped.entry(kind).or_default() += 1,
        }
        Ok(())
    }

    /// Deserializes an object into its k8s-openapi type; an error names the field path.
    fn typed<T: DeserializeOwned>(
        &self,
        here: Position,
        map: Map<String, Value>,
    ) -> Result<T, DumpError> {
        let object = raw_ref(&map);
        serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
            let path = e.path().to_string();
            DumpError::Field {
                origin: self.origin.to_owned(),
                position: here,
                object: Box::new(object),
                field: if path == "." {
                    "(object)".to_owned()
                } else {
                    path
                },
                problem: e.into_inner().to_string(),
            }
        })
    }

    fn field_error(
        &self,
        here: Position,
        map: &Map<String, Value>,
        field: &str,
        problem: &str,
    ) -> DumpError {
        DumpError::Field {
            origin: self.origin.to_owned(),
            position: here,
            object: Box::new(raw_ref(map)),
            field: field.to_owned(),
            problem: problem.to_owned(),
        }
    }

    fn not_an_object(&self, here: Position, found: &Value) -> DumpError {
        DumpError::NotAnObject {
            origin: self.origin.to_owned(),
            position: here,
            found: type_name(found),
        }
    }

    fn finish(mut self) -> LoadedDump {
        if !self.saw_namespace {
            let state = &mut self.dump.state;
            let used: Vec<String> = state
                .services
                .keys()
                .chain(state.endpoint_slices.keys())
                .chain(state.pods.keys())
                .map(|(ns, _)| ns.clone())
                .collect();
            for name in used {
                state
                    .namespaces
                    .entry(name.clone())
                    .or_insert_with(|| Namespace {
                        name,
                        labels: Default::default(),
                    });
            }
        }
        self.dump
    }
}
