//! The `bufsize` plugin (`bufsize [SIZE]`): lowers the EDNS UDP payload size a query advertises
//! to SIZE (default 1232) before the plugins after it see the query, as CoreDNS's bufsize does:
//! answers over UDP are then cut (TC) at SIZE, and `forward` asks upstreams with SIZE. A query
//! without EDNS, or advertising less, is left as it is. Doc page: `README.md` in its folder.

use std::sync::Arc;

use crate::corefile::args::{count, err, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::{BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query};

#[cfg(test)]
mod tests;

/// The default size: DNS Flag Day 2020's.
pub const DEFAULT_SIZE: u16 = 1232;
/// The sizes accepted (RFC 6891's floor, and CoreDNS's ceiling).
pub const SIZES: std::ops::RangeInclusive<u16> = 512..=4096;

/// `bufsize [SIZE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufsizeConfig {
    pub size: u16,
}

impl Configure for BufsizeConfig {
    const NAME: &'static str = "bufsize";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 0, 1, "bufsize [SIZE]")?;
        let Some(arg) = d.args.first() else {
            return Ok(BufsizeConfig { size: DEFAULT_SIZE });
        };
        let size = arg
            .text
            .parse::<u16>()
            .ok()
            .filter(|s| SIZES.contains(s))
            .ok_or_else(|| {
                err(
                    d,
                    format!(
                        "invalid bufsize `{}`: expected an integer from {} to {}",
                        arg.text,
                        SIZES.start(),
                        SIZES.end()
                    ),
                )
            })?;
        Ok(BufsizeConfig { size })
    }

    fn summary(&self) -> String {
        self.size.to_string()
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Bufsize { size: self.size })))
    }
}

struct Bufsize {
    size: u16,
}

impl Plugin for Bufsize {
    fn kind(&self) -> Kind {
        Kind::Bufsize
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        if let Some(edns) = query.request.message.edns.as_mut() {
            if edns.max_payload() > self.size {
                edns.set_max_payload(self.size);
            }
        }
        Flow::Next
    }
}
