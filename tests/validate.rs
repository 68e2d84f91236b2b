//! `cairn validate` and `cairn --version` as a user runs them: the Corefiles kubeadm, k0s and k3s
//! ship pass with a one-line summary; a Corefile with mistakes prints exactly one
//! `FILE:LINE: message` line per mistake on stderr and exits 1; an unreadable file exits 2;
//! nothing is bound or contacted while checking.

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cairn");

fn validate(path: &Path) -> Output {
    Command::new(BIN)
        .args(["validate", "--corefile"])
        .arg(path)
        .env_remove("RUST_LOG")
        .output()
        .expect("cairn runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corefiles")
        .join(name)
}

/// What `forward . /etc/resolv.conf` reads on this machine, as the summary shows it; `None` when
/// the machine has no usable resolv.conf.
fn host_upstreams() -> Option<String> {
    let contents = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    let servers = cairn::config::resolv_conf(&contents).ok()?;
    if servers.is_empty() {
        return None;
    }
    let shown: Vec<String> = servers
        .iter()
        .map(|a| match a.port() {
            53 => a.ip().to_string(),
            _ => a.to_string(),
        })
        .collect();
    Some(shown.join(" "))
}

/// A shipped Corefile to check: the fixture itself, or (on a machine without a usable
/// /etc/resolv.conf) a copy reading a resolv.conf of our own, with what the summary then shows.
fn shipped(name: &str, dir: &Path) -> (PathBuf, String) {
    let path = fixture(name);
    if let Some(upstreams) = host_upstreams() {
        return (path, upstreams);
    }
    eprintln!("note: /etc/resolv.conf has no nameserver here; {name} reads a copy instead");
    let resolv = dir.join("resolv.conf");
    std::fs::write(&resolv, "nameserver 192.0.2.53\n").unwrap();
    let corefile = dir.join(name);
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &corefile,
        original.replace("/etc/resolv.conf", &resolv.display().to_string()),
    )
    .unwrap();
    (corefile, "192.0.2.53".to_string())
}

#[test]
fn the_corefiles_distributions_ship_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "kubeadm.Corefile",
            "errors, health :8080 lameduck 5s, ready :8181, kubernetes cluster.local in-addr.arpa ip6.arpa, prometheus :9153, forward . UP, cache 30, loop, reload, loadbalance",
        ),
        (
            "kubeadm-old.Corefile",
            "errors, health :8080 lameduck 5s, ready :8181, kubernetes cluster.local in-addr.arpa ip6.arpa, prometheus :9153, forward . UP, cache 30, loop, reload, loadbalance",
        ),
        (
            "k0s.Corefile",
            "errors, health :8080, ready :8181, kubernetes cluster.local in-addr.arpa ip6.arpa, prometheus :9153, forward . UP, cache 30, loop, reload, loadbalance",
        ),
        (
            "k3s.Corefile",
            "errors, health :8080, ready :8181, kubernetes cluster.local in-addr.arpa ip6.arpa, hosts /etc/coredns/NodeHosts, prometheus :9153, forward . UP, cache 30, loop, reload, loadbalance",
        ),
    ];
    for (name, plugins) in cases {
        let (path, upstreams) = shipped(name, dir.path());
        let out = validate(&path);
        assert_eq!(
            (out.status.code(), text(&out.stderr).as_str()),
            (Some(0), ""),
            "{name}"
        );
        let want = format!(
            "{}: OK — 1 server block: .:53 ({})\n",
            path.display(),
            plugins.replace("UP", &upstreams)
        );
        assert_eq!(text(&out.stdout), want, "{name}");
    }
}

/// The kubeadm Corefile with one line changed.
fn kubeadm_with(from: &str, to: &str) -> String {
    let original = std::fs::read_to_string(fixture("kubeadm.Corefile")).unwrap();
    assert!(original.contains(from), "the fixture has {from:?}");
    original.replacen(from, to, 1)
}

