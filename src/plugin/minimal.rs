//! The `minimal` plugin (`minimal`): on their way out, successful answers lose their authority
//! and additional sections, so only the answer section is sent, as CoreDNS's minimal does.
//! Denials (NXDOMAIN, NODATA), errors, referrals and zone transfers are left whole
//! ([`typify`]). It sees the answers of the plugins after it (`hosts`, `kubernetes`,
//! `forward`), and `cache` keeps them minimal. Doc page: `README.md` in its folder.

pub mod typify;

use std::sync::Arc;
use std::time::SystemTime;

use crate::corefile::args::{count, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Kind, Plugin, Query};
use typify::Type;

#[cfg(test)]
mod tests;

/// `minimal` (no options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinimalConfig;

impl Configure for MinimalConfig {
    const NAME: &'static str = "minimal";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 0, 0, "minimal")?;
        Ok(MinimalConfig)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Minimal)))
    }
}

struct Minimal;

impl Plugin for Minimal {
    fn kind(&self) -> Kind {
        Kind::Minimal
    }

    fn respond(&self, query: &Query, answer: &mut Answer) {
        if typify::typify(query, &answer.sections, SystemTime::now()) == Type::NoError {
            answer.sections.authorities.clear();
            answer.sections.additionals.clear();
        }
    }
}
