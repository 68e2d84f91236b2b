//! The Corefile's syntax, hand-written (no Rust crate reads Caddyfile syntax): text -> tokens
//! with their file and line (`lexer`, with `{$ENV}` substitution) -> `import` and snippets
//! spliced in (`include`) -> server blocks of directives (`parser`). `args`, `zone` and
//! `duration` are the checks plugins share to read their options, each failing with a
//! [`ConfigError`] at `file:line` that says what was expected.
//!
//! Nothing here knows any plugin: what a directive means is `plugin/`'s (each plugin's
//! `setup`), what a server block holds is `config`'s.

pub mod args;
pub mod duration;
pub mod error;
pub mod files;
pub mod include;
pub mod lexer;
pub mod listen;
pub mod parser;
pub mod reverse;
pub mod zone;

use std::path::PathBuf;

pub use duration::parse_duration;
pub use error::ConfigError;
pub use files::{Files, RealFiles};
pub use parser::Directive;

/// Where something was written: a Corefile path and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}
