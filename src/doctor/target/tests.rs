use std::time::Duration;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::*;

fn slice(value: serde_json::Value) -> EndpointSlice {
    serde_json::from_value(value).expect("a valid EndpointSlice")
}

#[test]
fn endpoints_take_the_https_port_and_skip_unready_endpoints() {
    let slices = [slice(json!({
        "metadata": {"name": "kubernetes", "namespace": "default"},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["192.168.1.10"], "conditions": {"ready": true}},
            {"addresses": ["192.168.1.11"], "conditions": {"ready": false}},
            {"addresses": ["192.168.1.12"]},
        ],
        "ports": [{"name": "metrics", "port": 9000}, {"name": "https", "port": 6443}],
    }))];
    assert_eq!(
        endpoints_of(&slices, "https"),
        ["https://192.168.1.10:6443", "https://192.168.1.12:6443"]
    );
}

#[test]
fn endpoints_fall_back_to_the_first_port_and_bracket_ipv6() {
    let slices = [
        slice(json!({
            "metadata": {"name": "a"}, "addressType": "IPv6",
            "endpoints": [{"addresses": ["fd00::10"]}],
            "ports": [{"port": 443}],
        })),
        slice(json!({
            "metadata": {"name": "b"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"]}],
        })),
    ];
    assert_eq!(endpoints_of(&slices, "http"), ["http://[fd00::10]:443"]);
}

#[test]
fn first_nameserver_skips_comments_and_bad_lines() {
    let text = "# generated\nsearch svc.cluster.local\nnameserver bogus\n; nameserver 1.1.1.1\nnameserver 10.96.0.10 # cluster\nnameserver 10.96.0.11\n";
    assert_eq!(
        first_nameserver(text),
        Some("10.96.0.10:53".parse().unwrap())
    );
    assert_eq!(first_nameserver(""), None);
    assert_eq!(first_nameserver("nameserver\n"), None);
}

#[test]
fn dns_target_prefers_the_flag_and_says_why_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("resolv.conf");
    std::fs::write(&empty, "search example\n").unwrap();
    let flag = "127.0.0.1:5353".parse().unwrap();
    assert_eq!(dns_target(Some(flag), &empty), Ok((flag, DnsOrigin::Flag)));
    let err = dns_target(None, &empty).unwrap_err();
    assert!(err.contains("no `nameserver`"), "{err}");
    let err = dns_target(None, &dir.path().join("missing")).unwrap_err();
    assert!(err.contains("cannot be read"), "{err}");
}

#[test]
fn dns_addresses_default_to_port_53() {
    assert_eq!(dns_addr("10.96.0.10"), Ok("10.96.0.10:53".parse().unwrap()));
    assert_eq!(
        dns_addr("127.0.0.1:5353"),
        Ok("127.0.0.1:5353".parse().unwrap())
    );
    assert_eq!(dns_addr("[::1]"), Ok("[::1]:53".parse().unwrap()));
    assert!(dns_addr("kube-dns").is_err());
}

#[test]
fn status_url_defaults_to_the_health_port_of_the_dns_address() {
    let dns = Some("10.96.0.10:53".parse().unwrap());
    assert_eq!(
        status_url(None, dns).as_deref(),
        Some("http://10.96.0.10:8080/status")
    );
    let v6 = Some("[fd00::a]:53".parse().unwrap());
    assert_eq!(
        status_url(None, v6).as_deref(),
        Some("http://[fd00::a]:8080/status")
    );
    assert_eq!(
        status_url(Some("http://x:9/status"), dns).as_deref(),
        Some("http://x:9/status")
    );
    assert_eq!(status_url(None, None), None);
}

#[test]
fn services_and_names() {
    assert_eq!(
        service_name("kube-system/kube-dns"),
        Ok(("kube-system".into(), "kube-dns".into()))
    );
    for bad in ["kube-dns", "a/", "/b", "A/b", "a/b/c"] {
        assert!(service_name(bad).is_err(), "{bad}");
    }
    let services = [("shop".to_string(), "web".to_string())];
    assert_eq!(
        dns_names("cluster.local.", &services),
        [
            "kubernetes.default.svc.cluster.local.",
            "web.shop.svc.cluster.local."
        ]
    );
}

#[test]
fn endpoint_urls_must_be_http_or_https() {
    assert_eq!(
        endpoint_url("https://192.168.1.10:6443/"),
        Ok("https://192.168.1.10:6443".into())
    );
    assert!(endpoint_url("192.168.1.10:6443").is_err());
    assert!(endpoint_url("ftp://x").is_err());
}

#[test]
fn aimed_configs_verify_direct_https_addresses_by_the_service_name() {
    let base = kube::Config::new("https://10.96.0.1:443".parse().unwrap());
    let t = Duration::from_secs(2);
    let direct = aimed(&base, "https://192.168.1.10:6443", true, t).unwrap();
    assert_eq!(direct.cluster_url, "https://192.168.1.10:6443");
    assert_eq!(direct.tls_server_name.as_deref(), Some(API_SERVER_NAME));
    assert_eq!(direct.connect_timeout, Some(t));
    assert_eq!(direct.read_timeout, Some(t));
    assert!(!direct.default_retry);
    let configured = aimed(&base, "https://10.96.0.1:443", false, t).unwrap();
    assert_eq!(configured.tls_server_name, None);
    let plain = aimed(&base, "http://127.0.0.1:8001", true, t).unwrap();
    assert_eq!(plain.tls_server_name, None);
    let mut named = base.clone();
    named.tls_server_name = Some("api.example".into());
    let kept = aimed(&named, "https://192.168.1.10:6443", true, t).unwrap();
    assert_eq!(kept.tls_server_name.as_deref(), Some("api.example"));
}
