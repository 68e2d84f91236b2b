//! The Corefile lexer: text -> tokens with line numbers, Caddyfile rules.
//!
//! Tokens are separated by whitespace; `{` and `}` are braces only when they stand alone (an
//! unquoted `{}` is an empty block); `#` starts a comment to the end of the line outside quotes;
//! `"..."` is one token that may hold spaces and newlines, with `\"` and `\\` escapes (any other
//! backslash is kept). `{$NAME}` and `{%NAME%}` are replaced from the environment in every word
//! (an unset variable becomes empty, as in CoreDNS; an unquoted word left empty is dropped, so
//! `forward . {$UPSTREAM}` with `UPSTREAM` unset has no argument). It knows nothing about
//! directives.

use std::path::Path;
use std::sync::Arc;

use super::error::ConfigError;

#[cfg(test)]
mod tests;

/// What a token is to the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Word,
    Open,
    Close,
}

/// One token and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// The text after unquoting and environment substitution (`{` / `}` for braces).
    pub text: String,
    /// The line the token starts on.
    pub line: usize,
    /// The line the token ends on (differs from `line` only for quoted text with newlines).
    pub end_line: usize,
    /// The file the token was read from. Tokens spliced in by one `import` share one `Arc`, so
    /// `Arc::ptr_eq` tells inclusions apart even when the same file is imported twice.
    pub file: Arc<Path>,
}

impl Token {
    /// True when `next` continues the line `self` ends on (same inclusion, same line).
    pub fn same_line(&self, next: &Token) -> bool {
        Arc::ptr_eq(&self.file, &next.file) && self.end_line == next.line
    }
}

/// Splits `text` into tokens, substituting environment variables with `env`.
pub fn lex(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Token>, ConfigError> {
    let source: Arc<Path> = Arc::from(file);
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(&ch) = chars.peek() {
        if ch == '\n' {
            line += 1;
            chars.next();
        } else if ch.is_whitespace() {
            chars.next();
        } else if ch == '#' {
            while chars.next_if(|&c| c != '\n').is_some() {}
        } else if ch == '"' {
            chars.next();
            let start = line;
            let mut val = String::new();
            loop {
                match chars.next() {
                    None => {
                        return Err(ConfigError::new(
                            file,
                            start,
                            "unterminated quoted string: expected a closing `\"`",
                        ))
                    }
                    Some('"') => break,
                    Some('\\') => match chars.next_if(|&c| c == '"' || c == '\\') {
                        Some(c) => val.push(c),
                        None => val.push('\\'),
                    },
                    Some(c) => {
                        if c == '\n' {
                            line += 1;
                        }
                        val.push(c);
                    }
                }
            }
            tokens.push(word(&val, start, line, &source, env));
        } else {
            let mut val = String::new();
            while let Some(c) = chars.next_if(|&c| !c.is_whitespace() && c != '#') {
                val.push(c);
            }
            let brace = |kind, text: &str| Token {
                kind,
                text: text.to_string(),
                line,
                end_line: line,
                file: source.clone(),
            };
            match val.as_str() {
                "{" => tokens.push(brace(Kind::Open, "{")),
                "}" => tokens.push(brace(Kind::Close, "}")),
                "{}" => {
                    tokens.push(brace(Kind::Open, "{"));
                    tokens.push(brace(Kind::Close, "}"));
                }
                // An unquoted word that was only unset variables disappears.
                _ => tokens.extend(
                    Some(word(&val, line, line, &source, env)).filter(|t| !t.text.is_empty()),
                ),
            }
        }
    }
    Ok(tokens)
}

fn word(
    raw: &str,
    line: usize,
    end_line: usize,
    file: &Arc<Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Token {
    Token {
        kind: Kind::Word,
        text: substitute(raw, env),
        line,
        end_line,
        file: file.clone(),
    }
}

/// Replaces `{$NAME}` and `{%NAME%}` with the variable's value (empty when unset).
pub fn substitute(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let text = replace_refs(text, "{%", "%}", env);
    replace_refs(&text, "{$", "}", env)
}

fn replace_refs(
    text: &str,
    open: &str,
    close: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&env(&after[..end]).unwrap_or_default());
        rest = &after[end + close.len()..];
    }
    out.push_str(rest);
    out
}
