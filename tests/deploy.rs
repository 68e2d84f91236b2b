//! The manifests in `deploy/` as a cluster would get them. Every kustomization renders with
//! `kubectl kustomize`; every rendered object validates strictly against the Kubernetes OpenAPI
//! schemas (kubernetes-validate); every YAML file passes yamllint; and what the objects say
//! agrees with the Corefile they run: the probes ask the `health` and `ready` listeners, the
//! Service and container ports are the DNS and `prometheus` listeners, the grace period
//! outlasts `lameduck` and the final snapshot write, the snapshot lands on a writable volume, and the ClusterRole grants
//! exactly what Cairn watches for that Corefile, as `cairn::source::kubernetes::watch_specs`
//! computes it. The swap overlay (a patch, not an object) is applied to the CoreDNS
//! Deployments kubeadm, k3s and k0s ship (`tests/fixtures/deploy/`) and the results checked the
//! same way, rollback included. The node-local overlay (a DaemonSet on the host network) is
//! checked the same way, its probes against the node-local addresses, plus what node-local mode
//! needs of it (host network, surge upgrades, capabilities, every node) and that it installs
//! beside a central Cairn or CoreDNS without touching them.
//!
//! Needs `kubectl` (with its built-in kustomize) on PATH, and Python 3 with pip: the pinned
//! kubernetes-validate (which ships its schemas: nothing is downloaded when validating) and
//! yamllint are installed with pip when missing, which only the first run waits for. No
//! cluster is contacted: `kubectl patch --local` only.
//!
//! Corefiles are parsed with `cairn::config::parse_corefile_with` (what `parse_corefile` runs,
//! with the filesystem made explicit) over the files a Cairn pod has, so the test machine's
//! own `/etc/resolv.conf` plays no part.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cairn::config::model::Config;
use cairn::config::{parse_corefile_with, Files};
use cairn::plugin::health::HealthConfig;
use cairn::plugin::kubernetes::KubernetesConfig;
use cairn::plugin::prometheus::PrometheusConfig;
use cairn::plugin::ready::ReadyConfig;
use cairn::plugin::Kind;
use cairn::source::kubernetes::watch_specs;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// The Python tools, pinned so that every machine validates against the same schemas.
const PIP_PACKAGES: &[&str] = &["kubernetes-validate==1.37.0", "yamllint==1.38.0"];

/// The Kubernetes releases every rendered object is validated against: kubectl's on this
/// project's machines (also the first kubeadm whose `upgrade apply` can skip the CoreDNS
/// phase, which docs/migrate-from-coredns.md relies on), and the newest the pinned
/// kubernetes-validate ships.
const SCHEMA_VERSIONS: &[&str] = &["1.32.0", "1.37.0"];

/// The kustomizations that render objects to `kubectl apply -k`.
const INSTALLS: &[&str] = &[
    "deploy/base",
    "deploy/overlays/fresh-install",
    "deploy/overlays/hostpath-snapshot",
];

/// The kustomization that renders a patch for an existing CoreDNS Deployment.
const SWAP: &str = "deploy/overlays/swap-coredns";

/// The kustomization that renders node-local Cairn (a DaemonSet), to install beside the above.
const NODE_LOCAL: &str = "deploy/overlays/node-local";

/// The link-local address node-local Cairn answers on, and its probes ask (NodeLocal
/// DNSCache's; docs/node-local.md).
const LINK_LOCAL: &str = "169.254.20.10";

/// The distributions whose CoreDNS the swap is applied to: `tests/fixtures/deploy/coredns-D.yaml`
/// with the Corefile `tests/fixtures/corefiles/D.Corefile` in its ConfigMap `coredns`.
const DISTRIBUTIONS: &[&str] = &["kubeadm", "k3s", "k0s"];

/// What docs/migrate-from-coredns.md has users add to CoreDNS's `kubernetes` block.
const SNAPSHOT_OPTION: &str = "snapshot /var/lib/cairn/snapshot.bin";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `command` to completion and returns its stdout and stderr; `what` names it in the
/// failure when it cannot start (with `missing`, what to install) or exits unsuccessfully.
fn run(command: &mut Command, what: &str, missing: &str) -> (String, String) {
    let output = command
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} ({e}): {missing}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}{stderr}",
        output.status
    );
    (stdout, stderr)
}

fn kubectl(args: &[&str]) -> String {
    let what = format!("`kubectl {}`", args.join(" "));
    let missing = "tests/deploy.rs renders deploy/ with `kubectl kustomize` and applies the \
                   swap patch with `kubectl patch --local`: install kubectl (1.27 or newer, \
                   kustomize is built in) on PATH";
    run(Command::new("kubectl").args(args), &what, missing).0
}

/// `kubectl kustomize DIR`, once per directory.
fn render(dir: &str) -> String {
    static RENDERED: OnceLock<Mutex<BTreeMap<String, String>>> = OnceLock::new();
    let cache = RENDERED.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap().get(dir) {
        return hit.clone();
    }
    let yaml = kubectl(&["kustomize", dir]);
    cache.lock().unwrap().insert(dir.to_string(), yaml.clone());
    yaml
}

fn python(args: &[&str], what: &str) -> (String, String) {
    let missing = "tests/deploy.rs validates with Python tools: install python3 with pip";
    run(Command::new("python3").args(args), what, missing)
}

/// Makes sure kubernetes-validate and yamllint can be run, installing them with pip if not.
fn python_tools() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let importable = || {
            Command::new("python3")
                .args(["-c", "import kubernetes_validate, yamllint"])
                .stdin(Stdio::null())
                .output()
                .map(|out| out.status.success())
                .unwrap_or_else(|e| {
                    panic!("cannot run python3 ({e}): tests/deploy.rs validates with Python tools")
                })
        };
        if importable() {
            return;
        }
        eprintln!("installing {PIP_PACKAGES:?} with pip (once per machine)");
        let mut args = vec![
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ];
        args.extend(PIP_PACKAGES);
        python(&args, &format!("`pip install {}`", PIP_PACKAGES.join(" ")));
        assert!(
            importable(),
            "pip installed {PIP_PACKAGES:?} but python3 cannot import them"
        );
    });
}

/// The documents of a multi-document YAML text, as JSON values.
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("bad YAML ({e}):\n{yaml}")))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// The objects one kustomization renders.
struct Rendered {
    dir: String,
    objects: Vec<Value>,
}

