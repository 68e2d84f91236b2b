//! The verdict paragraphs: plain words for the person debugging at 3 a.m. — the broken hop by
//! address, what that means, and the workaround. Wording only; which paragraph applies is
//! decided in the parent module.

use crate::doctor::api::ApiCheck;
use crate::doctor::dns::{DnsCheck, DnsOutcome};
use crate::doctor::report::{ApiSection, DnsSection};
use crate::doctor::target::{AddressOrigin, DnsOrigin, API_SERVER_NAME};
use crate::status::Status;

/// "the Service VIP 10.96.0.1:443" / "the configured API address 1.2.3.4:6443".
fn configured_name(c: &ApiCheck) -> String {
    match c.origin {
        AddressOrigin::InCluster => format!("the Service VIP {}", c.address()),
        AddressOrigin::Kubeconfig => {
            format!("the kubeconfig's API address {}", c.address())
        }
        _ => format!("API server {}", c.address()),
    }
}

fn dns_server(dns: &DnsSection) -> String {
    let server = dns.server.as_deref().unwrap_or("?");
    match dns.origin {
        Some(DnsOrigin::ResolvConf) => format!("the DNS server {server} (from resolv.conf)"),
        _ => format!("the DNS server {server}"),
    }
}

pub fn unknown(api: &ApiSection, dns: &DnsSection) -> String {
    let api_why = api.skipped.as_deref().unwrap_or("no API address to check");
    let dns_why = dns.skipped.as_deref().unwrap_or("no DNS server to check");
    format!(
        "Nothing could be checked: {api_why}; {dns_why}. Give --kubeconfig (or run this in a \
         pod) to check the API, and --dns to check the cluster DNS."
    )
}

pub fn service_vip(configured: &ApiCheck, endpoint: &ApiCheck) -> String {
    let cause = match configured.origin {
        AddressOrigin::InCluster => {
            "the service proxy (kube-proxy, kube-router or the CNI) is not forwarding ClusterIP \
             traffic on this node"
                .to_string()
        }
        _ => "the path to that address is broken. If it is the kubernetes Service VIP, the \
              service proxy (kube-proxy, kube-router or the CNI) is not forwarding ClusterIP \
              traffic on this node; if it is a load balancer, the load balancer is at fault"
            .to_string(),
    };
    let kubeconfig = if configured.origin == AddressOrigin::InCluster {
        String::new()
    } else if endpoint.url.starts_with("https://") {
        format!(
            ", or `server: {}` with `tls-server-name: {API_SERVER_NAME}` in a kubeconfig",
            endpoint.url
        )
    } else {
        format!(", or `server: {}` in a kubeconfig", endpoint.url)
    };
    format!(
        "{} {}, while API server {} answers: {cause}. Workaround: point clients at the API server \
         directly (KUBERNETES_SERVICE_HOST={} KUBERNETES_SERVICE_PORT={}{kubeconfig}); Cairn \
         fails over on its own.",
        capitalize(&configured_name(configured)),
        configured.phrase(),
        endpoint.address(),
        endpoint.host,
        endpoint.port,
    )
}

pub fn api_down(api: &ApiSection, dns: &DnsSection, cairn: Option<&Status>) -> String {
    let failures: Vec<String> = api
        .all()
        .map(|c| {
            let name = if api.configured.as_ref() == Some(c) {
                configured_name(c)
            } else {
                format!("API server {}", c.address())
            };
            format!("{name} {}", c.phrase())
        })
        .collect();
    let mut text = format!("No API address answers ({})", failures.join("; "));
    if api.endpoints.is_empty() {
        text.push_str(
            ". No API server endpoint was known to check (give --endpoints, or --status of a \
             Cairn that learned them), so the service proxy and the API server are both suspects",
        );
    } else {
        text.push_str(": the API server itself is down or unreachable from here");
    }
    text.push('.');
    match dns.queries.iter().find(|q| !q.ok()) {
        Some(q) => text.push_str(&format!(
            " DNS fails too: {} {}.",
            dns_server(dns),
            q.phrase()
        )),
        None if !dns.queries.is_empty() => {
            let age = cairn.map_or(String::new(), |s| {
                format!(" (data {:.0} s behind)", s.data.staleness_seconds)
            });
            text.push_str(&format!(
                " DNS keeps answering from Cairn's last-known state{age}: new and changed \
                 Services will not resolve until the API is back."
            ));
        }
        None => {}
    }
    text.push_str(
        " Workaround: restore the API server (on the control-plane nodes: the kube-apiserver \
         static pod, its kubelet, etcd); nothing on this node can route around it.",
    );
    text
}

