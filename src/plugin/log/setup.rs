//! The `log` directive: `log [NAMES...] [FORMAT] { class CLASSES... }` -> [`LogConfig`].
//!
//! As in CoreDNS, with two or more arguments the last is the format when it contains `{`
//! (`{common}` and `{combined}` are CoreDNS's named formats); names are zones, `.` meaning all.

use crate::corefile::args::{count, err, location, names, no_block};
use hickory_proto::rr::Name;
use crate::corefile::Directive;
use crate::corefile::{ConfigError, Location};

use super::format::{self, Part};

/// `log [NAMES...] [FORMAT] { class CLASSES }`: CoreDNS's log line for every query (or the
/// classes given: all, denial, error, success).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub location: Location,
    /// Names (lower-case FQDNs) logged; empty means all.
    pub names: Vec<Name>,
    /// `class` values (`all`, `denial`, `error`, `success`); empty means all.
    pub classes: Vec<String>,
    /// The log format when one was given (the last argument, containing `{`).
    pub format: Option<String>,
    /// The format read into its parts (CoreDNS's common format without one).
    pub parts: Vec<Part>,
}

const CLASSES: &[&str] = &["all", "denial", "error", "success"];

/// Reads one `log` directive.
pub fn parse(d: &Directive) -> Result<LogConfig, ConfigError> {
    let mut args = d.arg_texts();
    let mut format = None;
    if args.len() >= 2 && args[args.len() - 1].contains('{') {
        format = args.pop().map(str::to_string);
    }
    let mut names = names(d, &args, "log")?;
    if names.iter().any(|n| n.is_root()) {
        names.clear();
    }
    let mut classes: Vec<String> = Vec::new();
    for o in d.block.iter().flatten() {
        no_block(o, "log block")?;
        match o.name.as_str() {
            "class" => {
                count(o, 1, usize::MAX, "class all|denial|error|success...")?;
                for c in o.arg_texts() {
                    if !CLASSES.contains(&c) {
                        return Err(err(
                            o,
                            format!("invalid log class `{c}`: expected `all`, `denial`, `error` or `success`"),
                        ));
                    }
                    if !classes.iter().any(|x| x == c) {
                        classes.push(c.to_string());
                    }
                }
            }
            other => return Err(err(o, format!("unknown property `{other}` in log block"))),
        }
    }
    if classes.iter().any(|c| c == "all") {
        classes = vec!["all".to_string()];
    }
    let parts = format::parse(format.as_deref().unwrap_or(format::COMMON));
    Ok(LogConfig {
        location: location(d),
        names,
        classes,
        format,
        parts,
    })
}