impl Rendered {
    fn of(dir: &str) -> Rendered {
        Rendered {
            dir: dir.to_string(),
            objects: documents(&render(dir)),
        }
    }

    /// The only object of type `K`, typed.
    fn one<K: k8s_openapi::Resource + DeserializeOwned>(&self) -> K {
        let found: Vec<&Value> = self
            .objects
            .iter()
            .filter(|o| o["kind"] == K::KIND)
            .collect();
        match found.as_slice() {
            [one] => typed(one),
            _ => panic!(
                "{} renders {} {}s, expected one",
                self.dir,
                found.len(),
                K::KIND
            ),
        }
    }
}

fn typed<K: DeserializeOwned>(value: &Value) -> K {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| {
        panic!(
            "cannot read {} as {}: {e}",
            value,
            std::any::type_name::<K>()
        )
    })
}

/// What a Cairn pod's filesystem gives the Corefile parser: with `dnsPolicy: Default` the
/// container's /etc/resolv.conf is the node's (any nameserver does here). Nothing else exists,
/// so imports (k3s's `/etc/coredns/custom/*`) match nothing, as without the optional
/// `coredns-custom` ConfigMap.
struct PodFiles;

const RESOLV_CONF: &str = "/etc/resolv.conf";

impl Files for PodFiles {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        if path == Path::new(RESOLV_CONF) {
            return Ok("nameserver 192.0.2.53\n".to_string());
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not in the test's pod", path.display()),
        ))
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not in the test's pod", dir.display()),
        ))
    }

    fn exists(&self, path: &Path) -> bool {
        path == Path::new(RESOLV_CONF)
    }
}

/// The listeners and options of a parsed Corefile that the manifests must agree with.
struct Corefile {
    config: Config,
    dns_ports: BTreeSet<u16>,
    health: SocketAddr,
    lameduck: Duration,
    ready: SocketAddr,
    metrics: SocketAddr,
    /// The `bind` addresses of the server block with `nodelocal` (what node-local mode
    /// captures on the node); `None` without `nodelocal`.
    captured: Option<BTreeSet<IpAddr>>,
}

impl Corefile {
    fn parse(text: &str, path: &str, origin: &str) -> Corefile {
        let config = parse_corefile_with(text, Path::new(path), &|_| None, &PodFiles)
            .unwrap_or_else(|e| panic!("the Corefile of {origin} does not parse: {e}\n{text}"));
        let servers = &config.servers;
        let health = servers
            .iter()
            .find_map(|s| s.get::<HealthConfig>().cloned())
            .unwrap_or_else(|| panic!("{origin}: no `health`: the liveness probe has no listener"));
        let ready = servers
            .iter()
            .find_map(|s| s.get::<ReadyConfig>().cloned())
            .unwrap_or_else(|| panic!("{origin}: no `ready`: the readiness probe has no listener"));
        let metrics = servers
            .iter()
            .find_map(|s| s.get::<PrometheusConfig>().cloned())
            .unwrap_or_else(|| panic!("{origin}: no `prometheus`: nothing serves :9153"));
        Corefile {
            dns_ports: servers
                .iter()
                .flat_map(|s| s.zones.iter().map(|z| z.port))
                .collect(),
            health: health.addr,
            lameduck: health.lameduck,
            ready: ready.addr,
            metrics: metrics.addr,
            captured: servers
                .iter()
                .find(|s| s.has(Kind::Nodelocal))
                .map(|s| s.bind.iter().copied().collect()),
            config,
        }
    }

    fn kubernetes_blocks(&self) -> Vec<&KubernetesConfig> {
        self.config
            .servers
            .iter()
            .filter_map(|s| s.get::<KubernetesConfig>())
            .collect()
    }
}

/// `text` with `option` added as the first line of its `kubernetes` block, as a user would.
fn with_kubernetes_option(text: &str, option: &str) -> String {
    let mut out = String::new();
    let mut added = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        let trimmed = line.trim_start();
        if !added && trimmed.starts_with("kubernetes ") && trimmed.ends_with('{') {
            out.push_str(&format!("      {option}\n"));
            added = true;
        }
    }
    assert!(
        added,
        "no `kubernetes ... {{` line to add `{option}` to:\n{text}"
    );
    out
}

/// A container of `spec` by name.
fn container<'a>(spec: &'a PodSpec, name: &str) -> &'a Container {
    spec.containers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no container `{name}`"))
}

/// The number a container port reference (number or port name) stands for.
fn port_number(container: &Container, port: &IntOrString) -> i32 {
    match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| p.container_port)
            .unwrap_or_else(|| panic!("container `{}` has no port named `{name}`", container.name)),
    }
}

/// The container's declared ports as (number, protocol).
fn declared_ports(container: &Container) -> BTreeSet<(i32, String)> {
    container
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            (p.container_port, protocol)
        })
        .collect()
}

/// The volume mount of `container` that holds `path` (the longest mount path containing it).
fn mount_holding<'a>(
    container: &'a Container,
    path: &Path,
) -> Option<&'a k8s_openapi::api::core::v1::VolumeMount> {
    container
        .volume_mounts
        .iter()
        .flatten()
        .filter(|m| path.starts_with(&m.mount_path))
        .max_by_key(|m| m.mount_path.len())
}

/// The ConfigMaps a pod may mount: name -> key -> text.
type ConfigMaps = BTreeMap<String, BTreeMap<String, String>>;

/// Follows `--corefile PATH` in the container's args to the ConfigMap key mounted there and
/// returns (PATH, the Corefile's text).
fn corefile_of(spec: &PodSpec, c: &Container, configmaps: &ConfigMaps) -> (String, String) {
    let args = c.args.clone().unwrap_or_default();
    assert_eq!(
        args.first().map(String::as_str),
        Some("serve"),
        "container `{}` does not run `cairn serve`: args {args:?}",
        c.name
    );
    let path = args
        .windows(2)
        .find(|w| w[0] == "--corefile")
        .map(|w| w[1].clone())
        .unwrap_or_else(|| panic!("`cairn serve` without `--corefile`: args {args:?}"));
    let mount = mount_holding(c, Path::new(&path))
        .unwrap_or_else(|| panic!("no volume is mounted where the Corefile is read ({path})"));
    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == mount.name)
        .unwrap_or_else(|| panic!("mount `{}` names no volume", mount.name));
    let source = volume
        .config_map
        .as_ref()
        .unwrap_or_else(|| panic!("the Corefile ({path}) is not on a ConfigMap volume"));
    let relative = Path::new(&path)
        .strip_prefix(&mount.mount_path)
        .unwrap_or_else(|_| panic!("{path} is not under {}", mount.mount_path));
    let key = match &source.items {
        Some(items) => items
            .iter()
            .find(|i| Path::new(&i.path) == relative)
            .map(|i| i.key.clone())
            .unwrap_or_else(|| panic!("ConfigMap volume `{}` puts nothing at {path}", volume.name)),
        None => relative.to_string_lossy().into_owned(),
    };
    let text = configmaps
        .get(&source.name)
        .and_then(|keys| keys.get(&key))
        .unwrap_or_else(|| panic!("ConfigMap `{}` has no key `{key}`", source.name))
        .clone();
    (path, text)
}

