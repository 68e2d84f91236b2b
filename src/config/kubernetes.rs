//! The `kubernetes` directive: `kubernetes [ZONES...] [{ options }]` -> [`KubernetesConfig`].
//!
//! Zones default to the server block's; CIDR zones expand to reverse zones; every zone must lie
//! within the server block's zones. Each option is checked for its argument count and shape,
//! and errors name the Corefile line and what was expected. Options CoreDNS has but Cairn does
//! not yet implement are rejected by name rather than silently ignored.

use std::path::{Path, PathBuf};

use super::duration::parse_duration;
use super::error::ConfigError;
use super::model::{Kubeconfig, KubernetesConfig, LabelSelector, Location, PodMode, TlsFiles};
use super::parser::Directive;
use super::zone::{is_within, zones_from_arg};

/// CoreDNS options Cairn recognises but does not implement yet.
const NOT_YET: &[&str] = &[
    "multicluster",
    "zonal",
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
            k.fallthrough = Some(zones);
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
