//! Plugins that are on or off: `errors [{ consolidate ... }]`, `loop`, `loadbalance
//! [round_robin]`. Each is checked for stray arguments; what they do is decided elsewhere.

use super::args::{count, err, no_block};
use super::error::ConfigError;
use super::parser::Directive;

/// `errors`, optionally with a block of `consolidate DURATION REGEXP [LEVEL]` and `stacktrace`
/// lines, which are checked for shape and otherwise ignored.
pub fn errors(d: &Directive) -> Result<(), ConfigError> {
    count(d, 0, 0, "errors [{ consolidate DURATION REGEXP [LEVEL] }]")?;
    for o in d.block.iter().flatten() {
        no_block(o, "errors block")?;
        match o.name.as_str() {
            "consolidate" => {
                count(o, 2, 3, "consolidate DURATION REGEXP [LEVEL]")?;
                super::args::duration(o, &o.args[0].text, "consolidate")?;
            }
            "stacktrace" => count(o, 0, 0, "stacktrace")?,
            other => {
                return Err(err(
                    o,
                    format!("unknown property `{other}` in errors block"),
                ))
            }
        }
    }
    Ok(())
}

/// `loop`.
pub fn loop_detect(d: &Directive) -> Result<(), ConfigError> {
    no_block(d, "the server block")?;
    count(d, 0, 0, "loop")
}

/// `loadbalance [round_robin]`.
pub fn loadbalance(d: &Directive) -> Result<(), ConfigError> {
    no_block(d, "the server block")?;
    count(d, 0, 1, "loadbalance [round_robin]")?;
    match d.args.first().map(|a| a.text.as_str()) {
        None | Some("round_robin") => Ok(()),
        Some("weighted") => Err(err(d, "loadbalance policy `weighted` is not supported yet")),
        Some(other) => Err(err(
            d,
            format!("unknown loadbalance policy `{other}`: expected `round_robin`"),
        )),
    }
}