/// How strictly a pod's declared ports must match the Corefile.
#[derive(Clone, Copy, PartialEq)]
enum Ports {
    /// Exactly the Corefile's listeners (Cairn's own Deployment).
    Exactly,
    /// At least the DNS and metrics ports (CoreDNS's Deployment, swapped: k3s and k0s do not
    /// declare their probe ports, which does not stop the kubelet from probing them).
    AtLeastServed,
    /// None at all (node-local Cairn, on the host network): there a declared port is a host
    /// port, and the scheduler would keep a rolling update's surge pod off every node whose
    /// old pod still holds it.
    NoneDeclared,
}

/// Checks that the pod runs the Corefile it mounts and that its probes, ports, grace period
/// and snapshot volume fit it. A pod on the pod network is reached through the kube-dns Service
/// and the pod's IP: its listeners must be on every address. A pod on the host network is
/// node-local Cairn: its listeners must be on the addresses it captures, which its probes name.
/// Returns the Corefile.
fn check_pod(
    origin: &str,
    spec: &PodSpec,
    name: &str,
    configmaps: &ConfigMaps,
    ports: Ports,
) -> Corefile {
    let c = container(spec, name);
    let (path, text) = corefile_of(spec, c, configmaps);
    let corefile = Corefile::parse(&text, &path, origin);
    let host_network = spec.host_network == Some(true);

    let listeners = [
        ("health", corefile.health),
        ("ready", corefile.ready),
        ("prometheus", corefile.metrics),
    ];
    if host_network {
        let captured = corefile.captured.as_ref().unwrap_or_else(|| {
            panic!(
                "{origin}: a host-network pod whose Corefile has no `nodelocal`: it would \
                 listen on the node's own addresses"
            )
        });
        for (what, listener) in listeners {
            assert!(
                captured.contains(&listener.ip()),
                "{origin}: `{what}` listens on {listener}, not on a node-local address \
                 {captured:?}: on the host network a wildcard opens it on every address of \
                 the node, and another address is not known to exist on every node"
            );
        }
    } else {
        for server in &corefile.config.servers {
            assert!(
                server.bind.is_empty(),
                "{origin}: `bind` at {} would keep the Service from reaching Cairn",
                server.location
            );
        }
        for (what, listener) in listeners {
            assert!(
                listener.ip().is_unspecified(),
                "{origin}: `{what}` listens on {listener}, which the kubelet and the Service \
                 cannot reach"
            );
        }
    }
    for (probe, path, listener) in [
        (&c.liveness_probe, "/health", corefile.health),
        (&c.readiness_probe, "/ready", corefile.ready),
    ] {
        let get = probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref())
            .unwrap_or_else(|| panic!("{origin}: no HTTP probe for {path}"));
        assert_eq!(get.path.as_deref(), Some(path), "{origin}: probe path");
        assert_eq!(
            port_number(c, &get.port),
            i32::from(listener.port()),
            "{origin}: the {path} probe asks a port the Corefile does not serve it on"
        );
        // Without a host the kubelet asks the pod's IP, which on the host network is the
        // node's, where node-local Cairn does not listen.
        let host = host_network.then(|| listener.ip().to_string());
        assert_eq!(
            get.host, host,
            "{origin}: the {path} probe asks another host than the Corefile's listener {listener}"
        );
    }

    let mut served: BTreeSet<(i32, String)> = BTreeSet::new();
    for port in &corefile.dns_ports {
        served.insert((i32::from(*port), "UDP".to_string()));
        served.insert((i32::from(*port), "TCP".to_string()));
    }
    served.insert((i32::from(corefile.metrics.port()), "TCP".to_string()));
    let declared = declared_ports(c);
    match ports {
        Ports::Exactly => {
            served.insert((i32::from(corefile.health.port()), "TCP".to_string()));
            served.insert((i32::from(corefile.ready.port()), "TCP".to_string()));
            assert_eq!(
                declared, served,
                "{origin}: container ports vs the Corefile"
            );
        }
        Ports::AtLeastServed => assert!(
            declared.is_superset(&served),
            "{origin}: container ports {declared:?} lack some of {served:?}"
        ),
        Ports::NoneDeclared => assert!(
            declared.is_empty(),
            "{origin}: container ports {declared:?} on the host network are host ports: a \
             surge pod could not be scheduled beside the old one"
        ),
    }

    let grace = Duration::from_secs(
        spec.termination_grace_period_seconds
            .map_or(30, |s| u64::try_from(s).unwrap_or(0)),
    );
    assert!(
        grace > corefile.lameduck,
        "{origin}: terminationGracePeriodSeconds {grace:?} does not outlast `lameduck` {:?}: \
         the kubelet would kill Cairn while it still answers",
        corefile.lameduck
    );
    // After lameduck, Cairn writes its snapshot one last time (bounded) before exiting.
    let keeps_snapshot = corefile
        .kubernetes_blocks()
        .iter()
        .any(|b| b.snapshot.is_some());
    if keeps_snapshot {
        let shutdown = corefile.lameduck + cairn::run::SNAPSHOT_FLUSH_TIMEOUT;
        assert!(
            grace > shutdown,
            "{origin}: terminationGracePeriodSeconds {grace:?} does not outlast `lameduck` plus \
             the final snapshot write ({shutdown:?}): the kubelet could kill Cairn mid-write"
        );
    }

    let read_only_root = c
        .security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        .unwrap_or(false);
    assert!(
        read_only_root,
        "{origin}: the root filesystem should be read-only"
    );
    for block in corefile.kubernetes_blocks() {
        let Some(snapshot) = &block.snapshot else {
            continue;
        };
        let dir = snapshot.parent().unwrap_or(Path::new("/"));
        let mount = mount_holding(c, dir).unwrap_or_else(|| {
            panic!(
                "{origin}: nothing is mounted at {}: with a read-only root filesystem Cairn \
                 cannot write its snapshot",
                dir.display()
            )
        });
        assert_ne!(
            mount.read_only,
            Some(true),
            "{origin}: the snapshot's volume is mounted read-only"
        );
    }
    corefile
}

