//! The `errors` plugin: `errors [{ consolidate DURATION REGEXP [LEVEL] [show_first]; stacktrace }]`
//! — one log line for every answer that failed (a failed upstream exchange that became
//! SERVFAIL), in CoreDNS's words, or, for errors matching a `consolidate` expression, one line
//! per DURATION counting them (`N errors like 'REGEXP' occurred in last DURATION`), as
//! CoreDNS's errors does. `stacktrace` is accepted (Cairn has no panic recovery to report).
//! Doc page: `README.md` in its folder.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use regex::Regex;

use crate::corefile::args::{count, duration, err, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Kind, Plugin, Query, Started};

#[cfg(test)]
mod tests;

/// The longest REGEXP CoreDNS takes.
const MAX_PATTERN: usize = 10_000;

/// The level a consolidated line is logged at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
    Debug,
}

/// `consolidate DURATION REGEXP [LEVEL] [show_first]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consolidate {
    pub period: Duration,
    /// The expression as written (checked when read).
    pub pattern: String,
    pub level: Level,
    pub show_first: bool,
}

/// `errors` and its options.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorsConfig {
    pub consolidate: Vec<Consolidate>,
    pub stacktrace: bool,
}

fn consolidate(o: &Directive) -> Result<Consolidate, ConfigError> {
    count(o, 2, 4, "consolidate DURATION REGEXP [LEVEL] [show_first]")?;
    let args = o.arg_texts();
    let period = duration(o, args[0], "consolidate")?;
    let pattern = args[1];
    if pattern.len() > MAX_PATTERN {
        return Err(err(o, format!("consolidate: REGEXP is longer than {MAX_PATTERN} characters")));
    }
    Regex::new(pattern).map_err(|e| err(o, format!("consolidate: invalid REGEXP `{pattern}`: {e}")))?;
    let mut c = Consolidate {
        period,
        pattern: pattern.to_string(),
        level: Level::Error,
        show_first: false,
    };
    for (i, &a) in args[2..].iter().enumerate() {
        match a {
            "show_first" if i + 3 == args.len() => c.show_first = true,
            "error" if i == 0 => c.level = Level::Error,
            "warning" if i == 0 => c.level = Level::Warning,
            "info" if i == 0 => c.level = Level::Info,
            "debug" if i == 0 => c.level = Level::Debug,
            other => {
                return Err(err(
                    o,
                    format!("consolidate: unexpected `{other}`: expected a LEVEL (`warning`, `error`, `info`, `debug`) then `show_first`"),
                ))
            }
        }
    }
    Ok(c)
}

impl Configure for ErrorsConfig {
    const NAME: &'static str = "errors";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        count(d, 0, 0, "errors [{ consolidate DURATION REGEXP [LEVEL] [show_first] }]")?;
        let mut config = ErrorsConfig::default();
        for o in d.block.iter().flatten() {
            no_block(o, "errors block")?;
            match o.name.as_str() {
                "consolidate" => config.consolidate.push(consolidate(o)?),
                "stacktrace" => {
                    count(o, 0, 0, "stacktrace")?;
                    config.stacktrace = true;
                }
                other => {
                    return Err(err(o, format!("unknown property `{other}` in errors block")))
                }
            }
        }
        Ok(config)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let mut patterns = Vec::new();
        for c in &self.consolidate {
            let regex = Regex::new(&c.pattern).map_err(|e| e.to_string())?;
            patterns.push(Arc::new(Pattern {
                regex,
                config: c.clone(),
                count: AtomicU32::new(0),
            }));
        }
        Ok(Some(Arc::new(Errors {
            patterns,
            runtime: OnceLock::new(),
        })))
    }
}

struct Pattern {
    regex: Regex,
    config: Consolidate,
    /// Errors seen since the period began (0: no period running).
    count: AtomicU32,
}

impl Pattern {
    /// The period's summary line, if there is one to write; the count starts again.
    fn close(&self) -> Option<String> {
        let n = self.count.swap(0, Ordering::AcqRel);
        (n > 1 || (n == 1 && !self.config.show_first)).then(|| {
            format!(
                "{n} errors like '{}' occurred in last {}",
                self.config.pattern,
                go_duration(self.config.period)
            )
        })
    }
}

/// A duration as Go prints one (`30s`, `5m0s`, `1h0m0s`, `1.5s`).
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let frac = d.subsec_nanos();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let s = if frac == 0 {
        format!("{s}s")
    } else {
        let f = format!("{:.9}", f64::from(frac) / 1e9);
        format!("{s}{}s", f.trim_start_matches('0').trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

fn log(level: Level, line: &str) {
    match level {
        Level::Error => tracing::error!(target: "cairn::errors", "plugin/errors: {line}"),
        Level::Warning => tracing::warn!(target: "cairn::errors", "plugin/errors: {line}"),
        Level::Info => tracing::info!(target: "cairn::errors", "plugin/errors: {line}"),
        Level::Debug => tracing::debug!(target: "cairn::errors", "plugin/errors: {line}"),
    }
}

struct Errors {
    patterns: Vec<Arc<Pattern>>,
    /// Where the consolidation timers run (the chain's I/O runtime, once it listens).
    runtime: OnceLock<tokio::runtime::Handle>,
}

impl Errors {
    /// Counts `error` against the first pattern it matches: `None` when it is counted and not
    /// to be written now, else the level to write it at.
    fn consolidated(&self, error: &str) -> Option<Level> {
        let Some(p) = self.patterns.iter().find(|p| p.regex.is_match(error)) else {
            return Some(Level::Error);
        };
        if p.count.fetch_add(1, Ordering::AcqRel) != 0 {
            return None;
        }
        // The first of a period: the summary is written when the period ends.
        match self.runtime.get() {
            Some(runtime) => {
                let p = p.clone();
                runtime.spawn(async move {
                    tokio::time::sleep(p.config.period).await;
                    if let Some(line) = p.close() {
                        log(p.config.level, &line);
                    }
                });
            }
            None => {
                p.count.store(0, Ordering::Release);
                return Some(p.config.level);
            }
        }
        p.config.show_first.then_some(p.config.level)
    }
}

impl Plugin for Errors {
    fn kind(&self) -> Kind {
        Kind::Errors
    }

    fn start(&self, started: &Started<'_>) {
        let _ = self.runtime.set(started.runtime.clone());
    }

    fn respond(&self, query: &Query, answer: &mut Answer) {
        if let Some(error) = &answer.error {
            if let Some(level) = self.consolidated(error) {
                log(level, &format!("2 {} {}: {error}", query.name(), query.qtype()));
            }
        }
    }
}
