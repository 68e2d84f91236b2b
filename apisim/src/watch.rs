//! Watch streams: one JSON event per line over a chunked response, flushed per event.
//!
//! Owns the per-watch task: initial events (synthetic ADDED or the log after an RV), live
//! events filtered by namespace and selectors (with ADDED/DELETED on selector transitions),
//! bookmarks, `timeoutSeconds`, the `ERROR` event for too-old RVs, and abrupt disconnects.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::body::{Body, Bytes};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::http::{parse_rv, selectors};
use crate::resource::{self, Resource};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Event, EventType, Subscription, WatchFrom};
use crate::Shared;

struct Filter {
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        let ns_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns));
        ns_ok && self.labels.matches(object) && self.fields.matches(object)
    }

    /// What a watcher with this filter sees of an event, if anything.
    fn translate(&self, event: &Event) -> Option<EventType> {
        let now = self.matches(&event.object);
        match event.kind {
            EventType::Added | EventType::Deleted => now.then_some(event.kind),
            EventType::Modified => {
                let before = event.previous.as_deref().is_some_and(|p| self.matches(p));
                match (before, now) {
                    (true, true) => Some(EventType::Modified),
                    (false, true) => Some(EventType::Added),
                    (true, false) => Some(EventType::Deleted),
                    (false, false) => None,
                }
            }
        }
    }
}

fn line(value: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn bookmark(r: &Resource, rv: u64, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"type": "BOOKMARK", "object": {"kind": r.kind, "apiVersion": r.api_version(), "metadata": metadata}})
}

/// Starts a watch; the returned body streams its events.
pub fn start(
    shared: &Arc<Shared>,
    r: &'static Resource,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
) -> Result<Body, ApiError> {
    let (labels, fields) = selectors(query)?;
    let flag = |name: &str| matches!(query.get(name).map(String::as_str), Some("true" | "1"));
    let bookmarks = flag("allowWatchBookmarks");
    let send_initial = query.get("sendInitialEvents").map(String::as_str);
    let send_initial = match send_initial {
        None | Some("") => None,
        Some(_) => Some(flag("sendInitialEvents")),
    };
    if send_initial.is_some()
        && query.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan")
    {
        return Err(ApiError::BadRequest(
            "sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan".into(),
        ));
    }
    let timeout = match query.get("timeoutSeconds").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(text) => Some(Duration::from_secs(text.parse().map_err(|_| {
            ApiError::BadRequest(format!("invalid timeoutSeconds {text:?}"))
        })?)),
    };
    let rv = parse_rv(query)?;
    let from = match (send_initial, rv) {
        (Some(true), _) | (None, None | Some(0)) => WatchFrom::CurrentState,
        (Some(false), None | Some(0)) => WatchFrom::After(shared.store.resource_version()),
        (_, Some(rv)) => WatchFrom::After(rv),
    };
    let filter = Filter {
        namespace: namespace.map(str::to_string),
        labels,
        fields,
    };
    let disconnect = shared.disconnect.subscribe();
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(64);
    let subscription = shared.store.subscribe(r, from);
    // Counted once registered: a test that sees the count knows the watch gets every later
    // write and every later disconnect.
    shared.watches[resource::index(r)].fetch_add(1, Ordering::Relaxed);
    let task = WatchTask {
        shared: shared.clone(),
        r,
        filter,
        bookmarks,
        initial_end: send_initial == Some(true),
        deadline: timeout.map(|t| Instant::now() + t),
        tx,
        disconnect,
        last_rv: 0,
    };
    tokio::spawn(task.run(subscription));
    // An empty chunk from the task marks a clean end; the feed closing without it (the task
    // dropped, e.g. when the server stops) is an abort, without the terminating chunk.
    let mut done = false;
    let stream = futures::stream::poll_fn(move |cx| {
        if done {
            return Poll::Ready(None);
        }
        match rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(bytes))) if bytes.is_empty() => {
                done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Ready(None) => {
                done = true;
                Poll::Ready(Some(Err(io::Error::other("watch ended abruptly"))))
            }
            Poll::Pending => Poll::Pending,
        }
    });
    Ok(Body::from_stream(stream))
}

struct WatchTask {
    shared: Arc<Shared>,
    r: &'static Resource,
    filter: Filter,
    bookmarks: bool,
    initial_end: bool,
    deadline: Option<Instant>,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    disconnect: tokio::sync::watch::Receiver<u64>,
    last_rv: u64,
}

impl WatchTask {
    async fn send(&mut self, value: &Value) -> bool {
        self.tx.send(Ok(line(value))).await.is_ok()
    }

    async fn send_event(&mut self, event: &Event) -> bool {
        let Some(kind) = self.filter.translate(event) else {
            return true;
        };
        self.last_rv = self.last_rv.max(event.rv);
        let value = match (event.kind, kind, &event.previous) {
            // Leaving the selector: the last state the watcher matched, at this event's RV
            // (as the API server's watch cache does).
            (EventType::Modified, EventType::Deleted, Some(previous)) => {
                let mut object = (**previous).clone();
                object["metadata"]["resourceVersion"] = json!(event.rv.to_string());
                json!({"type": kind.as_str(), "object": object})
            }
            _ => json!({"type": kind.as_str(), "object": &*event.object}),
        };
        self.send(&value).await
    }

    async fn run(mut self, subscription: Result<Subscription, ApiError>) {
        if self.stream(subscription).await {
            let _ = self.tx.send(Ok(Bytes::new())).await;
        }
    }

    /// Sends the watch's events; true when it ended cleanly (the terminating chunk is due).
    async fn stream(&mut self, subscription: Result<Subscription, ApiError>) -> bool {
        let mut sub = match subscription {
            Ok(sub) => sub,
            Err(error) => {
                // Too old: one ERROR event, then a clean end, as the real API does.
                let event = json!({"type": "ERROR", "object": error.status()});
                return self.send(&event).await;
            }
        };
        for event in std::mem::take(&mut sub.initial) {
            if !self.send_event(&event).await {
                return false;
            }
        }
        if self.initial_end {
            self.last_rv = self.last_rv.max(sub.rv);
            let end = bookmark(self.r, sub.rv, true);
            if !self.send(&end).await {
                return false;
            }
        }
        let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let deadline = self.deadline.unwrap_or(far);
        let mut next_bookmark = Instant::now() + self.shared.bookmark_interval();
        loop {
            tokio::select! {
                biased;
                _ = self.disconnect.changed() => {
                    // An error item makes hyper drop the connection without the last chunk.
                    let _ = self.tx.send(Err(io::Error::other("watch disconnected by test"))).await;
                    return false;
                }
                _ = self.tx.closed() => return false,
                _ = tokio::time::sleep_until(deadline) => return true,
                event = sub.live.recv() => match event {
                    Some(event) => if !self.send_event(&event).await { return false },
                    None => return true,
                },
                _ = tokio::time::sleep_until(next_bookmark), if self.bookmarks => {
                    let rv = self.shared.store.resource_version();
                    // Everything at or below `rv` is already queued: send it first.
                    while let Ok(event) = sub.live.try_recv() {
                        if !self.send_event(&event).await {
                            return false;
                        }
                    }
                    let rv = rv.max(self.last_rv);
                    if !self.send(&bookmark(self.r, rv, false)).await {
                        return false;
                    }
                    next_bookmark = Instant::now() + self.shared.bookmark_interval();
                }
            }
        }
    }
}