/// Cairn's Deployment from an install and the ConfigMaps it may mount.
fn cairn_install(dir: &str) -> (Rendered, Deployment, ConfigMaps) {
    let rendered = Rendered::of(dir);
    let deployment: Deployment = rendered.one();
    let configmaps = configmaps_of(&rendered);
    (rendered, deployment, configmaps)
}

/// The rendered ConfigMap (there is one), as the pods would mount it.
fn configmaps_of(rendered: &Rendered) -> ConfigMaps {
    let configmap: ConfigMap = rendered.one();
    [(
        configmap.metadata.name.clone().unwrap_or_default(),
        configmap.data.clone().unwrap_or_default(),
    )]
    .into_iter()
    .collect()
}

fn pod_spec(deployment: &Deployment) -> &PodSpec {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("a Deployment with a pod template")
}

fn pod_labels(deployment: &Deployment) -> BTreeMap<String, String> {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// True when every key of `selector` has the same value in `labels`.
fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn cairn_spec(origin: &str, deployment: &Deployment, configmaps: &ConfigMaps) -> Corefile {
    check_pod(
        origin,
        pod_spec(deployment),
        "cairn",
        configmaps,
        Ports::Exactly,
    )
}

/// One RBAC permission: (API group, resource, verb).
type Grant = (String, String, String);

/// What Cairn needs for these `kubernetes` blocks: get, list and watch on every resource it
/// watches for them.
fn required_grants(blocks: &[&KubernetesConfig]) -> BTreeSet<Grant> {
    watch_specs(blocks)
        .iter()
        .flat_map(|spec| {
            let kind = spec.scope.kind;
            ["get", "list", "watch"]
                .map(|verb| (kind.api_group().into(), kind.resource().into(), verb.into()))
        })
        .collect()
}

/// What `role` grants, each rule expanded; wildcards, resource names and non-resource URLs are
/// refused outright (they cannot be compared with a list of watches, and Cairn needs none).
fn granted(role: &ClusterRole) -> BTreeSet<Grant> {
    assert!(role.aggregation_rule.is_none(), "an aggregated ClusterRole");
    let mut grants = BTreeSet::new();
    for rule in role.rules.iter().flatten() {
        assert!(
            rule.non_resource_urls.as_ref().is_none_or(Vec::is_empty),
            "a rule with non-resource URLs: {rule:?}"
        );
        assert!(
            rule.resource_names.as_ref().is_none_or(Vec::is_empty),
            "a rule limited to resource names: {rule:?}"
        );
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    for word in [group, resource, verb] {
                        assert_ne!(word, "*", "a wildcard in {rule:?}");
                    }
                    grants.insert((group.clone(), resource.clone(), verb.clone()));
                }
            }
        }
    }
    grants
}

#[test]
fn yaml_under_deploy_passes_yamllint() {
    python_tools();
    let (stdout, stderr) = python(
        &[
            "-m",
            "yamllint",
            "--strict",
            "--config-file",
            "deploy/.yamllint",
            "deploy",
        ],
        "`yamllint --strict -c deploy/.yamllint deploy`",
    );
    println!("yamllint --strict -c deploy/.yamllint deploy: clean{stdout}{stderr}");
}

#[test]
fn every_rendering_validates_against_the_kubernetes_schemas() {
    python_tools();
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(PathBuf, usize)> = Vec::new();
    let mut write = |name: &str, yaml: &str| {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        files.push((path, documents(yaml).len()));
    };
    for install in INSTALLS.iter().chain([&NODE_LOCAL]) {
        write(&install.replace('/', "_"), &render(install));
    }
    // The swap renders a patch; what gets validated is each distribution's Deployment with it.
    let patch = dir.path().join("swap-patch.yaml");
    std::fs::write(&patch, render(SWAP)).unwrap();
    for distribution in DISTRIBUTIONS {
        let swapped = swap(distribution, &patch, "yaml");
        write(&format!("swap-coredns_on_{distribution}"), &swapped);
    }

    for version in SCHEMA_VERSIONS {
        let mut args = vec!["-m", "kubernetes_validate", "--strict", "-k", version];
        let paths: Vec<String> = files
            .iter()
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect();
        args.extend(paths.iter().map(String::as_str));
        let (stdout, stderr) = python(
            &args,
            &format!("`kubernetes-validate --strict -k {version}`"),
        );
        let report = format!("{stdout}{stderr}");
        println!("kubernetes-validate --strict -k {version}:\n{report}");
        for (path, count) in &files {
            let name = path.to_string_lossy();
            let passed = report
                .lines()
                .filter(|l| l.contains(name.as_ref()) && l.contains(" passed "))
                .count();
            assert_eq!(
                passed, *count,
                "{name}: {count} documents, {passed} passed:\n{report}"
            );
        }
    }
}

#[test]
fn installs_run_the_corefile_they_ship() {
    for install in INSTALLS {
        let (_, deployment, configmaps) = cairn_install(install);
        cairn_spec(install, &deployment, &configmaps);
    }
}

