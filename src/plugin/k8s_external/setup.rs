//! `k8s_external`'s options, read from its directive: the zones (the server block's when none
//! are given), `apex`, `ttl`, `headless` and `fallthrough`, with CoreDNS's defaults.

use std::sync::Arc;

use hickory_proto::rr::Name;

use crate::corefile::args::{count, err, location, names, number};
use crate::corefile::{ConfigError, Directive, Location};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};

/// `k8s_external [ZONE...] { apex APEX; ttl TTL; headless; fallthrough [ZONE...] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K8sExternalConfig {
    /// The zones answered, lower-case FQDNs.
    pub zones: Vec<Name>,
    /// The name below each zone the zone's own records live under (`dns`): the SOA's
    /// `ns1.<apex>.<zone>` and `hostmaster.<apex>.<zone>`. Lower-case, not fully qualified.
    pub apex: Name,
    /// TTL of every record, 0..=3600, default 5.
    pub ttl: u32,
    /// `headless`: headless Services without external IPs answer their endpoints.
    pub headless: bool,
    /// `fallthrough [ZONES]`: NXDOMAIN for these names goes on down the chain (empty: every
    /// name).
    pub fallthrough: Option<Vec<Name>>,
    /// Where the directive is, for errors at build time.
    pub location: Location,
}

/// `apex`'s default.
const DEFAULT_APEX: &str = "dns";
/// `ttl`'s default.
const DEFAULT_TTL: u32 = 5;

impl Configure for K8sExternalConfig {
    const NAME: &'static str = "k8s_external";

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        let texts = d.arg_texts();
        let zones = if texts.is_empty() {
            block
                .zones
                .iter()
                .map(|z| crate::corefile::args::name(d, z, "k8s_external"))
                .collect::<Result<_, _>>()?
        } else {
            names(d, &texts, "k8s_external")?
        };
        let mut config = K8sExternalConfig {
            zones,
            apex: Name::from_ascii(DEFAULT_APEX).map_err(|e| err(d, e.to_string()))?,
            ttl: DEFAULT_TTL,
            headless: false,
            fallthrough: None,
            location: location(d),
        };
        for o in d.block.iter().flatten() {
            option(&mut config, o)?;
        }
        Ok(config)
    }

    /// CoreDNS refuses to start without `kubernetes` in the block ("kubernetes plugin not
    /// loaded"): the services come from its index.
    fn check(&self, block: &BlockContext<'_>) -> Result<(), ConfigError> {
        if block.plugins.iter().any(|p| p == "kubernetes") {
            return Ok(());
        }
        Err(ConfigError::new(
            &self.location.file,
            self.location.line,
            "k8s_external needs the kubernetes plugin in the same server block: it answers from \
             its services",
        ))
    }

    fn summary(&self) -> String {
        let zones: Vec<String> = self.zones.iter().map(|z| z.to_string()).collect();
        zones.join(" ")
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        self.plugin(env).map(Some)
    }
}

/// Applies one option line of the block.
fn option(config: &mut K8sExternalConfig, o: &Directive) -> Result<(), ConfigError> {
    if o.block.is_some() {
        return Err(err(
            o,
            format!(
                "unexpected `{{` after `{}` in k8s_external block: this option takes no block",
                o.name
            ),
        ));
    }
    let args = o.arg_texts();
    match o.name.as_str() {
        "apex" => {
            count(o, 1, 1, "apex APEX")?;
            let apex = args[0].trim_end_matches('.').to_ascii_lowercase();
            config.apex = Name::from_ascii(&apex)
                .ok()
                .filter(|n| !apex.is_empty() && !n.is_root())
                .ok_or_else(|| {
                    err(
                        o,
                        format!("invalid `apex` `{}`: expected a DNS name such as dns", args[0]),
                    )
                })?;
        }
        "ttl" => {
            count(o, 1, 1, "ttl TTL")?;
            let ttl: u32 = number(o, args[0], "`ttl`", "an integer from 0 to 3600")?;
            if ttl > 3600 {
                return Err(err(
                    o,
                    format!("invalid `ttl` `{ttl}`: expected an integer from 0 to 3600"),
                ));
            }
            config.ttl = ttl;
        }
        "headless" => {
            count(o, 0, 0, "headless")?;
            config.headless = true;
        }
        "fallthrough" => {
            config.fallthrough = Some(names(o, &args, "fallthrough")?);
        }
        other => {
            return Err(err(
                o,
                format!(
                    "unknown property `{other}` in k8s_external block: expected apex, ttl, \
                     headless or fallthrough"
                ),
            ))
        }
    }
    Ok(())
}
