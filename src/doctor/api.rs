//! Checking one API address the way a client reaches it, one hop at a time: the TCP connect
//! (timed out — the black-hole signature — vs refused vs other), then TLS and `GET /version`
//! with the credentials through kube's client (a TLS failure, an HTTP status, and 401/403 —
//! credentials, not the network — are told apart). Also lists the API server endpoints from the
//! `default/kubernetes` EndpointSlices. Never retries, never waits longer than the timeout per
//! step.

use std::time::Duration;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::target::{self, AddressOrigin};

/// What a check of an API address found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiOutcome {
    /// `GET /version` answered 200.
    Ok,
    /// The TCP connect did not complete in time: a black hole (a dead VIP, a dropped route).
    ConnectTimeout,
    /// Nothing listens there (or a firewall rejects).
    ConnectRefused,
    /// Any other connect failure: no route, the name does not resolve.
    ConnectFailed,
    /// TCP connects, TLS fails: handshake or certificate verification.
    Tls,
    /// HTTP 401 or 403: the credentials, not the network.
    Credentials,
    /// Another non-200 HTTP status.
    HttpStatus,
    /// Connected, but no HTTP answer in time.
    ResponseTimeout,
    /// Anything else (the client could not be built, a broken HTTP answer).
    Error,
}

impl ApiOutcome {
    /// The path to the address is at fault (as opposed to TLS or credentials on a path that
    /// works).
    pub fn is_network(self) -> bool {
        matches!(
            self,
            ApiOutcome::ConnectTimeout
                | ApiOutcome::ConnectRefused
                | ApiOutcome::ConnectFailed
                | ApiOutcome::ResponseTimeout
                | ApiOutcome::HttpStatus
                | ApiOutcome::Error
        )
    }
}

/// One API address, checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiCheck {
    pub url: String,
    /// The host as clients use it (no brackets around IPv6), for `KUBERNETES_SERVICE_HOST`.
    pub host: String,
    pub port: u16,
    pub origin: AddressOrigin,
    pub outcome: ApiOutcome,
    /// The HTTP status, when one came back.
    pub http_status: Option<u16>,
    /// `gitVersion` of `/version`.
    pub version: Option<String>,
    pub error: Option<String>,
    pub latency_ms: f64,
}

impl ApiCheck {
    pub fn ok(&self) -> bool {
        self.outcome == ApiOutcome::Ok
    }

    /// `host:port`, IPv6 in brackets.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// What happened, as the end of a sentence ("… times out").
    pub fn phrase(&self) -> String {
        let error = self.error.as_deref().unwrap_or("unknown error");
        match self.outcome {
            ApiOutcome::Ok => "answers".to_string(),
            ApiOutcome::ConnectTimeout => "times out".to_string(),
            ApiOutcome::ConnectRefused => "refuses connections".to_string(),
            ApiOutcome::ConnectFailed => format!("cannot be reached ({error})"),
            ApiOutcome::Tls => format!("fails TLS ({error})"),
            ApiOutcome::Credentials => format!(
                "rejects the credentials (HTTP {})",
                self.http_status.unwrap_or(401)
            ),
            ApiOutcome::HttpStatus => {
                format!("answers HTTP {}", self.http_status.unwrap_or_default())
            }
            ApiOutcome::ResponseTimeout => "accepts connections but does not answer".to_string(),
            ApiOutcome::Error => format!("fails ({error})"),
        }
    }
}

/// A check that never got as far as the network.
fn failed(url: &str, origin: AddressOrigin, error: String) -> ApiCheck {
    ApiCheck {
        url: url.to_string(),
        host: String::new(),
        port: 0,
        origin,
        outcome: ApiOutcome::Error,
        http_status: None,
        version: None,
        error: Some(error),
        latency_ms: 0.0,
    }
}