#[test]
fn kube_dns_service_reaches_the_dns_and_metrics_listeners() {
    for install in INSTALLS {
        let (rendered, deployment, configmaps) = cairn_install(install);
        let corefile = cairn_spec(install, &deployment, &configmaps);
        let c = container(pod_spec(&deployment), "cairn");
        let service: Service = rendered.one();
        let spec = service.spec.clone().unwrap_or_default();
        assert!(
            selects(
                &spec.selector.clone().unwrap_or_default(),
                &pod_labels(&deployment)
            ),
            "{install}: the Service does not select Cairn's pods"
        );
        let ports = spec.ports.unwrap_or_default();
        // Each Service port, with the container port its target resolves to.
        let reached: BTreeMap<String, (i32, String, i32)> = ports
            .iter()
            .map(|p| {
                let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".to_string());
                let target = p.target_port.clone().unwrap_or(IntOrString::Int(p.port));
                let target = port_number(c, &target);
                let declared = declared_ports(c).contains(&(target, protocol.clone()));
                assert!(
                    declared,
                    "{install}: Service port {p:?} targets an undeclared port"
                );
                (
                    p.name.clone().unwrap_or_default(),
                    (p.port, protocol, target),
                )
            })
            .collect();
        let dns = i32::from(*corefile.dns_ports.iter().next().expect("a DNS listener"));
        let metrics = i32::from(corefile.metrics.port());
        // kubeadm's port names: dashboards and ServiceMonitors select `metrics` by name.
        let expected: BTreeMap<String, (i32, String, i32)> = [
            ("dns", (dns, "UDP", dns)),
            ("dns-tcp", (dns, "TCP", dns)),
            ("metrics", (metrics, "TCP", metrics)),
        ]
        .into_iter()
        .map(|(n, (p, proto, t))| (n.to_string(), (p, proto.to_string(), t)))
        .collect();
        assert_eq!(
            reached, expected,
            "{install}: Service ports vs the Corefile"
        );
        assert_eq!(dns, 53, "{install}: cluster DNS must answer on port 53");
    }
}

/// Checks that the ClusterRole `rendered` holds grants exactly what Cairn watches for
/// `corefile`, and that it is bound to the service account the pod (in `namespace`) runs as.
fn check_rbac(
    origin: &str,
    rendered: &Rendered,
    spec: &PodSpec,
    namespace: &Option<String>,
    corefile: &Corefile,
) {
    let role: ClusterRole = rendered.one();
    let needed = required_grants(&corefile.kubernetes_blocks());
    let grants = granted(&role);
    let extra: Vec<_> = grants.difference(&needed).collect();
    let missing: Vec<_> = needed.difference(&grants).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{origin}: ClusterRole {} does not match what Cairn watches for its Corefile; \
         grants beyond it: {extra:?}; missing: {missing:?}",
        role.metadata.name.as_deref().unwrap_or("(unnamed)")
    );

    // ... and it is Cairn's pods that get it.
    let account: ServiceAccount = rendered.one();
    let binding: ClusterRoleBinding = rendered.one();
    assert_eq!(
        spec.service_account_name, account.metadata.name,
        "{origin}: service account"
    );
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(Some(&binding.role_ref.name), role.metadata.name.as_ref());
    let bound = binding.subjects.iter().flatten().any(|s| {
        s.kind == "ServiceAccount"
            && Some(&s.name) == account.metadata.name.as_ref()
            && &s.namespace == namespace
    });
    assert!(
        bound,
        "{origin}: the binding does not name Cairn's service account"
    );
}

#[test]
fn cluster_role_grants_exactly_what_cairn_watches() {
    for install in INSTALLS {
        let (rendered, deployment, configmaps) = cairn_install(install);
        let corefile = cairn_spec(install, &deployment, &configmaps);
        check_rbac(
            install,
            &rendered,
            pod_spec(&deployment),
            &deployment.metadata.namespace,
            &corefile,
        );
    }
}

#[test]
fn required_grants_follow_the_kubernetes_block() {
    // The comparison above is only as good as this derivation: it must react to the options
    // that change what Cairn watches.
    let resources = |options: &str| -> BTreeSet<(String, String)> {
        let text = format!(
            ".:53 {{\n    kubernetes cluster.local clusterset.local {{\n{options}\n    }}\n}}\n"
        );
        let config = parse_corefile_with(
            &text,
            Path::new("/etc/cairn/Corefile"),
            &|_| None,
            &PodFiles,
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let blocks: Vec<&KubernetesConfig> = config
            .servers
            .iter()
            .filter_map(|s| s.get::<KubernetesConfig>())
            .collect();
        required_grants(&blocks)
            .into_iter()
            .map(|(group, resource, _)| (group, resource))
            .collect()
    };
    let pair = |g: &str, r: &str| (g.to_string(), r.to_string());
    let with = |extra: &[(String, String)]| -> BTreeSet<(String, String)> {
        [pair("", "namespaces"), pair("", "services")]
            .into_iter()
            .chain(extra.iter().cloned())
            .collect()
    };
    let slices = pair("discovery.k8s.io", "endpointslices");
    let pods = pair("", "pods");
    assert_eq!(
        resources("pods insecure"),
        with(std::slice::from_ref(&slices))
    );
    assert_eq!(
        resources("pods verified"),
        with(&[slices.clone(), pods.clone()])
    );
    assert_eq!(resources("pods verified\n noendpoints"), with(&[pods]));
    // ServiceImports only for `multicluster`.
    let imports = pair("multicluster.x-k8s.io", "serviceimports");
    assert_eq!(
        resources("multicluster clusterset.local"),
        with(&[slices.clone(), imports])
    );
    assert_eq!(resources(""), with(&[slices]));
}

#[test]
fn disruption_budget_always_leaves_a_replica_serving() {
    for install in INSTALLS {
        let (rendered, deployment, _) = cairn_install(install);
        let budget: PodDisruptionBudget = rendered.one();
        let spec = budget.spec.unwrap_or_default();
        let selector = spec
            .selector
            .and_then(|s| s.match_labels)
            .unwrap_or_default();
        assert!(
            selects(&selector, &pod_labels(&deployment)),
            "{install}: PDB selects no Cairn pod"
        );
        let min = match spec.min_available {
            Some(IntOrString::Int(n)) => n,
            other => panic!("{install}: minAvailable {other:?}, expected a number"),
        };
        let replicas = deployment
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1);
        assert!(min >= 1, "{install}: a drain could evict every replica");
        assert!(
            min < replicas,
            "{install}: minAvailable {min} of {replicas} blocks every drain"
        );
    }
}

#[test]
fn snapshot_volume_is_one_cairn_can_write() {
    for install in INSTALLS {
        let (_, deployment, configmaps) = cairn_install(install);
        let corefile = cairn_spec(install, &deployment, &configmaps);
        check_snapshot_volume(install, pod_spec(&deployment), &corefile);
    }
}

