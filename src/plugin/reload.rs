//! The `reload` plugin: `reload [INTERVAL [JITTER]]` — the Corefile is checked for changes every
//! interval (plus a random jitter) and applied without dropping a query (`run/`'s reload loop).
//! It has no place in the query chain. Doc page: `README.md` in its folder.

mod setup;

use std::sync::Arc;

pub use setup::ReloadConfig;

use crate::corefile::{ConfigError, Directive};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};

impl Configure for ReloadConfig {
    const NAME: &'static str = "reload";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        setup::parse(d)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(None)
    }
}
