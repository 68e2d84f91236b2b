//! The `kubernetes` directive: `kubernetes [ZONES...] [{ options }]` -> [`KubernetesConfig`].
//!
//! Zones default to the server block's; CIDR zones expand to reverse zones; every zone must lie
//! within the server block's zones. Each option is checked for its argument count and shape,
//! and errors name the Corefile line and what was expected. Options CoreDNS has but Cairn does
//! not yet implement are rejected by name rather than silently ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hickory_proto::rr::Name;

use crate::corefile::duration::parse_duration;
use crate::corefile::Directive;
use crate::corefile::{ConfigError, Location};

use super::selector::LabelSelector;
use crate::corefile::zone::{is_within, zones_from_arg};

/// `pods disabled|insecure|verified`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodMode {
    #[default]
    Disabled,
    Insecure,
    Verified,
}

/// `tls CERT KEY CACERT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// `kubeconfig PATH [CONTEXT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kubeconfig {
    pub path: PathBuf,
    pub context: Option<String>,
}

/// The `kubernetes` plugin's configuration, as CoreDNS reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubernetesConfig {
    pub location: Location,
    /// The zones it is authoritative for (from its arguments, else the server block's zones).
    /// CIDR arguments are expanded to reverse zones. Lower-case FQDNs with trailing dots.
    pub zones: Vec<String>,
    /// `endpoint URL...` (validated as http(s) URLs).
    pub endpoints: Vec<String>,
    pub tls: Option<TlsFiles>,
    pub kubeconfig: Option<Kubeconfig>,
    /// `namespaces NS...`: only these are exposed; empty means all.
    pub namespaces: Vec<String>,
    /// `labels SELECTOR`: only Services matching it are exposed.
    pub labels: Option<LabelSelector>,
    /// `namespace_labels SELECTOR`: only namespaces matching it are exposed.
    pub namespace_labels: Option<LabelSelector>,
    pub pods: PodMode,
    pub endpoint_pod_names: bool,
    /// `ttl N`, 0..=3600, default 5.
    pub ttl: u32,
    pub noendpoints: bool,
    /// `zonal`: headless Services also answer `ZONE.pin._zone.SVC.NS.svc.ZONE` and
    /// `ZONE.prefer._zone...` with the endpoints of that topology zone.
    pub zonal: bool,
    /// `multicluster ZONES...`: the zones (each one of the plugin's own) that answer from
    /// ServiceImports (the Multi-Cluster Services API) instead of Services.
    pub multicluster: Vec<Name>,
    /// `fallthrough [ZONES...]`: `Some(vec![])` means every zone.
    pub fallthrough: Option<Vec<Name>>,
    /// `ignore empty_service`.
    pub ignore_empty_service: bool,
    /// `startup_timeout DURATION`, default 5 s.
    pub startup_timeout: Duration,
    /// `snapshot PATH`: where the last-known cluster state is kept (Cairn's own option).
    pub snapshot: Option<PathBuf>,
    /// `tls_server_name NAME`: the name API server certificates are verified against when
    /// Cairn reaches them directly by address (Cairn's own option; learned endpoints default
    /// to `kubernetes.default.svc`).
    pub tls_server_name: Option<String>,
    /// `require_fresh`: `/ready` waits for a complete list from the API even when a snapshot
    /// was restored (Cairn's own option).
    pub require_fresh: bool,
}

impl KubernetesConfig {
    /// The options CoreDNS uses when the block only names zones.
    pub fn with_zones(zones: Vec<String>, location: Location) -> Self {
        KubernetesConfig {
            location,
            zones,
            endpoints: Vec::new(),
            tls: None,
            kubeconfig: None,
            namespaces: Vec::new(),
            labels: None,
            namespace_labels: None,
            pods: PodMode::Disabled,
            endpoint_pod_names: false,
            ttl: 5,
            noendpoints: false,
            zonal: false,
            multicluster: Vec::new(),
            fallthrough: None,
            ignore_empty_service: false,
            startup_timeout: Duration::from_secs(5),
            snapshot: None,
            tls_server_name: None,
            require_fresh: false,
        }
    }
}

/// CoreDNS options Cairn recognises but does not implement yet.
const NOT_YET: &[&str] = &[
    "apiserver_qps",
    "apiserver_burst",
    "apiserver_max_inflight",
    "resyncperiod",
];