/// Checks that the Corefile's snapshot directory is on a volume the pod's user can write.
fn check_snapshot_volume(install: &str, spec: &PodSpec, corefile: &Corefile) {
    let snapshot = corefile
        .kubernetes_blocks()
        .iter()
        .find_map(|b| b.snapshot.clone())
        .unwrap_or_else(|| panic!("{install}: the shipped Corefile keeps no snapshot"));
    let dir = snapshot.parent().expect("a snapshot path with a directory");
    let mount = mount_holding(container(spec, "cairn"), dir).expect("checked by check_pod");
    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == mount.name)
        .unwrap_or_else(|| panic!("{install}: mount `{}` names no volume", mount.name));
    // The container's user, which its own securityContext may set over the pod's.
    let pod_security = spec.security_context.clone().unwrap_or_default();
    let own = container(spec, "cairn").security_context.clone();
    let own = own.unwrap_or_default();
    let uid = own.run_as_user.or(pod_security.run_as_user);
    let gid = own.run_as_group.or(pod_security.run_as_group);
    if let Some(host) = &volume.host_path {
        assert_eq!(
            host.type_.as_deref(),
            Some("DirectoryOrCreate"),
            "{install}: the snapshot's hostPath"
        );
    }
    match (&volume.empty_dir, &volume.host_path) {
        // An emptyDir is world-writable: any uid writes there.
        (Some(_), None) => {}
        // kubelet creates the directory as root 0755. Root writes there as its owner (no
        // CAP_DAC_OVERRIDE needed, which node-local Cairn drops); anyone else needs it
        // handed over.
        (None, Some(_)) if uid == Some(0) => {}
        (None, Some(_)) => {
            let handover = format!(
                "chown {}:{} {}",
                uid.expect("runAsUser"),
                gid.expect("runAsGroup"),
                dir.display()
            );
            let owner = spec.init_containers.iter().flatten().find(|c| {
                c.command
                    .iter()
                    .flatten()
                    .any(|word| word.contains(&handover))
                    && mount_holding(c, dir).is_some_and(|m| m.name == volume.name)
            });
            assert!(
                owner.is_some(),
                "{install}: no init container runs `{handover}`"
            );
        }
        other => {
            panic!("{install}: snapshot volume is neither emptyDir nor hostPath: {other:?}")
        }
    }
}

/// `kubectl patch --local` of the distribution's CoreDNS Deployment with the swap patch.
fn swap(distribution: &str, patch: &Path, output: &str) -> String {
    let fixture = format!("tests/fixtures/deploy/coredns-{distribution}.yaml");
    let patch = patch.to_string_lossy();
    kubectl(&[
        "patch",
        "--local",
        "-f",
        &fixture,
        "--type",
        "strategic",
        "--patch-file",
        &patch,
        "-o",
        output,
    ])
}

/// The distribution's CoreDNS Deployment as kubectl reads it (defaults as in the swap's output).
fn original(distribution: &str) -> Value {
    let fixture = format!("tests/fixtures/deploy/coredns-{distribution}.yaml");
    let text = kubectl(&[
        "patch", "--local", "-f", &fixture, "--type", "merge", "-p", "{}", "-o", "json",
    ]);
    serde_json::from_str(&text).unwrap()
}