pub fn credentials(c: &ApiCheck) -> String {
    let detail = c
        .error
        .as_deref()
        .filter(|e| !e.is_empty())
        .map_or(String::new(), |e| format!(" ({e})"));
    let meaning = if c.http_status == Some(403) {
        "the API knows who you are but does not allow it (RBAC denies even /version)"
    } else {
        "the token or client certificate is not accepted: expired, revoked, or from another \
         cluster"
    };
    format!(
        "API server {} answers but rejects the credentials with HTTP {}{detail}: {meaning}. \
         This is not a network problem. Workaround: use fresh credentials (a new kubeconfig; in \
         a pod, restart it to mount a current service-account token).",
        c.address(),
        c.http_status.unwrap_or(401),
    )
}

pub fn tls(c: &ApiCheck, answering: Option<&ApiCheck>) -> String {
    let error = c.error.as_deref().unwrap_or("unknown error");
    let lead = format!("TLS to {} fails ({error})", configured_name(c));
    if error.contains("corrupt message") || error.contains("InvalidContentType") {
        return format!(
            "{lead}: what answers there does not speak TLS (plain HTTP?). Workaround: use the \
             URL scheme the server speaks, or check what listens on {}.",
            c.address()
        );
    }
    match answering {
        Some(e) => format!(
            "{lead} while API server {} answers{}: the API server certificate does not name {}. \
             Workaround: point clients at {} (verifying it as {API_SERVER_NAME}), or re-issue \
             the certificate with that address in its SANs.",
            e.address(),
            if e.url.starts_with("https://") {
                " with the same CA"
            } else {
                ""
            },
            c.host,
            e.url
        ),
        None => format!(
            "{lead}; TCP connects, so the network path works. The certificate does not verify \
             against the CA in use (the kubeconfig's certificate-authority, or the service \
             account's ca.crt), or does not name the address. Workaround: use the cluster's \
             current CA; when reaching an API server by IP, verify it as {API_SERVER_NAME} \
             (`tls-server-name`, or Cairn's `tls_server_name`)."
        ),
    }
}

pub fn dns(api: &ApiSection, dns: &DnsSection, q: &DnsCheck) -> String {
    let lead = if api.all().any(|c| c.ok()) {
        "The API answers, but "
    } else {
        ""
    };
    let name = q.name.trim_end_matches('.');
    let meaning = match q.outcome {
        DnsOutcome::Timeout => {
            "the DNS Service VIP may not be forwarded on this node (the same service proxy), or \
             the DNS pods are down. Workaround: ask a DNS pod's IP directly (`kubectl -n \
             kube-system get pods -l k8s-app=kube-dns -o wide`); if that answers, the service \
             proxy is at fault"
                .to_string()
        }
        DnsOutcome::Refused => {
            "nothing listens on that address and port, so the DNS pods are down or this is not \
             the cluster DNS address. Workaround: check the DNS pods (`kubectl -n kube-system \
             get pods -l k8s-app=kube-dns`) and the kube-dns Service's ClusterIP"
                .to_string()
        }
        DnsOutcome::Servfail => {
            "the server runs but cannot answer the cluster zone; it has not listed the API yet \
             (Cairn answers SERVFAIL until its first sync), or its upstream fails. Workaround: \
             look at its logs and its /status"
                .to_string()
        }
        DnsOutcome::Nxdomain => format!(
            "the name does not exist there, so the Service is missing, the cluster domain is not \
             the one asked (--zone), or this is not the cluster DNS (from outside the cluster, \
             give --dns). Workaround: check `kubectl get service` for {name} and the cluster \
             domain"
        ),
        DnsOutcome::NoData => {
            "the name exists without an address: a headless Service with no ready endpoints"
                .to_string()
        }
        DnsOutcome::OtherRcode => {
            "the server does not serve that zone: this may not be the cluster DNS".to_string()
        }
        DnsOutcome::Ok | DnsOutcome::Error => "the query could not be made".to_string(),
    };
    format!(
        "{lead}{} {}: {meaning}.",
        if lead.is_empty() {
            capitalize(&dns_server(dns))
        } else {
            dns_server(dns)
        },
        q.phrase()
    )
}

