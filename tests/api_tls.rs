//! Reaching an API server directly by IP over TLS: its certificate names only
//! `kubernetes.default.svc` (as API server certificates do; the node IP need not be in the IP
//! SANs). With `tls_server_name kubernetes.default.svc` Cairn verifies against that name and
//! serves; without it, verification against the IP fails and `/status` says why.

mod netlab;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use apisim::{ApiServer, TlsIdentity};
use netlab::{http_get, lookup, within, Cairn};
use serde_json::{json, Value};

/// A CA, and a server certificate for `kubernetes.default.svc` only, signed by it.
fn pki() -> (String, TlsIdentity) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let key = KeyPair::generate().expect("a server key");
    let params =
        CertificateParams::new(vec!["kubernetes.default.svc".to_string()]).expect("params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("a server cert");
    (
        ca.pem(),
        TlsIdentity {
            cert_chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        },
    )
}

fn start_api() -> (ApiServer, String) {
    let (ca, identity) = pki();
    let api = ApiServer::start_background_with(
        "127.0.0.3:0".parse().expect("an address"),
        Some(&identity),
    )
    .expect("the TLS API test server starts");
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "shop", "name": "web"},
            "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                     "ports": [{"port": 80, "protocol": "TCP"}]}}),
    ] {
        api.apply(object).expect("object applied");
    }
    (api, ca)
}

fn corefile(
    dir: &Path,
    kubeconfig: &Path,
    option: &str,
) -> (std::path::PathBuf, SocketAddr, SocketAddr) {
    let dns: SocketAddr = format!("127.0.0.1:{}", netlab::free_port("127.0.0.1"))
        .parse()
        .expect("an address");
    let health: SocketAddr = format!("127.0.0.1:{}", netlab::free_port("127.0.0.1"))
        .parse()
        .expect("an address");
    let path = dir.join("Corefile");
    std::fs::write(
        &path,
        format!(
            ".:{} {{\n  bind 127.0.0.1\n  health {health}\n  kubernetes cluster.local {{\n    \
             kubeconfig {}\n    {option}\n  }}\n}}\n",
            dns.port(),
            kubeconfig.display()
        ),
    )
    .expect("Corefile written");
    (path, dns, health)
}

#[test]
fn a_direct_ip_verifies_against_tls_server_name() {
    let (api, ca) = start_api();
    assert!(api.url().starts_with("https://127.0.0.3:"), "{}", api.url());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    apisim::write_kubeconfig(&kubeconfig, &api.url(), Some(&ca)).expect("kubeconfig");
    let (path, dns, _) = corefile(
        dir.path(),
        &kubeconfig,
        "tls_server_name kubernetes.default.svc",
    );
    let _cairn = Cairn::start(&path, "cairn-tls");
    within(Duration::from_secs(20), || {
        let got = lookup(
            dns,
            "web.shop.svc.cluster.local.",
            Duration::from_millis(500),
        )?;
        (got == ["10.96.0.20"])
            .then_some(())
            .ok_or(format!("{got:?}"))
    })
    .expect("served over TLS to a direct IP");
}

#[test]
fn without_tls_server_name_the_ip_does_not_verify_and_status_says_so() {
    let (api, ca) = start_api();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    apisim::write_kubeconfig(&kubeconfig, &api.url(), Some(&ca)).expect("kubeconfig");
    let (path, dns, health) = corefile(dir.path(), &kubeconfig, "startup_timeout 1s");
    let _cairn = Cairn::start(&path, "cairn-no-tsn");
    let (_, error) = within(Duration::from_secs(20), || {
        let (code, body) = http_get(health, "/status")?;
        let s: Value = serde_json::from_str(&body).map_err(|e| format!("{code}: {e}"))?;
        let endpoint = &s["api"]["endpoints"][0];
        match endpoint["last_error"].as_str() {
            Some(err) if endpoint["healthy"] == false => Ok(err.to_string()),
            _ => Err(format!("not judged yet: {s}")),
        }
    })
    .expect("/status reports the failing endpoint");
    assert!(
        error.to_lowercase().contains("certificate"),
        "the error names the certificate problem: {error}"
    );
    // Nothing was listed, so names are not known: SERVFAIL, not a wrong NXDOMAIN.
    assert_eq!(
        lookup(dns, "web.shop.svc.cluster.local.", Duration::from_secs(1)),
        Err("ServFail".to_string())
    );
}