#[test]
fn each_mistake_is_one_line_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "unknown plugin",
            kubeadm_with("    loop\n", "    loop\n    frobnicate on\n"),
            vec!["21: unknown plugin `frobnicate`"],
        ),
        (
            "a CoreDNS plugin Cairn lacks",
            kubeadm_with("    errors\n", "    errors\n    dnssec\n"),
            vec!["3: plugin `dnssec` is not supported yet"],
        ),
        (
            "bad option",
            kubeadm_with("pods insecure", "pods maybe"),
            vec!["8: invalid `pods` mode `maybe`: expected `disabled`, `insecure` or `verified`"],
        ),
        (
            "bad option value",
            kubeadm_with("ttl 30", "ttl 7200"),
            vec!["10: invalid `ttl` `7200`: expected an integer from 0 to 3600"],
        ),
        (
            "bad duration",
            kubeadm_with("lameduck 5s", "lameduck 5"),
            vec!["4: lameduck: invalid duration `5`: expected a number with a unit, such as `5s`, `500ms` or `1m30s`"],
        ),
        (
            "missing closing brace of a nested block",
            kubeadm_with("       ttl 30\n    }\n", "       ttl 30\n"),
            vec!["1: unclosed `{` opened on line 1: expected `}` before end of file"],
        ),
        (
            "missing opening brace",
            kubeadm_with(".:53 {\n", ".:53\n"),
            vec!["1: expected `{` to open the server block `.:53`, found `errors` on line 2"],
        ),
        (
            "a kubernetes zone outside the server block",
            kubeadm_with(".:53 {", "example.org:53 {"),
            vec!["7: kubernetes zone `cluster.local.` is not within the server block's zones (example.org.): expected one of them or a zone below one"],
        ),
        (
            "several mistakes, every one reported in order",
            kubeadm_with("pods insecure", "pods maybe")
                .replacen("    loop\n", "    loop\n    frobnicate on\n", 1)
                .replacen("prometheus :9153", "prometheus :91530", 1),
            vec![
                "8: invalid `pods` mode `maybe`: expected `disabled`, `insecure` or `verified`",
                "12: prometheus: invalid address `:91530`: expected `:PORT`, `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`",
                "21: unknown plugin `frobnicate`",
            ],
        ),
    ];
    for (what, corefile, want) in cases {
        let path = dir.path().join("Corefile");
        std::fs::write(&path, &corefile).unwrap();
        let out = validate(&path);
        let want: String = want
            .iter()
            .map(|line| format!("{}:{line}\n", path.display()))
            .collect();
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), want, "{what}");
        assert_eq!(text(&out.stdout), "", "{what}");
    }
}

#[test]
fn mistakes_in_an_imported_file_name_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let snippet = dir.path().join("extra.conf");
    std::fs::write(&snippet, "# extra plugins\nfrobnicate\n").unwrap();
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        ".:53 {\n    import extra.conf\n    import missing.conf\n}\n",
    )
    .unwrap();
    let out = validate(&corefile);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:3: file to import not found: `{}`\n",
            corefile.display(),
            dir.path().join("missing.conf").display()
        )
    );

    std::fs::write(&corefile, ".:53 {\n    import extra.conf\n}\n").unwrap();
    let out = validate(&corefile);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("{}:2: unknown plugin `frobnicate`\n", snippet.display())
    );
}

#[test]
fn an_unreadable_corefile_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("Corefile");
    let out = validate(&missing);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "cairn validate: cannot read {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    assert_eq!(text(&out.stdout), "");

    let out = validate(dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("Is a directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn checking_binds_nothing_and_contacts_nothing() {
    // The ports the Corefile names are taken, the API server is unroutable and the kubeconfig
    // and certificates do not exist: serving would fail on each, checking must not.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let http = tcp.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let corefile = dir.path().join("Corefile");
    std::fs::write(
        &corefile,
        format!(
            "{{$CAIRN_TEST_ZONE}}:{port} {{\n    bind 127.0.0.1\n    health 127.0.0.1:{http}\n    kubernetes {{\n        endpoint https://192.0.2.1:6443\n        tls /nonexistent/cert.pem /nonexistent/key.pem /nonexistent/ca.pem\n        kubeconfig /nonexistent/kubeconfig\n    }}\n    forward . 192.0.2.53\n}}\n"
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["validate", "--corefile"])
        .arg(&corefile)
        .env("CAIRN_TEST_ZONE", "cluster.local")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{}: OK — 1 server block: cluster.local:{port} (bind 127.0.0.1, health 127.0.0.1:{http}, kubernetes cluster.local, forward . 192.0.2.53)\n",
            corefile.display()
        )
    );
    drop((udp, tcp));
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = text(&out.stdout);
    let prefix = format!("cairn {} (commit ", env!("CARGO_PKG_VERSION"));
    let rest = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{line:?} starts with {prefix:?}"));
    let commit: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line:?}: a commit hash or `unknown`"
    );
    assert!(line.ends_with(")\n"), "{line:?}");
    // Built from a git checkout (and not told otherwise), the commit is the checkout's.
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(head) = head {
        if head.status.success() && std::env::var_os("CAIRN_REVISION").is_none() {
            assert_eq!(commit, text(&head.stdout).trim(), "{line:?}");
        }
    }
}
