//! Table tests: Corefile snippet -> expected config fields, or the exact `file:line: message`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{Config, ServerZone};
use super::{check_corefile, default_config, load_corefile, parse_corefile, ConfigError};
use crate::plugin::kubernetes::KubernetesConfig;
use crate::plugin::kubernetes::{PodMode, Requirement};

fn env(name: &str) -> Option<String> {
    match name {
        "ZONE" => Some("Cluster.Local".to_string()),
        "PORT" => Some("1053".to_string()),
        "NS" => Some("kube-system".to_string()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_corefile(text, Path::new("Corefile"), &env)
}

fn sz(zone: &str, port: u16) -> ServerZone {
    ServerZone {
        zone: zone.to_string(),
        port,
    }
}

fn names(v: &[&str]) -> Vec<hickory_proto::rr::Name> {
    v.iter()
        .map(|s| hickory_proto::rr::Name::from_ascii(s).expect("a name"))
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test IP")
}

#[test]
fn errors_name_file_line_and_expectation() {
    let cases: Vec<(&str, &str)> = vec![
        // CoreDNS plugins Cairn lacks, at their line.
        (".:53 {\n  kubernetes\n  dnssec\n}", "Corefile:3: plugin `dnssec` is not supported yet"),
        (".:53 {\n  errors\n  etcd\n}", "Corefile:3: plugin `etcd` is not supported yet"),
        (".:53 {\n\n  frobnicate on\n}", "Corefile:3: unknown plugin `frobnicate`"),
        // Structure.
        (".:53 {\n  kubernetes\n", "Corefile:1: unclosed `{` opened on line 1: expected `}` before end of file"),
        (".:53 {\n  kubernetes {\n    ttl 5\n}\n", "Corefile:1: unclosed `{` opened on line 1: expected `}` before end of file"),
        (".:53 {\n}\n}\n", "Corefile:3: unexpected `}`: no block is open"),
        ("{\n}\n", "Corefile:1: unexpected `{`: expected zone keys (such as `.:53`) before it"),
        (".:53 {\n  {\n  }\n}", "Corefile:2: unexpected `{`: expected a directive name"),
        (".:53\n", "Corefile:1: expected `{` to open the server block `.:53`, found end of file"),
        (".:53\nkubernetes\n", "Corefile:1: expected `{` to open the server block `.:53`, found `kubernetes` on line 2"),
        ("a.org, {\n}", "Corefile:1: expected another zone key after `,`, found `{` (remove the extra comma)"),
        ("a.org,\n", "Corefile:1: expected another zone key after `,`, found end of file"),
        (".:53 {\n  kubeconfig \"/x\n}\n", "Corefile:2: unterminated quoted string: expected a closing `\"`"),
        (".:53 {\n  kubernetes {\n    kubeconfig \"/a\nb\" ctx\n  }\n  etcd\n}", "Corefile:6: plugin `etcd` is not supported yet"),
        // Keys.
        ("a.org,,b.org {\n}", "Corefile:1: empty zone key in `a.org,,b.org`: expected a zone such as `.` or `example.org:53`"),
        ("\"\" {\n}", "Corefile:1: empty zone key in ``: expected a zone such as `.` or `example.org:53`"),
        (".:dns {\n}", "Corefile:1: invalid port `dns` in `.:dns`: expected a number from 0 to 65535"),
        ("\n.:70000 {\n}", "Corefile:2: invalid port `70000` in `.:70000`: expected a number from 0 to 65535"),
        (".: {\n}", "Corefile:1: invalid port `` in `.:`: expected a number from 0 to 65535"),
        (":53 {\n}", "Corefile:1: empty zone in `:53`: expected a zone such as `.` or `cluster.local`"),
        ("tls://.:853 {\n}", "Corefile:1: transport `tls://` in `tls://.:853` is not supported yet; only `dns://` is"),
        ("a..b {\n}", "Corefile:1: invalid zone `a..b`: empty label (two dots in a row)"),
        ("ex!ample {\n}", "Corefile:1: invalid zone `ex!ample`: expected letters, digits, `-` or `_` between dots"),
        ("10.0.0.0/33 {\n}", "Corefile:1: invalid CIDR `10.0.0.0/33`: expected an address and prefix such as `10.0.0.0/24`"),
        ("a.org a.org {\n}", "Corefile:1: zone `a.org.` on port 53 is given twice in this server block's keys"),
        (".:53 {\n}\n\n.:53 {\n}", "Corefile:4: zone `.` on port 53 is already served by the server block on line 1"),
        ("a.org b.org {\n}\nB.ORG. {\n}", "Corefile:3: zone `b.org.` on port 53 is already served by the server block on line 1"),
        (".:53 {\n bind 10.0.0.1\n}\n.:53 {\n bind 10.0.0.2 10.0.0.1\n}", "Corefile:4: zone `.` on port 53 is already served by the server block on line 1"),
        ("a.org (common) {\n  errors\n}", "Corefile:1: `(common)` is a snippet name, not a zone: a snippet is defined alone, as `(common) { ... }`"),
        ("{$UNSET} {\n}", "Corefile:1: unexpected `{`: expected zone keys (such as `.:53`) before it"),
        // bind.
        (".:53 {\n  bind eth0\n}", "Corefile:2: bind: `eth0` is not an IP address; interface names are not supported yet; give an IP address"),
        (".:53 {\n  bind\n}", "Corefile:2: `bind` takes at least one IP address (`bind ADDR...`), got none"),
        (".:53 {\n  bind 0.0.0.0 {\n    except 10.0.0.1\n  }\n}", "Corefile:2: a `bind` block (`except`) is not supported yet"),
        // kubernetes zones.
        ("example.org {\n  kubernetes cluster.local\n}", "Corefile:2: kubernetes zone `cluster.local.` is not within the server block's zones (example.org.): expected one of them or a zone below one"),
        ("cluster.local {\n  kubernetes 10.0.0.0/8\n}", "Corefile:2: kubernetes zone `10.in-addr.arpa.` is not within the server block's zones (cluster.local.): expected one of them or a zone below one"),
        (".:53 {\n  kubernetes cluster..local\n}", "Corefile:2: invalid zone `cluster..local`: empty label (two dots in a row)"),
        (".:53 {\n  kubernetes\n  kubernetes\n}", "Corefile:3: only one `kubernetes` per server block; the first is on line 2"),
        // kubernetes options.
        (".:53 {\n kubernetes {\n  ttl 3601\n }\n}", "Corefile:3: invalid `ttl` `3601`: expected an integer from 0 to 3600"),
        (".:53 {\n kubernetes {\n  ttl -1\n }\n}", "Corefile:3: invalid `ttl` `-1`: expected an integer from 0 to 3600"),
        (".:53 {\n kubernetes {\n  ttl\n }\n}", "Corefile:3: `ttl` takes exactly 1 argument (`ttl SECONDS`), got 0"),
        (".:53 {\n kubernetes {\n  pods maybe\n }\n}", "Corefile:3: invalid `pods` mode `maybe`: expected `disabled`, `insecure` or `verified`"),
        (".:53 {\n kubernetes {\n  tls a b\n }\n}", "Corefile:3: `tls` takes exactly 3 arguments (`tls CERT KEY CACERT`), got 2"),
        (".:53 {\n kubernetes {\n  kubeconfig a b c\n }\n}", "Corefile:3: `kubeconfig` takes 1 to 2 arguments (`kubeconfig PATH [CONTEXT]`), got 3"),
        (".:53 {\n kubernetes {\n  namespaces\n }\n}", "Corefile:3: `namespaces` takes at least 1 argument (`namespaces NAMESPACE...`), got 0"),
        (".:53 {\n kubernetes {\n  namespaces Kube_System\n }\n}", "Corefile:3: invalid namespace `Kube_System`: expected a lower-case DNS label (letters, digits, `-`)"),
        (".:53 {\n kubernetes {\n  endpoint ftp://10.0.0.1\n }\n}", "Corefile:3: endpoint `ftp://10.0.0.1` is not a URL: expected `https://HOST[:PORT]` or `http://HOST[:PORT]`"),
        (".:53 {\n kubernetes {\n  endpoint https://\n }\n}", "Corefile:3: endpoint `https://` is not a URL: expected `https://HOST[:PORT]` or `http://HOST[:PORT]`"),
        (".:53 {\n kubernetes {\n  endpoint\n }\n}", "Corefile:3: `endpoint` takes at least 1 argument (`endpoint URL...`), got 0"),
        (".:53 {\n kubernetes {\n  labels a in ()\n }\n}", "Corefile:3: invalid `labels` selector: the `in` value list must not be empty"),
        (".:53 {\n kubernetes {\n  namespace_labels -bad\n }\n}", "Corefile:3: invalid `namespace_labels` selector: invalid label key `-bad`: expected at most 63 characters of letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit"),
        (".:53 {\n kubernetes {\n  labels\n }\n}", "Corefile:3: `labels` takes at least 1 argument (`labels SELECTOR`), got 0"),
        (".:53 {\n kubernetes {\n  endpoint_pod_names yes\n }\n}", "Corefile:3: `endpoint_pod_names` takes no arguments (`endpoint_pod_names`), got 1"),
        (".:53 {\n kubernetes {\n  noendpoints please\n }\n}", "Corefile:3: `noendpoints` takes no arguments (`noendpoints`), got 1"),
        (".:53 {\n kubernetes {\n  snapshot\n }\n}", "Corefile:3: `snapshot` takes exactly 1 argument (`snapshot PATH`), got 0"),
        (".:53 {\n kubernetes {\n  tls_server_name https://x\n }\n}", "Corefile:3: invalid `tls_server_name` `https://x`: expected a DNS name such as `kubernetes.default.svc`"),
        (".:53 {\n kubernetes {\n  require_fresh yes\n }\n}", "Corefile:3: `require_fresh` takes no arguments (`require_fresh`), got 1"),
        (".:53 {\n kubernetes {\n  ignore everything\n }\n}", "Corefile:3: invalid `ignore` `everything`: expected `empty_service`"),
        (".:53 {\n kubernetes {\n  startup_timeout 5\n }\n}", "Corefile:3: startup_timeout: invalid duration `5`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"),
        (".:53 {\n kubernetes {\n  fallthrough in-addr..arpa\n }\n}", "Corefile:3: fallthrough: invalid zone `in-addr..arpa`: empty label (two dots in a row)"),
        (".:53 {\n kubernetes cluster.local {\n  multicluster clusterset.local\n }\n}", "Corefile:3: multicluster zone `clusterset.local.` is not one of the kubernetes plugin's zones (cluster.local.): the plugin must be authoritative for it"),
        (".:53 {\n kubernetes cluster.local clusterset.local {\n  multicluster\n }\n}", "Corefile:3: `multicluster` takes at least 1 argument (`multicluster ZONES...`), got 0"),
        (".:53 {\n kubernetes {\n  multicluster a..b\n }\n}", "Corefile:3: multicluster: invalid zone `a..b`: empty label (two dots in a row)"),
        (".:53 {\n kubernetes {\n  apiserver_qps 50\n }\n}", "Corefile:3: kubernetes option `apiserver_qps` is not supported yet"),
        (".:53 {\n kubernetes {\n  apiserver_burst 100\n }\n}", "Corefile:3: kubernetes option `apiserver_burst` is not supported yet"),
        (".:53 {\n kubernetes {\n  apiserver_max_inflight 10\n }\n}", "Corefile:3: kubernetes option `apiserver_max_inflight` is not supported yet"),
        (".:53 {\n kubernetes {\n  resyncperiod 30s\n }\n}", "Corefile:3: kubernetes option `resyncperiod` is not supported yet"),
        (".:53 {\n kubernetes {\n  upstream 8.8.8.8\n }\n}", "Corefile:3: unknown property `upstream` in kubernetes block"),
        (".:53 {\n kubernetes {\n  ttl 5 {\n  }\n }\n}", "Corefile:3: unexpected `{` after `ttl` in kubernetes block: this option takes no block"),
    ];
    for (text, want) in cases {
        match parse(text) {
            Ok(config) => panic!("{text:?}: expected error {want:?}, got {config:?}"),
            Err(err) => assert_eq!(err.to_string(), want, "{text:?}"),
        }
    }
}

#[test]
fn valid_corefiles_produce_the_typed_config() {
    type Check = fn(&Config);
    let cases: Vec<(&str, Check)> = vec![
        (".:53 {\n}", |c| {
            assert_eq!(c.servers.len(), 1);
            assert_eq!(c.servers[0].zones, [sz(".", 53)]);
            assert_eq!(c.servers[0].location.line, 1);
            assert_eq!(c.servers[0].location.file, PathBuf::from("Corefile"));
            assert!(c.servers[0].bind.is_empty());
            assert!(c.servers[0].get::<KubernetesConfig>().is_none());
        }),
        ("\n\n. {}", |c| {
            assert_eq!(c.servers[0].zones, [sz(".", 53)]);
            assert_eq!(c.servers[0].location.line, 3);
        }),
        ("Cluster.Local in-addr.arpa:1053 {\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz("cluster.local.", 53), sz("in-addr.arpa.", 1053)]);
        }),
        ("a.org,B.org, c.org. {\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz("a.org.", 53), sz("b.org.", 53), sz("c.org.", 53)]);
        }),
        ("a.org,\n  b.org:5353\n{\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz("a.org.", 53), sz("b.org.", 5353)]);
        }),
        ("dns://.:0 {\n}\nDNS://example.org:65535 {\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz(".", 0)]);
            assert_eq!(c.servers[1].zones, [sz("example.org.", 65535)]);
            assert_eq!(c.servers[1].location.line, 3);
        }),
        ("10.0.0.0/24:5300 fd00::/120 {\n}", |c| {
            let want = [
                sz("0.0.10.in-addr.arpa.", 5300),
                sz(&format!("{}d.f.ip6.arpa.", "0.".repeat(28)), 53),
            ];
            assert_eq!(c.servers[0].zones, want);
        }),
        ("10.0.0.0/23 {\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz("0.0.10.in-addr.arpa.", 53), sz("1.0.10.in-addr.arpa.", 53)]);
        }),
        (".:53 {\n}\n.:54 {\n}\nexample.org:53 {\n}", |c| {
            assert_eq!(c.servers.len(), 3);
            assert_eq!(c.servers[2].zones, [sz("example.org.", 53)]);
        }),
        (".:53 {\n  bind 10.0.0.1\n}\n.:53 {\n  bind 10.0.0.2 ::1\n  bind 10.0.0.2\n}", |c| {
            assert_eq!(c.servers[0].bind, [ip("10.0.0.1")]);
            assert_eq!(c.servers[1].bind, [ip("10.0.0.2"), ip("::1")]);
        }),
        ("cluster.local:53 {\n  kubernetes\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["cluster.local."]);
            assert_eq!(k.location.line, 2);
            assert_eq!(k.ttl, 5);
            assert_eq!(k.pods, PodMode::Disabled);
            assert_eq!(k.fallthrough, None);
            assert_eq!(k.startup_timeout, Duration::from_secs(5));
            assert!(k.endpoints.is_empty() && k.namespaces.is_empty());
        }),
        ("cluster.local cluster.local:1053 {\n  kubernetes\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["cluster.local."]);
        }),
        (".:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]);
            assert_eq!(k.pods, PodMode::Insecure);
            assert_eq!(k.fallthrough, Some(names(&["in-addr.arpa.", "ip6.arpa."])));
            assert_eq!(k.ttl, 30);
        }),
        (".:53 {\n  kubernetes CLUSTER.local 10.96.0.0/12 {\n    fallthrough\n  }\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones.len(), 17);
            assert_eq!(k.zones[0], "cluster.local.");
            assert_eq!(k.zones[1], "96.10.in-addr.arpa.");
            assert_eq!(k.fallthrough, Some(vec![]));
        }),
        (".:53 {\n  kubernetes cluster.local ClusterSet.Local {\n    multicluster clusterset.local CLUSTERSET.local\n  }\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.multicluster, names(&["clusterset.local."]));
        }),
        ("cluster.local {\n  kubernetes\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert!(k.multicluster.is_empty());
        }),
        ("cluster.local in-addr.arpa {\n  kubernetes sub.cluster.local 10.0.0.0/8\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["sub.cluster.local.", "10.in-addr.arpa."]);
        }),
        (
            ".:53 {\n  kubernetes cluster.local {\n    endpoint https://10.0.0.1:6443 http://api.local\n    tls /c.pem /k.pem /ca.pem\n    kubeconfig /etc/kc \"my ctx\"\n    namespaces default kube-system\n    labels app in (dns, web), tier!=db\n    namespace_labels !legacy\n    pods verified\n    endpoint_pod_names\n    ttl 0\n    noendpoints\n    fallthrough Example.org 10.0.0.0/8\n    ignore empty_service\n    startup_timeout 1m30s\n  }\n}",
            |c| {
                let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
                assert_eq!(k.endpoints, ["https://10.0.0.1:6443", "http://api.local"]);
                let tls = k.tls.as_ref().expect("tls");
                assert_eq!((tls.cert.to_str(), tls.key.to_str(), tls.ca.to_str()), (Some("/c.pem"), Some("/k.pem"), Some("/ca.pem")));
                let kc = k.kubeconfig.as_ref().expect("kubeconfig");
                assert_eq!(kc.path, PathBuf::from("/etc/kc"));
                assert_eq!(kc.context.as_deref(), Some("my ctx"));
                assert_eq!(k.namespaces, ["default", "kube-system"]);
                let labels = k.labels.as_ref().expect("labels");
                assert_eq!(labels.requirements, [
                    Requirement::In("app".into(), strings(&["dns", "web"])),
                    Requirement::NotIn("tier".into(), strings(&["db"])),
                ]);
                let ns = k.namespace_labels.as_ref().expect("namespace_labels");
                assert_eq!(ns.requirements, [Requirement::DoesNotExist("legacy".into())]);
                assert_eq!(k.pods, PodMode::Verified);
                assert!(k.endpoint_pod_names && k.noendpoints && k.ignore_empty_service);
                assert_eq!(k.ttl, 0);
                assert_eq!(k.fallthrough, Some(names(&["example.org.", "10.in-addr.arpa."])));
                assert_eq!(k.startup_timeout, Duration::from_secs(90));
            },
        ),
        (".:53 {\n  kubernetes {\n    kubeconfig /kc\n    ttl 3600\n    startup_timeout 500ms\n    pods disabled\n  }\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.kubeconfig.as_ref().and_then(|kc| kc.context.clone()), None);
            assert_eq!(k.ttl, 3600);
            assert_eq!(k.startup_timeout, Duration::from_millis(500));
            assert_eq!(k.zones, ["."]);
            assert_eq!((k.snapshot.as_ref(), k.tls_server_name.as_ref(), k.require_fresh), (None, None, false));
        }),
        (".:53 {\n  kubernetes {\n    snapshot /var/lib/cairn/state.bin\n    tls_server_name kubernetes.default.svc\n    require_fresh\n  }\n}", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.snapshot, Some(PathBuf::from("/var/lib/cairn/state.bin")));
            assert_eq!(k.tls_server_name.as_deref(), Some("kubernetes.default.svc"));
            assert!(k.require_fresh);
        }),
        ("# Cairn\n.:53 { # the root\n  # nothing here\n  kubernetes cluster.local # comment { not a brace\n}\n# end", |c| {
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["cluster.local."]);
            assert_eq!(k.location.line, 4);
        }),
        (".:53 {\n  kubernetes { ttl 7 }\n}", |c| {
            assert_eq!(c.servers[0].get::<KubernetesConfig>().map(|k| k.ttl), Some(7));
        }),
        (".:53\n{\n  kubernetes\n  {\n    ttl 8\n  }\n}", |c| {
            assert_eq!(c.servers[0].get::<KubernetesConfig>().map(|k| k.ttl), Some(8));
        }),
        (".:53 {\n  kubernetes {\n    kubeconfig \"/dir with \\\"quotes\\\"/kc\" \"{$NS}\"\n  }\n}", |c| {
            let kc = c.servers[0].get::<KubernetesConfig>().and_then(|k| k.kubeconfig.clone()).expect("kubeconfig");
            assert_eq!(kc.path, PathBuf::from("/dir with \"quotes\"/kc"));
            assert_eq!(kc.context.as_deref(), Some("kube-system"));
        }),
        ("{$ZONE}:{$PORT} {\n  kubernetes {%ZONE%} {\n    namespaces {$NS} x{$UNSET}\n  }\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz("cluster.local.", 1053)]);
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["cluster.local."]);
            assert_eq!(k.namespaces, ["kube-system", "x"]);
        }),
        ("\"quoted.org:53\" {\n  kubernetes \"Quoted.Org\" {\n    kubeconfig \"/a\nb\" ctx\n  }\n}", |c| {
            assert_eq!(c.servers[0].zones, [sz("quoted.org.", 53)]);
            let k = c.servers[0].get::<KubernetesConfig>().expect("kubernetes");
            assert_eq!(k.zones, ["quoted.org."]);
            let kc = k.kubeconfig.as_ref().expect("kubeconfig");
            assert_eq!(kc.path, PathBuf::from("/a\nb"));
            assert_eq!(kc.context.as_deref(), Some("ctx"));
        }),
    ];
    for (text, check) in cases {
        match parse(text) {
            Ok(config) => check(&config),
            Err(err) => panic!("{text:?}: unexpected error {err}"),
        }
    }
}