/// Reads one `kubernetes` directive of a server block serving `server_zones`.
pub fn parse(
    d: &Directive,
    server_zones: &[String],
    file: &Path,
) -> Result<KubernetesConfig, ConfigError> {
    let mut zones: Vec<String> = Vec::new();
    for arg in &d.args {
        let expanded =
            zones_from_arg(&arg.text).map_err(|m| ConfigError::new(file, arg.line, m))?;
        for zone in expanded {
            if !server_zones.iter().any(|s| is_within(&zone, s)) {
                return Err(ConfigError::new(
                    file,
                    arg.line,
                    format!(
                        "kubernetes zone `{zone}` is not within the server block's zones ({}): \
                         expected one of them or a zone below one",
                        server_zones.join(" ")
                    ),
                ));
            }
            push_unique(&mut zones, zone);
        }
    }
    if zones.is_empty() {
        for zone in server_zones {
            push_unique(&mut zones, zone.clone());
        }
    }
    let location = Location {
        file: file.to_path_buf(),
        line: d.line,
    };
    let mut k = KubernetesConfig::with_zones(zones, location);
    for opt in d.block.iter().flatten() {
        option(&mut k, opt, file)?;
    }
    if k.zonal && k.noendpoints {
        return Err(ConfigError::new(
            file,
            d.line,
            "kubernetes: `zonal` needs the endpoints, which `noendpoints` drops: use one or the other",
        ));
    }
    Ok(k)
}

fn push_unique(zones: &mut Vec<String>, zone: String) {
    if !zones.contains(&zone) {
        zones.push(zone);
    }
}

