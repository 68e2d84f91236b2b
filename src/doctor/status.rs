//! Reading a running Cairn's `/status` document (see [`crate::status`]) from its health
//! listener. A Cairn that does not serve it (404: an older version), or no listener there at
//! all, is "not available" — never a fault by itself: the document only explains what the
//! other checks found.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::api::chain;
use crate::status::Status;

/// What fetching `/status` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusOutcome {
    /// The document was read.
    Ok,
    /// Nothing answers there, or it does not serve `/status` (404).
    NotAvailable,
    /// Something answered, but not with a `/status` document.
    Error,
}

/// Cairn's `/status`, fetched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusCheck {
    pub url: String,
    pub outcome: StatusOutcome,
    pub error: Option<String>,
    /// The document, when read.
    pub status: Option<Status>,
    pub latency_ms: f64,
}

/// Fetches `url` within `timeout`.
pub async fn fetch(url: &str, timeout: Duration) -> StatusCheck {
    let started = Instant::now();
    let (outcome, error, status) = match get(url, timeout).await {
        Ok(text) => match serde_json::from_str::<Status>(&text) {
            Ok(s) => (StatusOutcome::Ok, None, Some(s)),
            Err(e) => (
                StatusOutcome::Error,
                Some(format!("not a Cairn /status document: {e}")),
                None,
            ),
        },
        Err((outcome, error)) => (outcome, Some(error), None),
    };
    StatusCheck {
        url: url.to_string(),
        outcome,
        error,
        status,
        latency_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
    }
}

/// The body of `GET url`, through kube's HTTP client (no credentials: the health listener
/// has none).
async fn get(url: &str, timeout: Duration) -> Result<String, (StatusOutcome, String)> {
    let bad = |e: String| (StatusOutcome::Error, e);
    let uri: http::Uri = url
        .parse()
        .map_err(|e| bad(format!("`{url}` is not a URL: {e}")))?;
    let path = uri
        .path_and_query()
        .map_or("/status", |p| p.as_str())
        .to_string();
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(bad(format!("`{url}`: expected http://HOST:PORT/status")));
    };
    let base: http::Uri = format!("{scheme}://{authority}")
        .parse()
        .map_err(|e| bad(format!("`{url}`: {e}")))?;
    let mut config = kube::Config::new(base);
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.default_retry = false;
    let client = kube::Client::try_from(config).map_err(|e| bad(chain(&e)))?;
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| bad(e.to_string()))?;
    match tokio::time::timeout(timeout, client.request_text(request)).await {
        Err(_) => Err((
            StatusOutcome::NotAvailable,
            format!("no answer within {timeout:?}"),
        )),
        Ok(Ok(text)) => Ok(text),
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => Err((
            StatusOutcome::NotAvailable,
            "404: this Cairn does not serve /status".to_string(),
        )),
        Ok(Err(kube::Error::Api(s))) => Err(bad(format!("HTTP {}", s.code))),
        Ok(Err(e)) => {
            let text = chain(&e);
            let short = if text.contains("Connection refused") {
                "connection refused".to_string()
            } else {
                text
            };
            Err((StatusOutcome::NotAvailable, short))
        }
    }
}

#[cfg(test)]
mod tests;
