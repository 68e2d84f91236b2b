//! The `reload` plugin: `reload [INTERVAL [JITTER]]` — the Corefile is checked for changes every
//! interval (plus a random jitter) and applied without dropping a query (`run/`'s reload loop).
//! It has no place in the query chain. Doc page: `README.md` in its folder.

mod setup;

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

pub use setup::ReloadConfig;

use crate::metrics::PluginMetrics;

use crate::corefile::{ConfigError, Directive};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};

impl Configure for ReloadConfig {
    const NAME: &'static str = "reload";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        setup::parse(d)
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        env.metrics.plugin::<ReloadMetrics>();
        Ok(None)
    }
}

/// `coredns_reload_failed_total`: Corefile reloads that failed (the running configuration
/// stays).
#[derive(Debug, Default)]
pub struct ReloadMetrics {
    failed: Counter,
}

impl PluginMetrics for ReloadMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = ReloadMetrics::default();
        registry.register(
            "coredns_reload_failed",
            "Counter of the number of failed reload attempts",
            m.failed.clone(),
        );
        m
    }
}

impl ReloadMetrics {
    /// A reload that failed.
    pub fn failed(&self) {
        self.failed.inc();
    }
}
