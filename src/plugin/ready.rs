//! The `ready` plugin: `ready [ADDR]` (default `:8181`). Its listener serves `/ready`, true
//! once there is something correct to serve (a list from the API or a restored snapshot) and
//! false again during shutdown's lameduck; it has no place in the query chain. Doc page:
//! `README.md` in its folder.

use std::sync::Arc;

use crate::corefile::args::{location, no_block};
use crate::corefile::listen::addr_arg;
use crate::corefile::{ConfigError, Directive, Location};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};

/// `ready [ADDR]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyConfig {
    pub location: Location,
    /// Default `:8181`.
    pub addr: std::net::SocketAddr,
}

impl Configure for ReadyConfig {
    const NAME: &'static str = "ready";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        Ok(ReadyConfig {
            location: location(d),
            addr: addr_arg(d, ":8181")?,
        })
    }

    fn summary(&self) -> String {
        crate::plugin::describe::listen(self.addr)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(None)
    }
}
