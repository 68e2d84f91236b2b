//! Shared checks for plugin directives and their option lines: argument counts, "no block",
//! numbers, durations and zone lists, each failing with the Corefile line and what was expected.
//! Nothing here knows which plugin it is checking beyond the names it is given.

use std::path::Path;

use hickory_proto::rr::Name;
use std::time::Duration;

use super::duration::parse_duration;
use super::error::ConfigError;
use super::parser::Directive;
use super::zone::zones_from_arg;

/// An error at the line of `d`.
pub fn err(d: &Directive, message: impl Into<String>) -> ConfigError {
    ConfigError::new(&d.file, d.line, message)
}

/// Fails unless `d` has between `min` and `max` arguments; `usage` is shown in the message.
pub fn count(d: &Directive, min: usize, max: usize, usage: &str) -> Result<(), ConfigError> {
    let n = d.args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    let plural = |a: usize| if a == 1 { "" } else { "s" };
    let want = match (min, max) {
        (0, 0) => "no arguments".to_string(),
        (a, b) if a == b => format!("exactly {a} argument{}", plural(a)),
        (a, usize::MAX) => format!("at least {a} argument{}", plural(a)),
        (0, b) => format!("at most {b} argument{}", plural(b)),
        (a, b) => format!("{a} to {b} arguments"),
    };
    Err(err(
        d,
        format!("`{}` takes {want} (`{usage}`), got {n}", d.name),
    ))
}

/// Fails when `d` has a `{ ... }` block; `plugin` names where it was found.
pub fn no_block(d: &Directive, plugin: &str) -> Result<(), ConfigError> {
    if d.block.is_some() {
        return Err(err(
            d,
            format!(
                "unexpected `{{` after `{}` in {plugin}: this takes no block",
                d.name
            ),
        ));
    }
    Ok(())
}

/// A non-negative integer that fits `T`; `what` names it in the error.
pub fn number<T: std::str::FromStr>(
    d: &Directive,
    text: &str,
    what: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    text.parse::<T>()
        .map_err(|_| err(d, format!("invalid {what} `{text}`: expected {expected}")))
}

/// A Go duration; `what` prefixes the error.
pub fn duration(d: &Directive, text: &str, what: &str) -> Result<Duration, ConfigError> {
    parse_duration(text).map_err(|m| err(d, format!("{what}: {m}")))
}

/// Normalised zones from arguments (CIDRs expanded), without duplicates.
pub fn zones(d: &Directive, texts: &[&str], what: &str) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        for z in zones_from_arg(t).map_err(|m| err(d, format!("{what}: {m}")))? {
            if !out.contains(&z) {
                out.push(z);
            }
        }
    }
    Ok(out)
}

/// [`zones`] as DNS names, parsed once here so nothing later parses them again.
pub fn names(d: &Directive, texts: &[&str], what: &str) -> Result<Vec<Name>, ConfigError> {
    zones(d, texts, what)?
        .iter()
        .map(|z| name(d, z, what))
        .collect()
}

/// One normalised zone (`zone::normalize_name`'s output) as a DNS name.
pub fn name(d: &Directive, zone: &str, what: &str) -> Result<Name, ConfigError> {
    Name::from_ascii(zone).map_err(|e| err(d, format!("{what}: `{zone}` is not a DNS name: {e}")))
}

/// The file a directive came from, for `Location`s.
pub fn location(d: &Directive) -> super::Location {
    super::Location {
        file: Path::to_path_buf(&d.file),
        line: d.line,
    }
}
