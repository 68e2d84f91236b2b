//! The `errors` plugin: `errors [{ consolidate DURATION REGEXP [LEVEL]; stacktrace }]` — one log
//! line for every answer that failed (a failed upstream exchange that became SERVFAIL), in
//! CoreDNS's words. `consolidate` and `stacktrace` are checked for shape and otherwise ignored.
//! Doc page: `README.md` in its folder.

use std::sync::Arc;

use crate::corefile::args::{count, duration, err, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Kind, Plugin, Query};

/// `errors` (its options are accepted and not used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorsConfig;

impl Configure for ErrorsConfig {
    const NAME: &'static str = "errors";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        count(d, 0, 0, "errors [{ consolidate DURATION REGEXP [LEVEL] }]")?;
        for o in d.block.iter().flatten() {
            no_block(o, "errors block")?;
            match o.name.as_str() {
                "consolidate" => {
                    count(o, 2, 3, "consolidate DURATION REGEXP [LEVEL]")?;
                    duration(o, &o.args[0].text, "consolidate")?;
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
        Ok(ErrorsConfig)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Errors)))
    }
}

struct Errors;

impl Plugin for Errors {
    fn kind(&self) -> Kind {
        Kind::Errors
    }

    fn respond(&self, query: &Query, answer: &mut Answer) {
        if let Some(error) = &answer.error {
            tracing::error!(
                target: "cairn::errors",
                "plugin/errors: 2 {} {}: {error}",
                query.name(),
                query.qtype()
            );
        }
    }
}