pub fn stale(cairn: &Status) -> String {
    let age = cairn.data.staleness_seconds;
    let api = cairn.api.as_ref();
    let why = match api {
        Some(a) if a.active.is_none() => {
            let errors: Vec<String> = a
                .endpoints
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.url,
                        e.last_error.as_deref().unwrap_or("not healthy")
                    )
                })
                .collect();
            if errors.is_empty() {
                "none of its API endpoints is healthy".to_string()
            } else {
                format!(
                    "none of its API endpoints is healthy ({})",
                    errors.join("; ")
                )
            }
        }
        Some(a) => format!(
            "its watches on {} are not keeping up",
            a.active.as_deref().unwrap_or("?")
        ),
        None => "it is not connected to the API".to_string(),
    };
    format!(
        "Cairn answers DNS, but from data {age:.0} s behind the API: {why}. Names keep \
         resolving as they were; new and changed Services do not. Workaround: check the path \
         from Cairn's node to the API servers, and name them in its kubernetes block (`endpoint \
         https://IP:PORT`) so it can fail over."
    )
}

pub fn node_local(n: &crate::status::NodeLocalStatus) -> String {
    let mut missing = Vec::new();
    if !n.interface_present {
        missing.push(format!("the interface {}", n.interface));
    }
    let gone: Vec<&str> = n
        .addresses
        .iter()
        .filter(|a| !a.present)
        .map(|a| a.address.as_str())
        .collect();
    if n.interface_present && !gone.is_empty() {
        missing.push(format!("the address(es) {}", gone.join(", ")));
    }
    if !n.rules_present {
        missing.push(format!("the nftables table {}", n.table));
    }
    let why = n
        .last_error
        .as_deref()
        .map_or(String::new(), |e| format!(" Its last repair failed: {e}."));
    format!(
        "The node-local Cairn is missing {} on this node, so this node's DNS queries take the \
         service proxy again (or, for the link-local address, get no answer). Cairn puts them \
         back every {:.0} s.{why} Check that the pod has CAP_NET_ADMIN and the host network, \
         and that no other agent deletes `table {}` or {}; meanwhile the kube-dns Service \
         still answers through the service proxy.",
        missing.join(" and "),
        n.check_interval_seconds,
        n.table,
        n.interface
    )
}

pub fn partial(down: &[&ApiCheck], up: usize) -> String {
    let failures: Vec<String> = down
        .iter()
        .map(|c| format!("API server {} {}", c.address(), c.phrase()))
        .collect();
    format!(
        "{} while {up} other{} answer{}: a control-plane node is down or unreachable, and \
         clients behind the Service VIP fail whenever the proxy picks it. Workaround: fix that \
         node, or take it out of the kubernetes EndpointSlice (its kube-apiserver leaves on its \
         own when it stops renewing its lease).",
        capitalize(&failures.join("; ")),
        if up == 1 { "" } else { "s" },
        if up == 1 { "s" } else { "" },
    )
}

pub fn healthy(api: &ApiSection, dns: &DnsSection, cairn: Option<&Status>) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &api.configured {
        let version = c
            .version
            .as_deref()
            .map_or(String::new(), |v| format!(" ({v})"));
        parts.push(format!("{}{version}", configured_name(c)));
    }
    if !api.endpoints.is_empty() && api.endpoints.iter().all(|e| e.ok()) {
        let n = api.endpoints.len();
        parts.push(format!(
            "{n} API server endpoint{}",
            if n == 1 { "" } else { "s" }
        ));
    }
    if let Some(q) = dns.queries.first() {
        parts.push(format!(
            "{} ({} → {})",
            dns_server(dns),
            q.name.trim_end_matches('.'),
            q.answers.join(", ")
        ));
    }
    let mut text = format!("Everything checked answers: {}.", parts.join(", "));
    if cairn.is_some() {
        text.push_str(" Cairn serves live data.");
    }
    let unreachable: Vec<String> = api
        .endpoints
        .iter()
        .filter(|e| !e.ok())
        .map(|e| format!("{} {}", e.address(), e.phrase()))
        .collect();
    if !unreachable.is_empty() {
        text.push_str(&format!(
            " Note: the API servers are not reachable directly from here ({}): fine while the \
             configured address works, but failing over to them would not work from this \
             network.",
            unreachable.join("; ")
        ));
    }
    if let Some(why) = &api.skipped {
        text.push_str(&format!(" The API was not checked: {why}."));
    }
    if let Some(why) = &dns.skipped {
        text.push_str(&format!(" DNS was not checked: {why}."));
    }
    text
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
