//! Errors of the simulator, and their rendering as Kubernetes `Status` objects.
//!
//! One enum for the whole crate: the HTTP layer and the Rust API report the same failures.

use serde_json::{json, Value};

/// A failed API operation, as the real API server would report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{resource} \"{name}\" not found")]
    NotFound { resource: String, name: String },
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists { resource: String, name: String },
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": {message}")]
    Conflict {
        resource: String,
        name: String,
        message: String,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Expired(String),
    #[error("Too large resource version: {requested}, current: {current}")]
    TooLargeResourceVersion { requested: u64, current: u64 },
    #[error("the server could not find the requested resource")]
    UnknownPath,
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("the body of the request was in an unknown format: {0} (apisim accepts JSON only)")]
    UnsupportedMediaType(String),
    #[error(
        "unknown kind {0:?}: expected one of Namespace, Service, Pod, EndpointSlice, ServiceImport"
    )]
    UnknownKind(String),
}

impl ApiError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownPath => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::BadRequest(_) | ApiError::UnknownKind(_) => 400,
            ApiError::Expired(_) => 410,
            ApiError::TooLargeResourceVersion { .. } => 504,
            ApiError::MethodNotAllowed => 405,
            ApiError::UnsupportedMediaType(_) => 415,
        }
    }

    /// The `Status.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::UnknownPath => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::BadRequest(_) | ApiError::UnknownKind(_) => "BadRequest",
            ApiError::Expired(_) => "Expired",
            ApiError::TooLargeResourceVersion { .. } => "Timeout",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
        }
    }

    /// The error as a `v1.Status` object.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name, .. } => {
                let (kind, group) = match resource.split_once('.') {
                    Some((kind, group)) => (kind, group),
                    None => (resource.as_str(), ""),
                };
                status["details"] = json!({"name": name, "group": group, "kind": kind});
                if group.is_empty() {
                    status["details"].as_object_mut().unwrap().remove("group");
                }
            }
            ApiError::TooLargeResourceVersion { .. } => {
                status["details"] = json!({"causes": [{"reason": "ResourceVersionTooLarge",
                    "message": "Too large resource version"}], "retryAfterSeconds": 1});
            }
            _ => {}
        }
        status
    }
}
