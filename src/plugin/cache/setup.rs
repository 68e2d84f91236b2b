//! The `cache` directive: `cache [TTL] [ZONES...] { options }` -> [`CacheConfig`].
//!
//! CoreDNS's defaults: 9984 entries per class, success max TTL 3600 s, denial 1800 s, min TTL
//! 5 s; `cache TTL` caps both classes. A TTL of zero is refused, as in CoreDNS.

use std::time::Duration;

use hickory_proto::rr::Name;

use crate::corefile::args::{count, duration, err, location, names, no_block, number};
use crate::corefile::Directive;
use crate::corefile::{ConfigError, Location};

/// `cache [TTL] [ZONES...] { options }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    pub location: Location,
    /// Zones cached (lower-case FQDNs); empty means the server block's zones.
    pub zones: Vec<Name>,
    pub success: CacheClass,
    pub denial: CacheClass,
    /// `disable success|denial [ZONES...]`: `Some(vec![])` disables the class everywhere.
    pub disable_success: Option<Vec<Name>>,
    pub disable_denial: Option<Vec<Name>>,
    pub prefetch: Option<Prefetch>,
    /// `serve_stale [DUR] [immediate|verify]` (RFC 8767); default 1 h, immediate.
    pub serve_stale: Option<ServeStale>,
    pub keepttl: bool,
}

/// One class of cached answers (`success` or `denial`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheClass {
    /// Maximum entries (default 9984).
    pub capacity: usize,
    /// Maximum TTL in seconds (default 3600 for success, 1800 for denial; `cache TTL` sets both).
    pub max_ttl: u32,
    /// Minimum TTL in seconds (default 5).
    pub min_ttl: u32,
}

/// `prefetch AMOUNT [DURATION] [PERCENTAGE%]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefetch {
    /// Hits within `duration` that make an entry worth prefetching (default 1).
    pub amount: u32,
    /// Default 1 minute.
    pub duration: Duration,
    /// Prefetch when this share of the TTL is left (default 10).
    pub percentage: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeStale {
    pub duration: Duration,
    /// `verify`: ask upstream first and serve stale only if that fails.
    pub verify: bool,
}

/// CoreDNS's default capacity of each class (256 shards of 39).
pub const DEFAULT_CAPACITY: usize = 9984;

/// Reads one `cache` directive.
pub fn parse(d: &Directive) -> Result<CacheConfig, ConfigError> {
    let args = d.arg_texts();
    let mut success = CacheClass {
        capacity: DEFAULT_CAPACITY,
        max_ttl: 3600,
        min_ttl: 5,
    };
    let mut denial = CacheClass {
        max_ttl: 1800,
        ..success.clone()
    };
    let mut zone_args: &[&str] = &args;
    if let Some(first) = args.first() {
        if first.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            let ttl = positive_ttl(d, first)?;
            success.max_ttl = ttl;
            denial.max_ttl = ttl;
            zone_args = &args[1..];
        }
    }
    let mut c = CacheConfig {
        location: location(d),
        zones: names(d, zone_args, "cache")?,
        success,
        denial,
        disable_success: None,
        disable_denial: None,
        prefetch: None,
        serve_stale: None,
        keepttl: false,
    };
    for o in d.block.iter().flatten() {
        option(&mut c, o)?;
    }
    Ok(c)
}

/// A TTL in seconds that must be at least 1.
fn positive_ttl(d: &Directive, text: &str) -> Result<u32, ConfigError> {
    match text.parse::<u32>() {
        Ok(t) if t > 0 => Ok(t),
        _ => Err(err(
            d,
            format!("invalid cache TTL `{text}`: expected a positive number of seconds"),
        )),
    }
}

fn option(c: &mut CacheConfig, o: &Directive) -> Result<(), ConfigError> {
    no_block(o, "cache block")?;
    let args = o.arg_texts();
    match o.name.as_str() {
        "success" | "denial" => {
            count(o, 1, 3, &format!("{} CAPACITY [TTL] [MINTTL]", o.name))?;
            let class = if o.name == "success" {
                &mut c.success
            } else {
                &mut c.denial
            };
            class.capacity = number(o, args[0], "capacity", "a non-negative integer")?;
            if let Some(ttl) = args.get(1) {
                class.max_ttl = positive_ttl(o, ttl)?;
            }
            if let Some(min) = args.get(2) {
                class.min_ttl = number(o, min, "minimum TTL", "a non-negative number of seconds")?;
            }
        }
        "prefetch" => {
            count(o, 1, 3, "prefetch AMOUNT [[DURATION] [PERCENTAGE%]]")?;
            let amount: u32 = number(o, args[0], "prefetch amount", "a positive integer")?;
            if amount == 0 {
                return Err(err(
                    o,
                    "invalid prefetch amount `0`: expected a positive integer",
                ));
            }
            let mut p = Prefetch {
                amount,
                duration: Duration::from_secs(60),
                percentage: 10,
            };
            for a in &args[1..] {
                if let Some(pct) = a.strip_suffix('%') {
                    p.percentage =
                        pct.parse::<u8>()
                            .ok()
                            .filter(|p| *p <= 100)
                            .ok_or_else(|| {
                                err(
                                    o,
                                    format!(
                                        "invalid prefetch percentage `{a}`: expected 0% to 100%"
                                    ),
                                )
                            })?;
                } else {
                    p.duration = duration(o, a, "prefetch")?;
                }
            }
            c.prefetch = Some(p);
        }
        "serve_stale" => {
            count(o, 0, 2, "serve_stale [DURATION] [immediate|verify]")?;
            let mut s = ServeStale {
                duration: Duration::from_secs(3600),
                verify: false,
            };
            if let Some(dur) = args.first() {
                s.duration = duration(o, dur, "serve_stale")?;
            }
            if let Some(mode) = args.get(1) {
                s.verify = match *mode {
                    "immediate" => false,
                    "verify" => true,
                    other => {
                        return Err(err(
                            o,
                            format!("invalid serve_stale refresh mode `{other}`: expected `immediate` or `verify`"),
                        ))
                    }
                };
            }
            c.serve_stale = Some(s);
        }
        "disable" => {
            count(o, 1, usize::MAX, "disable success|denial [ZONES...]")?;
            let z = names(o, &args[1..], "disable")?;
            match args[0] {
                "success" => c.disable_success = Some(z),
                "denial" => c.disable_denial = Some(z),
                other => {
                    return Err(err(
                        o,
                        format!(
                            "invalid `disable` class `{other}`: expected `success` or `denial`"
                        ),
                    ))
                }
            }
        }
        "keepttl" => {
            count(o, 0, 0, "keepttl")?;
            c.keepttl = true;
        }
        "servfail" => return Err(err(o, "cache option `servfail` is not supported yet")),
        other => return Err(err(o, format!("unknown property `{other}` in cache block"))),
    }
    Ok(())
}
