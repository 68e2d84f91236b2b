//! The one error type every Corefile problem becomes: the file, the 1-based line, and a message
//! that says what was found and what was expected. Nothing here decides what is an error.

use std::path::{Path, PathBuf};

/// A Corefile the parser rejects. Displays as `file:line: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl ConfigError {
    /// An error at `file:line`.
    pub fn new(file: &Path, line: usize, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}