#[test]
fn swap_patch_turns_each_distributions_coredns_into_cairn() {
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("swap-patch.yaml");
    std::fs::write(&patch, render(SWAP)).unwrap();
    let (_, cairn, _) = cairn_install("deploy/overlays/fresh-install");
    let cairn_image = container(pod_spec(&cairn), "cairn").image.clone();

    for distribution in DISTRIBUTIONS {
        let origin = format!("swap-coredns on {distribution}'s CoreDNS");
        let before = original(distribution);
        let after: Value = serde_json::from_str(&swap(distribution, &patch, "json")).unwrap();
        let swapped: Deployment = typed(&after);

        // Still CoreDNS's Deployment to everything around it.
        for pointer in [
            "/metadata/name",
            "/metadata/namespace",
            "/metadata/labels",
            "/spec/selector",
            "/spec/replicas",
            "/spec/template/metadata",
            "/spec/template/spec/serviceAccountName",
            "/spec/template/spec/dnsPolicy",
            "/spec/template/spec/tolerations",
            "/spec/template/spec/affinity",
            "/spec/template/spec/containers/0/name",
            "/spec/template/spec/containers/0/resources",
        ] {
            assert_eq!(
                after.pointer(pointer),
                before.pointer(pointer),
                "{origin}: {pointer} changed"
            );
        }
        let volumes = |d: &Value| -> Vec<Value> {
            d.pointer("/spec/template/spec/volumes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let kept: Vec<Value> = volumes(&after)
            .into_iter()
            .filter(|v| v["name"] != "cairn-snapshot")
            .collect();
        assert_eq!(
            kept,
            volumes(&before),
            "{origin}: CoreDNS's own volumes changed"
        );

        let spec = pod_spec(&swapped);
        assert_eq!(
            container(spec, "coredns").image,
            cairn_image,
            "{origin}: the swap runs another image than the fresh install"
        );
        // CoreDNS's ConfigMap, with the snapshot line the migration guide has users add.
        let corefile = std::fs::read_to_string(
            root().join(format!("tests/fixtures/corefiles/{distribution}.Corefile")),
        )
        .unwrap();
        let corefile = with_kubernetes_option(&corefile, SNAPSHOT_OPTION);
        let keys =
            [("Corefile", corefile), ("NodeHosts", String::new())].map(|(k, v)| (k.to_string(), v));
        let configmaps: ConfigMaps = [("coredns".to_string(), keys.into_iter().collect())]
            .into_iter()
            .collect();
        let parsed = check_pod(&origin, spec, "coredns", &configmaps, Ports::AtLeastServed);
        assert!(
            parsed
                .kubernetes_blocks()
                .iter()
                .any(|b| b.snapshot.is_some()),
            "{origin}: the snapshot option did not reach the kubernetes block"
        );
    }
}

#[test]
fn swap_rolls_back_to_the_original_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("swap-patch.yaml");
    std::fs::write(&patch, render(SWAP)).unwrap();
    for distribution in DISTRIBUTIONS {
        // What docs/migrate-from-coredns.md saves before the swap (with jq there)...
        let before = original(distribution);
        let rollback = json!([
            {"op": "replace", "path": "/spec/template", "value": before["spec"]["template"]},
            {"op": "replace", "path": "/spec/strategy", "value": before["spec"]["strategy"]},
        ]);
        let rollback_file = dir.path().join(format!("rollback-{distribution}.json"));
        std::fs::write(&rollback_file, rollback.to_string()).unwrap();
        // ... applied to the swapped Deployment, as `kubectl patch --type json` would.
        let swapped_file = dir.path().join(format!("swapped-{distribution}.json"));
        std::fs::write(&swapped_file, swap(distribution, &patch, "json")).unwrap();
        let restored = kubectl(&[
            "patch",
            "--local",
            "-f",
            &swapped_file.to_string_lossy(),
            "--type",
            "json",
            "--patch-file",
            &rollback_file.to_string_lossy(),
            "-o",
            "json",
        ]);
        let restored: Value = serde_json::from_str(&restored).unwrap();
        assert_eq!(
            restored["spec"], before["spec"],
            "{distribution}: the rollback does not restore CoreDNS's Deployment"
        );
    }
}

/// Node-local Cairn's DaemonSet and the ConfigMaps it may mount.
fn node_local_install() -> (Rendered, DaemonSet, ConfigMaps) {
    let rendered = Rendered::of(NODE_LOCAL);
    let daemonset: DaemonSet = rendered.one();
    let configmaps = configmaps_of(&rendered);
    (rendered, daemonset, configmaps)
}

fn daemonset_pod_spec(daemonset: &DaemonSet) -> &PodSpec {
    daemonset
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("a DaemonSet with a pod template")
}

fn daemonset_pod_labels(daemonset: &DaemonSet) -> BTreeMap<String, String> {
    daemonset
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// The node-local pod checked as every Cairn pod is (probes, grace period, snapshot), on the
/// host network: listeners and probes on the captured addresses, no declared ports.
fn node_local_spec(daemonset: &DaemonSet, configmaps: &ConfigMaps) -> Corefile {
    check_pod(
        NODE_LOCAL,
        daemonset_pod_spec(daemonset),
        "cairn",
        configmaps,
        Ports::NoneDeclared,
    )
}

#[test]
fn node_local_runs_the_corefile_it_ships() {
    let (_, daemonset, configmaps) = node_local_install();
    let corefile = node_local_spec(&daemonset, &configmaps);
    check_snapshot_volume(NODE_LOCAL, daemonset_pod_spec(&daemonset), &corefile);

    let captured = corefile
        .captured
        .clone()
        .unwrap_or_else(|| panic!("{NODE_LOCAL}: the Corefile has no `nodelocal`"));
    // The address the probes ask, and the cluster DNS address pods are given: the base's
    // kube-dns ClusterIP, which kube-proxy would otherwise DNAT to a central server.
    let link_local: IpAddr = LINK_LOCAL.parse().unwrap();
    let service: Service = Rendered::of("deploy/base").one();
    let cluster_ip: IpAddr = service
        .spec
        .and_then(|s| s.cluster_ip)
        .expect("the base's kube-dns Service has a clusterIP")
        .parse()
        .expect("an IP address");
    let expected: BTreeSet<IpAddr> = [link_local, cluster_ip].into_iter().collect();
    assert_eq!(
        captured, expected,
        "{NODE_LOCAL}: the node-local addresses are {LINK_LOCAL} and the kube-dns ClusterIP"
    );
    assert_eq!(
        corefile.health.ip(),
        link_local,
        "{NODE_LOCAL}: `health` is not on {LINK_LOCAL}"
    );
    let block = corefile
        .config
        .servers
        .iter()
        .find(|s| s.has(Kind::Nodelocal))
        .expect("checked above");
    let ports: BTreeSet<u16> = block.zones.iter().map(|z| z.port).collect();
    assert_eq!(
        ports,
        [53].into_iter().collect(),
        "{NODE_LOCAL}: the captured port is the block's, and pods ask port 53"
    );
}

#[test]
fn node_local_daemonset_is_what_node_local_mode_needs() {
    let (_, daemonset, _) = node_local_install();
    let origin = NODE_LOCAL;
    let spec = daemonset_pod_spec(&daemonset);
    assert_eq!(spec.host_network, Some(true), "{origin}: hostNetwork");
    assert_eq!(
        spec.dns_policy.as_deref(),
        Some("Default"),
        "{origin}: dnsPolicy"
    );
    assert_eq!(
        spec.priority_class_name.as_deref(),
        Some("system-node-critical"),
        "{origin}: priorityClassName"
    );

    // An upgrade starts the new instance beside the old one, which leaves interface and rules
    // to its successor; no node is ever without a ready instance.
    let strategy = daemonset
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.clone())
        .unwrap_or_default();
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"), "{origin}");
    let rolling = strategy.rolling_update.unwrap_or_default();
    assert_eq!(
        rolling.max_surge,
        Some(IntOrString::Int(1)),
        "{origin}: maxSurge"
    );
    assert_eq!(
        rolling.max_unavailable,
        Some(IntOrString::Int(0)),
        "{origin}: maxUnavailable"
    );
    // The shared readiness address may be answered by the old instance: the new one is given
    // time to serve before it counts as available.
    let min_ready = daemonset
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    assert!(
        min_ready >= 10,
        "{origin}: minReadySeconds {min_ready}, expected at least 10"
    );

    // Every node, whatever its taints: one toleration with no key and no effect.
    let everywhere = spec.tolerations.iter().flatten().any(|t| {
        t.operator.as_deref() == Some("Exists")
            && t.key.as_deref().unwrap_or("").is_empty()
            && t.effect.as_deref().unwrap_or("").is_empty()
    });
    assert!(everywhere, "{origin}: no toleration of every taint");

    // Root with exactly NET_ADMIN and NET_BIND_SERVICE, and no way to more.
    let c = container(spec, "cairn");
    let own = c.security_context.clone().unwrap_or_default();
    let pod = spec.security_context.clone().unwrap_or_default();
    assert_eq!(
        own.run_as_user.or(pod.run_as_user),
        Some(0),
        "{origin}: uid 0 (added capabilities are effective only for root; docs/node-local.md)"
    );
    assert_ne!(
        own.run_as_non_root.or(pod.run_as_non_root),
        Some(true),
        "{origin}: runAsNonRoot contradicts uid 0"
    );
    assert_ne!(own.privileged, Some(true), "{origin}: privileged");
    assert_eq!(
        own.allow_privilege_escalation,
        Some(false),
        "{origin}: allowPrivilegeEscalation"
    );
    let capabilities = own.capabilities.unwrap_or_default();
    assert_eq!(
        capabilities.drop,
        Some(vec!["ALL".to_string()]),
        "{origin}: capabilities.drop"
    );
    let added: BTreeSet<String> = capabilities.add.into_iter().flatten().collect();
    let needed: BTreeSet<String> = ["NET_ADMIN", "NET_BIND_SERVICE"]
        .map(String::from)
        .into_iter()
        .collect();
    assert_eq!(added, needed, "{origin}: capabilities.add");

    // NODE_NAME from the downward API (`pods verified` watches only this node's pods).
    let node_name = c
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "NODE_NAME")
        .and_then(|e| e.value_from.as_ref())
        .and_then(|v| v.field_ref.as_ref())
        .map(|f| f.field_path.clone());
    assert_eq!(
        node_name.as_deref(),
        Some("spec.nodeName"),
        "{origin}: NODE_NAME"
    );
}

