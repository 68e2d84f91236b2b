//! The `health` plugin: `health [ADDR] { lameduck DURATION }` (default `:8080`). Its listener
//! serves `/health` (liveness: Cairn answers DNS itself, never the API) and `/status`; it has no
//! place in the query chain. Doc page: `README.md` in its folder.

use std::sync::Arc;
use std::time::Duration;

use crate::corefile::args::{count, duration, err, location, no_block};
use crate::corefile::listen::addr_arg;
use crate::corefile::{ConfigError, Directive, Location};
use crate::plugin::{BlockContext, BuildEnv, Configure, Plugin};

/// `health [ADDR] { lameduck DUR }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    pub location: Location,
    /// Default `:8080` (all addresses).
    pub addr: std::net::SocketAddr,
    /// How long DNS keeps being answered after shutdown begins (`/ready` is false meanwhile).
    pub lameduck: Duration,
}

impl Configure for HealthConfig {
    const NAME: &'static str = "health";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        let mut h = HealthConfig {
            location: location(d),
            addr: addr_arg(d, ":8080")?,
            lameduck: Duration::ZERO,
        };
        for o in d.block.iter().flatten() {
            no_block(o, "health block")?;
            match o.name.as_str() {
                "lameduck" => {
                    count(o, 1, 1, "lameduck DURATION")?;
                    h.lameduck = duration(o, &o.args[0].text, "lameduck")?;
                }
                other => {
                    return Err(err(
                        o,
                        format!("unknown property `{other}` in health block"),
                    ))
                }
            }
        }
        Ok(h)
    }

    fn summary(&self) -> String {
        let addr = crate::plugin::describe::listen(self.addr);
        if self.lameduck.is_zero() {
            addr
        } else {
            format!("{addr} lameduck {:?}", self.lameduck)
        }
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(None)
    }
}
