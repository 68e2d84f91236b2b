use std::time::Duration;

use super::*;

#[test]
fn client_errors_are_told_apart_by_their_text() {
    let cases = [
        ("ServiceError: client error (Connect): invalid peer certificate: UnknownIssuer", ApiOutcome::Tls),
        ("ServiceError: client error (Connect): received corrupt message of type InvalidContentType", ApiOutcome::Tls),
        ("rustls tls error: no valid TLS config", ApiOutcome::Tls),
        ("ServiceError: client error (Connect): tcp connect error: Connection refused (os error 111)", ApiOutcome::ConnectRefused),
        ("ServiceError: error trying to connect: operation timed out", ApiOutcome::ResponseTimeout),
        ("HyperError: invalid HTTP version parsed", ApiOutcome::Error),
    ];
    for (text, want) in cases {
        assert_eq!(classify(text), want, "{text}");
    }
}

#[test]
fn tidy_drops_the_wrappers() {
    assert_eq!(
        tidy("ServiceError: client error (Connect): invalid peer certificate: UnknownIssuer"),
        "invalid peer certificate: UnknownIssuer"
    );
    assert_eq!(tidy("HyperError: connection closed"), "connection closed");
}

#[test]
fn chains_name_each_cause_once() {
    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }
    let e = E(
        "ServiceError: refused",
        Some(Box::new(E(
            "refused",
            Some(Box::new(E("os error 111", None))),
        ))),
    );
    assert_eq!(chain(&e), "ServiceError: refused: os error 111");
}

fn check(outcome: ApiOutcome, host: &str) -> ApiCheck {
    ApiCheck {
        url: String::new(),
        host: host.into(),
        port: 6443,
        origin: AddressOrigin::Flag,
        outcome,
        http_status: Some(403),
        version: None,
        error: Some("boom".into()),
        latency_ms: 1.0,
    }
}

#[test]
fn phrases_and_addresses() {
    assert_eq!(
        check(ApiOutcome::ConnectTimeout, "10.0.0.1").phrase(),
        "times out"
    );
    assert_eq!(
        check(ApiOutcome::Credentials, "10.0.0.1").phrase(),
        "rejects the credentials (HTTP 403)"
    );
    assert_eq!(
        check(ApiOutcome::Tls, "10.0.0.1").phrase(),
        "fails TLS (boom)"
    );
    assert_eq!(check(ApiOutcome::Ok, "fd00::1").address(), "[fd00::1]:6443");
    assert_eq!(check(ApiOutcome::Ok, "10.0.0.1").address(), "10.0.0.1:6443");
    assert!(ApiOutcome::ConnectRefused.is_network());
    assert!(!ApiOutcome::Tls.is_network());
    assert!(!ApiOutcome::Credentials.is_network());
}

#[tokio::test]
async fn a_closed_port_is_refused_and_a_bad_url_is_an_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let base = kube::Config::new(url.parse().unwrap());
    let t = Duration::from_secs(2);
    let c = super::check(&base, &url, AddressOrigin::Kubeconfig, false, t).await;
    assert_eq!(c.outcome, ApiOutcome::ConnectRefused, "{c:?}");
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", port));
    let c = super::check(&base, "http://[", AddressOrigin::Flag, true, t).await;
    assert_eq!(c.outcome, ApiOutcome::Error);
}