fn millis(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// Checks `url` with `base`'s credentials; `direct` for an API server reached by address (see
/// [`target::aimed`]).
pub async fn check(
    base: &kube::Config,
    url: &str,
    origin: AddressOrigin,
    direct: bool,
    timeout: Duration,
) -> ApiCheck {
    let config = match target::aimed(base, url, direct, timeout) {
        Ok(c) => c,
        Err(e) => return failed(url, origin, e),
    };
    let uri = &config.cluster_url;
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let mut result = ApiCheck {
        host,
        port,
        ..failed(url, origin, String::new())
    };
    let started = Instant::now();
    let (outcome, status, version, error) = probe(config, &result.address(), timeout).await;
    result.outcome = outcome;
    result.http_status = status;
    result.version = version;
    result.error = error;
    result.latency_ms = millis(started);
    result
}

type Probe = (ApiOutcome, Option<u16>, Option<String>, Option<String>);

async fn probe(config: kube::Config, address: &str, timeout: Duration) -> Probe {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
        Err(_) => {
            return (
                ApiOutcome::ConnectTimeout,
                None,
                None,
                Some(format!(
                    "TCP connect to {address} timed out after {timeout:?}"
                )),
            )
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return (
                ApiOutcome::ConnectRefused,
                None,
                None,
                Some(format!("TCP connect to {address}: {e}")),
            )
        }
        Ok(Err(e)) => {
            return (
                ApiOutcome::ConnectFailed,
                None,
                None,
                Some(format!("TCP connect to {address}: {e}")),
            )
        }
        Ok(Ok(_)) => {}
    }
    let client = match kube::Client::try_from(config) {
        Ok(c) => c,
        Err(e) => return (ApiOutcome::Error, None, None, Some(chain(&e))),
    };
    match tokio::time::timeout(timeout, client.apiserver_version()).await {
        Err(_) => (
            ApiOutcome::ResponseTimeout,
            None,
            None,
            Some(format!("no answer to GET /version within {timeout:?}")),
        ),
        Ok(Ok(info)) => (ApiOutcome::Ok, Some(200), Some(info.git_version), None),
        Ok(Err(kube::Error::Api(status))) => {
            let outcome = match status.code {
                401 | 403 => ApiOutcome::Credentials,
                _ => ApiOutcome::HttpStatus,
            };
            let message = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            (outcome, Some(status.code), None, Some(message))
        }
        Ok(Err(e)) => {
            let text = tidy(&chain(&e));
            (classify(&text), None, None, Some(text))
        }
    }
}

/// `text` without the wrappers kube and hyper put around the cause.
pub fn tidy(text: &str) -> String {
    let mut t = text;
    for prefix in ["ServiceError: ", "HyperError: ", "client error (Connect): "] {
        t = t.strip_prefix(prefix).unwrap_or(t);
    }
    t.to_string()
}

/// An error and its sources in one line, each cause once (shared with the API source).
pub use crate::source::kubernetes::client::error_chain as chain;

/// What a client error that is not an HTTP status means, from its text (kube wraps hyper,
/// rustls and io errors in ways that leave the text as the only stable part).
pub fn classify(text: &str) -> ApiOutcome {
    let t = text.to_ascii_lowercase();
    if [
        "certificate",
        "tls",
        "handshake",
        "unknownissuer",
        "corrupt message",
    ]
    .iter()
    .any(|w| t.contains(w))
    {
        ApiOutcome::Tls
    } else if t.contains("connection refused") {
        ApiOutcome::ConnectRefused
    } else if t.contains("timed out") || t.contains("timeout") || t.contains("deadline") {
        ApiOutcome::ResponseTimeout
    } else {
        ApiOutcome::Error
    }
}

/// The API server endpoints, from the `default/kubernetes` EndpointSlices (as `SCHEME://IP:PORT`
/// with `config`'s scheme).
pub async fn list_endpoints(
    config: kube::Config,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let scheme = config
        .cluster_url
        .scheme_str()
        .unwrap_or("https")
        .to_string();
    let client = kube::Client::try_from(config).map_err(|e| chain(&e))?;
    let slices: Api<EndpointSlice> = Api::namespaced(client, "default");
    let params = ListParams::default().labels("kubernetes.io/service-name=kubernetes");
    let list = tokio::time::timeout(timeout, slices.list(&params))
        .await
        .map_err(|_| format!("listing EndpointSlices took longer than {timeout:?}"))?
        .map_err(|e| chain(&e))?;
    Ok(target::endpoints_of(&list.items, &scheme))
}

#[cfg(test)]
mod tests;