#[test]
fn default_config_behaves_like_its_corefile() {
    let any: SocketAddr = "0.0.0.0:53".parse().expect("addr");
    let c = default_config(any, "Cluster.Local");
    let s = &c.servers[0];
    assert_eq!(s.zones, [sz(".", 53)]);
    assert!(s.bind.is_empty());
    assert_eq!(s.location.file, PathBuf::from("<command line>"));
    assert_eq!(s.location.line, 1);
    let k = s.get::<KubernetesConfig>().expect("kubernetes");
    assert_eq!(k.zones, ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]);

    let local: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let c = default_config(local, "cluster.local.");
    assert_eq!(c.servers[0].bind, [ip("127.0.0.1")]);
    assert_eq!(c.servers[0].zones, [sz(".", 0)]);

    let from_text =
        parse(".:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local in-addr.arpa ip6.arpa\n}")
            .expect("parses");
    let mut want = from_text.servers[0].clone();
    want.location = c.servers[0].location.clone();
    if let Some(mut k) = want.get::<KubernetesConfig>().cloned() {
        k.location = c.servers[0].location.clone();
        want.set(crate::plugin::Setup::Kubernetes(k));
    }
    assert_eq!(c.servers[0], want);
}

#[test]
fn load_corefile_reads_the_file_and_names_it_on_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Corefile");
    std::fs::write(&path, "cluster.local:1053 {\n  kubernetes\n}\n").expect("write");
    let c = load_corefile(&path).expect("loads");
    assert_eq!(c.servers[0].zones, [sz("cluster.local.", 1053)]);
    assert_eq!(c.servers[0].location.file, path);

    std::fs::write(&path, ".:53 {\n  etcd\n}\n").expect("write");
    let err = load_corefile(&path).expect_err("etcd is unsupported");
    assert_eq!(err.file, path);
    assert_eq!(err.line, 2);

    let missing = dir.path().join("missing");
    let err = load_corefile(&missing).expect_err("missing file");
    assert_eq!(err.file, missing);
    assert!(
        err.to_string()
            .starts_with(&format!("{}:", missing.display())),
        "{err}"
    );
    assert!(err.message.contains("cannot read the Corefile"), "{err}");
}

