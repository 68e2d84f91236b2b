//! The `reload` directive: `reload [INTERVAL [JITTER]]` -> [`ReloadConfig`].
//!
//! CoreDNS's defaults (30 s, 15 s) and limits: the interval is at least 2 s, the jitter at least
//! 1 s and at most half the interval.

use std::time::Duration;

use crate::corefile::args::{count, duration, err, location, no_block};
use crate::corefile::Directive;
use crate::corefile::{ConfigError, Location};

/// `reload [INTERVAL] [JITTER]` (defaults 30 s and 15 s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadConfig {
    pub location: Location,
    pub interval: Duration,
    pub jitter: Duration,
}

/// Reads one `reload` directive.
pub fn parse(d: &Directive) -> Result<ReloadConfig, ConfigError> {
    no_block(d, "the server block")?;
    count(d, 0, 2, "reload [INTERVAL [JITTER]]")?;
    let args = d.arg_texts();
    let mut r = ReloadConfig {
        location: location(d),
        interval: Duration::from_secs(30),
        jitter: Duration::from_secs(15),
    };
    if let Some(i) = args.first() {
        r.interval = duration(d, i, "reload")?;
        if r.interval < Duration::from_secs(2) {
            return Err(err(
                d,
                format!("reload: interval `{i}` is too short: expected at least 2s"),
            ));
        }
    }
    if let Some(j) = args.get(1) {
        r.jitter = duration(d, j, "reload")?;
        if r.jitter < Duration::from_secs(1) {
            return Err(err(
                d,
                format!("reload: jitter `{j}` is too short: expected at least 1s"),
            ));
        }
    }
    if r.jitter > r.interval / 2 {
        return Err(err(
            d,
            format!(
                "reload: jitter {:?} is more than half the interval {:?}",
                r.jitter, r.interval
            ),
        ));
    }
    Ok(r)
}