#[test]
fn node_local_cluster_role_grants_exactly_what_it_watches() {
    let (rendered, daemonset, configmaps) = node_local_install();
    let corefile = node_local_spec(&daemonset, &configmaps);
    check_rbac(
        NODE_LOCAL,
        &rendered,
        daemonset_pod_spec(&daemonset),
        &daemonset.metadata.namespace,
        &corefile,
    );
}

/// What kubeadm, k3s and k0s install for CoreDNS beside its Deployment (the fixtures hold the
/// Deployments only) and the kube-dns Service: node-local Cairn must not replace any of it.
const COREDNS_OBJECTS: &[(&str, &str)] = &[
    ("ServiceAccount", "coredns"),
    ("ConfigMap", "coredns"),
    ("ClusterRole", "system:coredns"),
    ("ClusterRoleBinding", "system:coredns"),
    ("ClusterRole", "system-coredns"),
    ("ClusterRoleBinding", "system-coredns"),
];

/// An object's kind and name (namespaces aside: everything here is in kube-system or
/// cluster-scoped, and a name shared across the two would still confuse `kubectl delete -k`).
fn kind_and_name(object: &Value) -> (String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (text(&object["kind"]), text(&object["metadata"]["name"]))
}

/// The `matchLabels` of a workload or a PDB, or a Service's selector; never empty, so that a
/// selector written another way cannot make the checks below pass by matching nothing.
fn match_labels(object: &Value) -> BTreeMap<String, String> {
    let selector = match object["kind"].as_str() {
        Some("Service") => &object["spec"]["selector"],
        _ => &object["spec"]["selector"]["matchLabels"],
    };
    let labels: BTreeMap<String, String> =
        serde_json::from_value(selector.clone()).unwrap_or_default();
    assert!(
        !labels.is_empty(),
        "{:?} selects by no label",
        kind_and_name(object)
    );
    labels
}

#[test]
fn node_local_installs_beside_a_central_cairn_or_coredns() {
    let (rendered, daemonset, _) = node_local_install();
    let ours: BTreeSet<(String, String)> = rendered.objects.iter().map(kind_and_name).collect();
    let our_pods = daemonset_pod_labels(&daemonset);
    let our_selector = daemonset
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    assert!(
        selects(&our_selector, &our_pods),
        "{NODE_LOCAL}: the DaemonSet does not select its own pods"
    );

    // Every central install: Cairn's (and what it keeps of CoreDNS's: the same labels).
    let mut theirs: Vec<(String, Vec<Value>)> = INSTALLS
        .iter()
        .map(|dir| (dir.to_string(), Rendered::of(dir).objects))
        .collect();
    for distribution in DISTRIBUTIONS {
        let fixture = format!("tests/fixtures/deploy/coredns-{distribution}.yaml");
        let text = std::fs::read_to_string(root().join(&fixture)).unwrap();
        let mut objects = documents(&text);
        objects.extend(COREDNS_OBJECTS.iter().map(|(kind, name)| {
            json!({"kind": kind, "metadata": {"name": name, "namespace": "kube-system"}})
        }));
        // Each distribution's kube-dns Service selects CoreDNS's pods by this label alone.
        objects.push(json!({
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system"},
            "spec": {"selector": {"k8s-app": "kube-dns"}},
        }));
        theirs.push((format!("{distribution}'s CoreDNS"), objects));
    }

    for (central, objects) in &theirs {
        let clashes: Vec<_> = objects
            .iter()
            .map(kind_and_name)
            .filter(|k| ours.contains(k))
            .collect();
        assert!(
            clashes.is_empty(),
            "{NODE_LOCAL} would replace objects of {central}: {clashes:?}"
        );
        let mut selectors = 0;
        for object in objects {
            let kind = object["kind"].as_str().unwrap_or_default();
            if !["Deployment", "Service", "PodDisruptionBudget"].contains(&kind) {
                continue;
            }
            selectors += 1;
            // The kube-dns Service would send queries to a node's address, where node-local
            // Cairn does not listen; a Deployment or PDB would count its pods as replicas.
            assert!(
                !selects(&match_labels(object), &our_pods),
                "{central}'s {:?} selects node-local Cairn's pods",
                kind_and_name(object)
            );
            if kind == "Deployment" {
                let pods: BTreeMap<String, String> = serde_json::from_value(
                    object["spec"]["template"]["metadata"]["labels"].clone(),
                )
                .unwrap_or_default();
                assert!(
                    !selects(&our_selector, &pods),
                    "node-local Cairn's DaemonSet selects {central}'s pods"
                );
            }
        }
        assert!(selectors > 0, "{central}: no selector was compared");
    }

    // Its own snapshot directory on the node: the hostpath-snapshot install hands
    // /var/lib/cairn to uid 65532, and two Corefiles must not share one file.
    let host_paths = |spec: &PodSpec| -> BTreeSet<String> {
        spec.volumes
            .iter()
            .flatten()
            .filter_map(|v| v.host_path.as_ref().map(|h| h.path.clone()))
            .collect()
    };
    let our_paths = host_paths(daemonset_pod_spec(&daemonset));
    assert!(!our_paths.is_empty(), "{NODE_LOCAL}: no hostPath snapshot");
    for install in INSTALLS {
        let (_, deployment, _) = cairn_install(install);
        let shared: Vec<_> = host_paths(pod_spec(&deployment))
            .intersection(&our_paths)
            .cloned()
            .collect();
        assert!(
            shared.is_empty(),
            "{NODE_LOCAL} shares host directories {shared:?} with {install}"
        );
    }
}