#[test]
fn check_reports_every_bad_key_and_directive_in_order() {
    let check = |text: &str| -> Vec<String> {
        match check_corefile(text, Path::new("Corefile"), &env) {
            Ok(config) => panic!("{text:?}: expected errors, got {config:?}"),
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        }
    };
    assert_eq!(
        check(".:53 {\n  etcd\n  kubernetes {\n    ttl 9999\n  }\n  cache 30\n  cache 10\n}\n.:53 {\n}\nexample.org {\n  kubernetes cluster.local\n}\n"),
        [
            "Corefile:2: plugin `etcd` is not supported yet",
            "Corefile:4: invalid `ttl` `9999`: expected an integer from 0 to 3600",
            "Corefile:7: only one `cache` per server block; the first is on line 6",
            "Corefile:9: zone `.` on port 53 is already served by the server block on line 1",
            "Corefile:12: kubernetes zone `cluster.local.` is not within the server block's zones (example.org.): expected one of them or a zone below one",
        ]
    );
    // A bad key: the block's directives are not judged against zones it does not have.
    assert_eq!(
        check("a..b other:99999 {\n  kubernetes cluster.local\n}\n"),
        [
            "Corefile:1: invalid zone `a..b`: empty label (two dots in a row)",
            "Corefile:1: invalid port `99999` in `other:99999`: expected a number from 0 to 65535",
        ]
    );
    // A structural error is reported alone: the blocks around it are not judged.
    assert_eq!(
        check(".:53 {\n  etcd\n}\n}\n.:54 {\n  etcd\n}\n"),
        ["Corefile:4: unexpected `}`: no block is open"]
    );
}

#[test]
fn plugins_are_listed_in_the_order_written() {
    let c = parse(
        ".:53 {\n  errors\n  bind 127.0.0.1\n  health\n  kubernetes\n  bind ::1\n  loop\n}\n",
    )
    .expect("parses");
    assert_eq!(
        c.servers[0].plugins,
        ["errors", "bind", "health", "kubernetes", "loop"]
    );
}

#[test]
fn error_display_is_file_colon_line() {
    let err = ConfigError {
        file: PathBuf::from("/etc/coredns/Corefile"),
        line: 12,
        message: "plugin `log` is not supported yet".to_string(),
    };
    assert_eq!(
        err.to_string(),
        "/etc/coredns/Corefile:12: plugin `log` is not supported yet"
    );
}

mod distributions;
mod imports;
mod plugins;

#[test]
fn one_nodelocal_per_corefile() {
    let text = ".:53 {\n  bind 169.254.20.10\n  nodelocal\n}\n\
                .:5353 {\n  bind 169.254.20.11\n  nodelocal\n}\n";
    let err = parse(text).expect_err("two nodelocal blocks");
    assert_eq!(
        err.to_string(),
        "Corefile:7: only one `nodelocal` per Corefile; the first is at Corefile:3"
    );
}
