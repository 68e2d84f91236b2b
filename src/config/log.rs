//! The `log` directive: `log [NAMES...] [FORMAT] { class CLASSES... }` -> [`LogConfig`].
//!
//! As in CoreDNS, with two or more arguments the last is the format when it contains `{`
//! (`{common}` and `{combined}` are CoreDNS's named formats); names are zones, `.` meaning all.

use super::args::{count, err, location, no_block, zones};
use super::error::ConfigError;
use super::model::LogConfig;
use super::parser::Directive;

const CLASSES: &[&str] = &["all", "denial", "error", "success"];

/// Reads one `log` directive.
pub fn parse(d: &Directive) -> Result<LogConfig, ConfigError> {
    let mut args = d.arg_texts();
    let mut format = None;
    if args.len() >= 2 && args[args.len() - 1].contains('{') {
        format = args.pop().map(str::to_string);
    }
    let mut names = zones(d, &args, "log")?;
    if names.iter().any(|n| n == ".") {
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
    Ok(LogConfig {
        location: location(d),
        names,
        classes,
        format,
    })
}
