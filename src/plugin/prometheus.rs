//! The `prometheus` plugin: `prometheus [ADDR]` (default `localhost:9153`). Its listener
//! serves `/metrics`, CoreDNS's metric names and Cairn's `cairn_*`; the per-query counters are
//! kept by every chain (as the `metrics` module says), so it has no place in the query chain.
//! Doc page: `README.md` in its folder.

use std::sync::Arc;

use crate::corefile::args::{location, no_block};
use crate::corefile::listen::addr_arg;
use crate::corefile::{ConfigError, Directive, Location};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};

/// `prometheus [ADDR]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusConfig {
    pub location: Location,
    /// Default `localhost:9153`.
    pub addr: std::net::SocketAddr,
}

impl Configure for PrometheusConfig {
    const NAME: &'static str = "prometheus";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        Ok(PrometheusConfig {
            location: location(d),
            addr: addr_arg(d, "localhost:9153")?,
        })
    }

    fn summary(&self) -> String {
        crate::plugin::describe::listen(self.addr)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(None)
    }
}