/// Applies one option line of the `kubernetes` block.
fn option(k: &mut KubernetesConfig, o: &Directive, file: &Path) -> Result<(), ConfigError> {
    let err = |m: String| ConfigError::new(file, o.line, m);
    let name = o.name.as_str();
    if o.block.is_some() {
        return Err(err(format!(
            "unexpected `{{` after `{name}` in kubernetes block: this option takes no block"
        )));
    }
    let args = o.arg_texts();
    let count = |min: usize, max: usize, usage: &str| {
        if args.len() < min || args.len() > max {
            let want = match (min, max) {
                (0, 0) => "no arguments".to_string(),
                (a, b) if a == b => {
                    format!("exactly {a} argument{}", if a == 1 { "" } else { "s" })
                }
                (a, usize::MAX) => {
                    format!("at least {a} argument{}", if a == 1 { "" } else { "s" })
                }
                (a, b) => format!("{a} to {b} arguments"),
            };
            Err(err(format!(
                "`{name}` takes {want} (`{usage}`), got {}",
                args.len()
            )))
        } else {
            Ok(())
        }
    };
    match name {
        "endpoint" => {
            count(1, usize::MAX, "endpoint URL...")?;
            for url in &args {
                let rest = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"));
                if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                    return Err(err(format!(
                        "endpoint `{url}` is not a URL: expected `https://HOST[:PORT]` or `http://HOST[:PORT]`"
                    )));
                }
            }
            k.endpoints = args.iter().map(|s| s.to_string()).collect();
        }
        "tls" => {
            count(3, 3, "tls CERT KEY CACERT")?;
            k.tls = Some(TlsFiles {
                cert: PathBuf::from(args[0]),
                key: PathBuf::from(args[1]),
                ca: PathBuf::from(args[2]),
            });
        }
        "kubeconfig" => {
            count(1, 2, "kubeconfig PATH [CONTEXT]")?;
            k.kubeconfig = Some(Kubeconfig {
                path: PathBuf::from(args[0]),
                context: args.get(1).map(|s| s.to_string()),
            });
        }
        "namespaces" => {
            count(1, usize::MAX, "namespaces NAMESPACE...")?;
            for ns in &args {
                if !is_dns_label(ns) {
                    return Err(err(format!(
                        "invalid namespace `{ns}`: expected a lower-case DNS label (letters, digits, `-`)"
                    )));
                }
            }
            k.namespaces = args.iter().map(|s| s.to_string()).collect();
        }
        "labels" | "namespace_labels" => {
            count(1, usize::MAX, &format!("{name} SELECTOR"))?;
            let selector: LabelSelector = args
                .join(" ")
                .parse()
                .map_err(|m| err(format!("invalid `{name}` selector: {m}")))?;
            if name == "labels" {
                k.labels = Some(selector);
            } else {
                k.namespace_labels = Some(selector);
            }
        }
        "pods" => {
            count(1, 1, "pods disabled|insecure|verified")?;
            k.pods = match args[0] {
                "disabled" => PodMode::Disabled,
                "insecure" => PodMode::Insecure,
                "verified" => PodMode::Verified,
                other => {
                    return Err(err(format!(
                    "invalid `pods` mode `{other}`: expected `disabled`, `insecure` or `verified`"
                )))
                }
            };
        }
        "endpoint_pod_names" => {
            count(0, 0, "endpoint_pod_names")?;
            k.endpoint_pod_names = true;
        }
        "noendpoints" => {
            count(0, 0, "noendpoints")?;
            k.noendpoints = true;
        }
        "zonal" => {
            count(0, 0, "zonal")?;
            k.zonal = true;
        }
        "multicluster" => {
            count(1, usize::MAX, "multicluster ZONES...")?;
            let mut zones = Vec::new();
            for a in &o.args {
                let expanded = zones_from_arg(&a.text)
                    .map_err(|m| ConfigError::new(file, a.line, format!("multicluster: {m}")))?;
                for zone in expanded {
                    if !k.zones.contains(&zone) {
                        return Err(ConfigError::new(
                            file,
                            a.line,
                            format!(
                                "multicluster zone `{zone}` is not one of the kubernetes plugin's zones ({}): \
                                 the plugin must be authoritative for it",
                                k.zones.join(" ")
                            ),
                        ));
                    }
                    push_unique(&mut zones, zone);
                }
            }
            k.multicluster = zones
                .iter()
                .map(|z| {
                    Name::from_ascii(z).map_err(|e| {
                        err(format!("multicluster: `{z}` is not a DNS name: {e}"))
                    })
                })
                .collect::<Result<Vec<Name>, ConfigError>>()?;
        }
        "ttl" => {
            count(1, 1, "ttl SECONDS")?;
            k.ttl = args[0]
                .parse::<u32>()
                .ok()
                .filter(|t| *t <= 3600)
                .ok_or_else(|| {
                    err(format!(
                        "invalid `ttl` `{}`: expected an integer from 0 to 3600",
                        args[0]
                    ))
                })?;
        }
        "fallthrough" => {
            let mut zones = Vec::new();
            for a in &o.args {
                let expanded = zones_from_arg(&a.text)
                    .map_err(|m| ConfigError::new(file, a.line, format!("fallthrough: {m}")))?;
                for zone in expanded {
                    push_unique(&mut zones, zone);
                }
            }
            let names = zones
                .iter()
                .map(|z| {
                    Name::from_ascii(z).map_err(|e| {
                        err(format!("fallthrough: `{z}` is not a DNS name: {e}"))
                    })
                })
                .collect::<Result<Vec<Name>, ConfigError>>()?;
            k.fallthrough = Some(names);
        }
        "ignore" => {
            count(1, 1, "ignore empty_service")?;
            if args[0] != "empty_service" {
                return Err(err(format!(
                    "invalid `ignore` `{}`: expected `empty_service`",
                    args[0]
                )));
            }
            k.ignore_empty_service = true;
        }
        "startup_timeout" => {
            count(1, 1, "startup_timeout DURATION")?;
            k.startup_timeout =
                parse_duration(args[0]).map_err(|m| err(format!("startup_timeout: {m}")))?;
        }
        "snapshot" => {
            count(1, 1, "snapshot PATH")?;
            k.snapshot = Some(PathBuf::from(args[0]));
        }
        "tls_server_name" => {
            count(1, 1, "tls_server_name NAME")?;
            let valid = args[0].split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            });
            if !valid {
                return Err(err(format!(
                    "invalid `tls_server_name` `{}`: expected a DNS name such as `kubernetes.default.svc`",
                    args[0]
                )));
            }
            k.tls_server_name = Some(args[0].to_string());
        }
        "require_fresh" => {
            count(0, 0, "require_fresh")?;
            k.require_fresh = true;
        }
        n if NOT_YET.contains(&n) => {
            return Err(err(format!("kubernetes option `{n}` is not supported yet")))
        }
        n => return Err(err(format!("unknown property `{n}` in kubernetes block"))),
    }
    Ok(())
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}
