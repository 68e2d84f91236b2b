//! Connecting to the API server the way CoreDNS's `kubernetes` plugin does: `kubeconfig PATH
//! [CONTEXT]`; else `endpoint URL` (with `tls CERT KEY CACERT` when given, plain otherwise, as
//! with `kubectl proxy`); else in-cluster (service-account token and CA,
//! `KUBERNETES_SERVICE_HOST`/`PORT`). kube-rs re-reads the token file, so rotated bound tokens
//! keep working.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::plugin::kubernetes::KubernetesConfig;

/// Connecting to the API must fail fast: a black-holed address otherwise hangs for the OS's
/// TCP connect timeout (minutes).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Longest silence on an API connection before it is given up: longer than a watch request
/// lasts ([`super::watch::WATCH_TIMEOUT`]), so only a dead path trips it. kube's default is no
/// bound at all, and a watch on a black-holed path would hang forever.
pub const READ_TIMEOUT: Duration = Duration::from_secs(65);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// (Causes are flattened into the message: kube's errors repeat their sources.)
    #[error("kubeconfig {path}: {reason}")]
    Kubeconfig { path: String, reason: String },
    #[error("endpoint {url}: not a valid URL: {reason}")]
    Endpoint { url: String, reason: String },
    #[error(
        "no API server configured: not running in a cluster ({0}); give `kubeconfig` or \
         `endpoint` in the kubernetes block, or --from DUMP"
    )]
    NotInCluster(String),
    #[error("cannot create the API client: {0}")]
    Client(String),
}

/// The kube-rs configuration for a `kubernetes` block.
pub async fn config(k: &KubernetesConfig) -> Result<kube::Config, ClientError> {
    let mut config = if let Some(kc) = &k.kubeconfig {
        let path = kc.path.display().to_string();
        let file = Kubeconfig::read_from(&kc.path).map_err(|e| ClientError::Kubeconfig {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let options = KubeConfigOptions {
            context: kc.context.clone(),
            ..KubeConfigOptions::default()
        };
        kube::Config::from_custom_kubeconfig(file, &options)
            .await
            .map_err(|e| ClientError::Kubeconfig {
                path,
                reason: e.to_string(),
            })?
    } else if let Some(url) = k.endpoints.first() {
        let uri: http::Uri =
            url.parse()
                .map_err(|e: http::uri::InvalidUri| ClientError::Endpoint {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
        match &k.tls {
            None => kube::Config::new(uri),
            Some(tls) => {
                // Let kube-rs read the PEM files exactly as it reads a kubeconfig's.
                let yaml = serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "cairn", "cluster": {
                        "server": url,
                        "certificate-authority": tls.ca,
                    }}],
                    "users": [{"name": "cairn", "user": {
                        "client-certificate": tls.cert,
                        "client-key": tls.key,
                    }}],
                    "contexts": [{"name": "cairn", "context": {"cluster": "cairn", "user": "cairn"}}],
                    "current-context": "cairn",
                })
                .to_string();
                let kubeconfig = |e: kube::config::KubeconfigError| ClientError::Kubeconfig {
                    path: format!(
                        "tls {} {} {}",
                        tls.cert.display(),
                        tls.key.display(),
                        tls.ca.display()
                    ),
                    reason: e.to_string(),
                };
                let file = Kubeconfig::from_yaml(&yaml).map_err(kubeconfig)?;
                kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .map_err(kubeconfig)?
            }
        }
    } else {
        kube::Config::incluster().map_err(|e| ClientError::NotInCluster(e.to_string()))?
    };
    if let Some(name) = &k.tls_server_name {
        config.tls_server_name = Some(name.clone());
    }
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    // Count the read bound from each request, not from when a pooled connection went idle.
    config.reset_reader_on_write = true;
    Ok(config)
}

/// A client for the block's API server.
pub async fn client(k: &KubernetesConfig) -> Result<kube::Client, ClientError> {
    let config = config(k).await?;
    kube::Client::try_from(config).map_err(|e| ClientError::Client(e.to_string()))
}

/// An error and its sources in one line, each cause once (kube's errors nest the useful part
/// and repeat their sources in their messages). Used for `/status` and by `cairn doctor`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}
