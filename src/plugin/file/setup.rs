//! The `file` directive: `file DBFILE [ZONES...] { reload DURATION; fallthrough [ZONES...] }`
//! -> one [`Source`] of [`FileConfig`].
//!
//! The zone file is read here, once per zone, so that a file that does not parse is a Corefile
//! error naming the file, the zone and the zone file's line, as CoreDNS fails its setup. A file
//! that does not exist is only an error with `reload 0`; otherwise it is logged when the
//! server starts and read again at every reload interval (CoreDNS's behaviour).

use std::path::PathBuf;
use std::time::Duration;

use hickory_proto::rr::Name;

use crate::corefile::args::{count, duration, err, location, name, names, no_block};
use crate::corefile::{ConfigError, Directive, Location};
use crate::plugin::BlockContext;

use super::zone::Zone;

/// One `file` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub location: Location,
    pub file: PathBuf,
    /// The zones read from the file (the block's zones when none are given).
    pub origins: Vec<Name>,
    /// How often the file is checked for a new SOA serial (default 1m; zero: never).
    pub reload: Duration,
}

/// Reads one `file` directive: its source and its `fallthrough`.
pub fn parse(
    d: &Directive,
    block: &BlockContext<'_>,
) -> Result<(Source, Option<Vec<Name>>), ConfigError> {
    count(d, 1, usize::MAX, "file DBFILE [ZONES...]")?;
    let args = d.arg_texts();
    let origins = if args.len() > 1 {
        names(d, &args[1..], "file")?
    } else {
        block
            .zones
            .iter()
            .map(|z| name(d, z, "file"))
            .collect::<Result<_, _>>()?
    };
    let mut source = Source {
        location: location(d),
        file: PathBuf::from(args[0]),
        origins,
        reload: Duration::from_secs(60),
    };
    let mut fallthrough = None;
    for o in d.block.iter().flatten() {
        no_block(o, "file block")?;
        let args = o.arg_texts();
        match o.name.as_str() {
            "reload" => {
                count(o, 1, 1, "reload DURATION")?;
                source.reload = duration(o, args[0], "reload")?;
            }
            "fallthrough" => fallthrough = Some(names(o, &args, "fallthrough")?),
            "reload_by_mtime" => {
                return Err(err(o, "file option `reload_by_mtime` is not supported yet"))
            }
            // CoreDNS still accepts and ignores it.
            "upstream" => {}
            other => {
                return Err(err(
                    o,
                    format!(
                        "unknown file option `{other}`: expected `reload` or `fallthrough`"
                    ),
                ))
            }
        }
    }
    check_file(d, &source, block)?;
    Ok((source, fallthrough))
}

/// Reads the file as each of its zones.
fn check_file(d: &Directive, source: &Source, block: &BlockContext<'_>) -> Result<(), ConfigError> {
    let path = source.file.display();
    let text = match block.files.read_to_string(&source.file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !source.reload.is_zero() => {
            return Ok(());
        }
        Err(e) => return Err(err(d, format!("file: cannot read `{path}`: {e}"))),
    };
    for origin in &source.origins {
        Zone::parse(&text, &source.file, origin)
            .map_err(|e| err(d, format!("file: zone `{origin}` in `{path}`: {e}")))?;
    }
    Ok(())
}
