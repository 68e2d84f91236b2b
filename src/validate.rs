//! `cairn validate`: checks a Corefile the way `serve` would read it, without serving.
//!
//! It reads the Corefile and hands it to the parser (`config::check_corefile`), which reads only
//! what a Corefile names to be read at startup (imported files, the resolv.conf files `forward`
//! uses) and never opens a socket. Nothing else happens here: no listener is bound, no API
//! server, kubeconfig, certificate or hosts file is touched. The outcome is every problem the
//! parser found, or a one-line summary of what would run.

use std::path::Path;

use crate::config::model::{Config, ServerBlock};
use crate::config::ConfigError;
use crate::plugin::describe::{words, zone, zone_list};

pub mod catalog;

#[cfg(test)]
mod tests;

/// What checking a Corefile found.
#[derive(Debug)]
pub enum Outcome {
    /// The Corefile is valid: the one-line summary.
    Valid(String),
    /// The Corefile is invalid: every problem found, in order (never empty).
    Invalid(Vec<ConfigError>),
    /// The Corefile itself could not be read: why.
    Unreadable(String),
}

impl Outcome {
    /// The process exit code: 0 valid, 1 invalid, 2 unreadable.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Valid(_) => 0,
            Outcome::Invalid(_) => 1,
            Outcome::Unreadable(_) => 2,
        }
    }
}

/// Checks the Corefile at `path`; `env` fills `{$NAME}` as it would when serving.
pub fn check(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Outcome::Unreadable(format!("cannot read {}: {e}", path.display())),
    };
    match crate::config::check_corefile(&text, path, env) {
        Ok(config) => Outcome::Valid(summary(path, &config)),
        Err(errors) => Outcome::Invalid(errors),
    }
}

/// `PATH: OK — N server blocks: KEYS (PLUGINS); ...`, plugins in the order written, with the
/// addresses and zones they were read as (defaults filled in, resolv.conf files resolved).
pub fn summary(path: &Path, config: &Config) -> String {
    let n = config.servers.len();
    let blocks: Vec<String> = config.servers.iter().map(block).collect();
    format!(
        "{}: OK — {n} server block{}{}{}",
        path.display(),
        if n == 1 { "" } else { "s" },
        if n == 0 { "" } else { ": " },
        blocks.join("; ")
    )
}

fn block(b: &ServerBlock) -> String {
    let keys: Vec<String> = b
        .zones
        .iter()
        .map(|z| format!("{}:{}", zone(&z.zone), z.port))
        .collect();
    let plugins: Vec<String> = b.plugins.iter().map(|name| plugin(b, name)).collect();
    format!("{} ({})", zone_list(&keys), plugins.join(", "))
}

/// One plugin as read: its name and what it was configured to do.
fn plugin(b: &ServerBlock, name: &str) -> String {
    let detail = if name == "bind" {
        words(b.bind.iter().map(|ip| ip.to_string()))
    } else {
        b.setups
            .iter()
            .find(|s| s.kind().name() == name)
            .map(|s| s.summary())
            .unwrap_or_default()
    };
    if detail.is_empty() {
        name.to_string()
    } else {
        format!("{name} {detail}")
    }
}
