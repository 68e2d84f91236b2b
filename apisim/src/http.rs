//! The HTTP contract: path routing, verbs, query parameters, JSON bodies and `Status` errors.
//!
//! Turns requests into store operations and store results into Kubernetes-shaped responses.
//! Watch streams live in `watch`; discovery documents in `discovery`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::resource::{self, Resource};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Snapshot, WriteMode};
use crate::{discovery, watch, Shared};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    let mut response = (code, serde_json::to_vec(body).unwrap_or_default()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(error: &ApiError) -> Response {
    let code = StatusCode::from_u16(error.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(code, &error.status())
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = shared.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let query = Query::<HashMap<String, String>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !body.is_empty() && !content_type.contains("json") {
        return error_response(&ApiError::UnsupportedMediaType(content_type.to_string()));
    }
    if matches!(uri.path(), "/readyz" | "/livez" | "/healthz") {
        // As kube-apiserver: plain text, open to everyone.
        return if shared.ready.load(std::sync::atomic::Ordering::Relaxed) {
            (StatusCode::OK, "ok").into_response()
        } else {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "[-]apisim not ready\nreadyz check failed",
            )
                .into_response()
        };
    }
    match route(&shared, &method, uri.path(), &query, &body) {
        Ok(Reply::Json(code, value)) => json_response(code, &value),
        Ok(Reply::Stream(body)) => {
            let mut response = Response::new(body);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => error_response(&error),
    }
}

enum Reply {
    Json(StatusCode, Value),
    Stream(Body),
}

fn ok(value: Value) -> Result<Reply, ApiError> {
    Ok(Reply::Json(StatusCode::OK, value))
}

fn route(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get_only = |value: Option<Value>| match (method, value) {
        (&Method::GET, Some(v)) => ok(v),
        (_, Some(_)) => Err(ApiError::MethodNotAllowed),
        (_, None) => Err(ApiError::UnknownPath),
    };
    match segments.as_slice() {
        ["version"] => get_only(Some(discovery::version())),
        ["api"] => get_only(Some(discovery::core_versions(&shared.addr.to_string()))),
        ["apis"] => get_only(Some(discovery::group_list())),
        ["api", "v1"] => get_only(discovery::resource_list("", "v1")),
        ["apis", group] => get_only(discovery::api_group(group)),
        ["apis", group, version] => get_only(discovery::resource_list(group, version)),
        ["api", "v1", rest @ ..] => resource_path(shared, method, "", "v1", rest, query, body),
        ["apis", group, version, rest @ ..] => {
            resource_path(shared, method, group, version, rest, query, body)
        }
        _ => Err(ApiError::UnknownPath),
    }
}

fn resource_path(
    shared: &Arc<Shared>,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let find =
        |plural: &str| resource::by_path(group, version, plural).ok_or(ApiError::UnknownPath);
    let (r, namespace, name) = match rest {
        [plural] => (find(plural)?, None, None),
        ["namespaces", name] if group.is_empty() => (find("namespaces")?, None, Some(*name)),
        ["namespaces", ns, plural] => (find(plural)?, Some(*ns), None),
        ["namespaces", ns, plural, name] => (find(plural)?, Some(*ns), Some(*name)),
        _ => return Err(ApiError::UnknownPath),
    };
    if namespace.is_some() && !r.namespaced {
        return Err(ApiError::UnknownPath);
    }
    match (method, name) {
        (&Method::GET, None) => {
            let watching = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
            if watching {
                watch::start(shared, r, namespace, query).map(Reply::Stream)
            } else {
                list(shared, r, namespace, query)
            }
        }
        (&Method::POST, None) if namespace.is_some() || !r.namespaced => {
            let object = parse_body(body)?;
            let stored = shared
                .store
                .write(r, object, namespace, None, WriteMode::Create)?;
            Ok(Reply::Json(StatusCode::CREATED, (*stored).clone()))
        }
        (&Method::GET, Some(name)) => ok((*shared.store.get(r, namespace, name)?).clone()),
        (&Method::PUT, Some(name)) => {
            let object = parse_body(body)?;
            let stored = shared.store.write(
                r,
                object,
                namespace,
                Some(name),
                WriteMode::Replace { check_rv: true },
            )?;
            ok((*stored).clone())
        }
        (&Method::DELETE, Some(name)) => ok((*shared.store.delete(r, namespace, name)?).clone()),
        _ => Err(ApiError::MethodNotAllowed),
    }
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("request body is not valid JSON: {e}")))
}

pub(crate) fn selectors(
    query: &HashMap<String, String>,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))?;
    Ok((labels, fields))
}

/// Parses a resourceVersion parameter: `None` for absent/empty.
pub(crate) fn parse_rv(query: &HashMap<String, String>) -> Result<Option<u64>, ApiError> {
    match query.get("resourceVersion").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::BadRequest(format!(
                "invalid resource version {text:?}: expected an integer"
            ))
        }),
    }
}

pub(crate) fn encode_continue(rv: u64, key: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{key}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, String), ApiError> {
    let bad = || ApiError::BadRequest(format!("continue key is not valid: {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = value["rv"].as_u64().ok_or_else(bad)?;
    let start = value["start"].as_str().ok_or_else(bad)?;
    Ok((rv, start.trim_end_matches('\u{0}').to_string()))
}

/// A list item as the real API serializes it: without `kind`/`apiVersion`.
fn list_item(object: &Value) -> Value {
    let mut item = object.clone();
    if let Some(map) = item.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
    item
}

fn list(
    shared: &Arc<Shared>,
    r: &'static Resource,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(query)?;
    let limit = match query.get("limit").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(text) => Some(text.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!("invalid limit {text:?}: expected an integer"))
        })?),
    };
    let requested = parse_rv(query)?;
    let exact = query.get("resourceVersionMatch").map(String::as_str) == Some("Exact");
    let (snapshot, after) = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (rv, key) = decode_continue(token)?;
            (Snapshot::Exact(rv), Some(key))
        }
        None => {
            let current = shared.store.resource_version();
            let snapshot = match requested {
                Some(rv) if exact => Snapshot::Exact(rv),
                Some(rv) if rv > current => {
                    return Err(ApiError::TooLargeResourceVersion {
                        requested: rv,
                        current,
                    })
                }
                _ => Snapshot::Latest,
            };
            (snapshot, None)
        }
    };
    let result = shared.store.list(
        r,
        namespace,
        &labels,
        &fields,
        snapshot,
        after.as_deref(),
        limit,
    )?;
    let mut metadata = json!({"resourceVersion": result.rv.to_string()});
    if let Some(key) = &result.continue_key {
        metadata["continue"] = json!(encode_continue(result.rv, key));
        metadata["remainingItemCount"] = json!(result.remaining);
    }
    shared.lists[resource::index(r)].fetch_add(1, Ordering::Relaxed);
    let items: Vec<Value> = result.items.iter().map(|o| list_item(o)).collect();
    ok(json!({
        "kind": r.list_kind,
        "apiVersion": r.api_version(),
        "metadata": metadata,
        "items": items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let token = encode_continue(42, "ns/a-b");
        assert_eq!(decode_continue(&token).unwrap(), (42, "ns/a-b".to_string()));
        assert!(decode_continue("not a token").is_err());
    }
}
