//! `import` and snippets, done on tokens before the parser sees them, as CoreDNS (Caddy) does:
//! `import PATTERN` at the top level or as a directive of a server block is replaced by the
//! tokens of the matching files (sorted; a relative pattern is resolved against the importing
//! file's directory) or of the snippet `(PATTERN) { ... }` defined earlier.
//!
//! As in CoreDNS: a glob that matches nothing imports nothing; a plain path that does not exist
//! is an error; a pattern may hold at most one `*` and one `?`, and no `[...]`. Imports that
//! come back to a file (or snippet) still being imported are an error. Imported tokens keep their
//! own file and line, so errors inside an imported file name that file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::ConfigError;
use super::files::{glob, is_glob, normalize, Files};
use super::lexer::{lex, Kind, Token};

/// Splices imports and snippets into `tokens`, which were read from `file`.
pub fn expand(
    tokens: &[Token],
    file: &Path,
    files: &dyn Files,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Token>, ConfigError> {
    let mut x = Expander {
        files,
        env,
        snippets: HashMap::new(),
        stack: vec![normalize(file).display().to_string()],
    };
    let mut out = Vec::with_capacity(tokens.len());
    let mut depth = 0;
    x.splice(tokens, &mut depth, &mut out)?;
    Ok(out)
}

struct Expander<'a> {
    files: &'a dyn Files,
    env: &'a dyn Fn(&str) -> Option<String>,
    snippets: HashMap<String, Vec<Token>>,
    /// Files (normalised paths) and snippets (`(name)`) being imported, outermost first.
    stack: Vec<String>,
}

fn err(tok: &Token, message: impl Into<String>) -> ConfigError {
    ConfigError::new(&tok.file, tok.line, message)
}

impl Expander<'_> {
    fn splice(
        &mut self,
        tokens: &[Token],
        depth: &mut usize,
        out: &mut Vec<Token>,
    ) -> Result<(), ConfigError> {
        let mut i = 0;
        while i < tokens.len() {
            let tok = &tokens[i];
            let line_start = i == 0 || !tokens[i - 1].same_line(tok);
            match tok.kind {
                Kind::Open => *depth += 1,
                Kind::Close => *depth = depth.saturating_sub(1),
                Kind::Word if *depth == 0 && line_start && is_snippet_name(&tok.text) => {
                    if let Some(next) = tokens.get(i + 1).filter(|t| t.kind == Kind::Open) {
                        i = self.define(tokens, i, next)?;
                        continue;
                    }
                }
                Kind::Word if tok.text == "import" && line_start && *depth <= 1 => {
                    let mut end = i + 1;
                    while end < tokens.len()
                        && tokens[end].kind == Kind::Word
                        && tokens[end - 1].same_line(&tokens[end])
                    {
                        end += 1;
                    }
                    let args = &tokens[i + 1..end];
                    if args.len() != 1 {
                        return Err(err(
                            tok,
                            format!(
                                "`import` takes exactly 1 argument (`import FILE|GLOB|SNIPPET`), got {}",
                                args.len()
                            ),
                        ));
                    }
                    self.import(tok, &args[0].text, depth, out)?;
                    i = end;
                    continue;
                }
                Kind::Word => {}
            }
            out.push(tok.clone());
            i += 1;
        }
        Ok(())
    }

    /// Records the snippet whose name is `tokens[at]`; returns the index after its `}`.
    fn define(&mut self, tokens: &[Token], at: usize, open: &Token) -> Result<usize, ConfigError> {
        let name_tok = &tokens[at];
        let name = name_tok.text[1..name_tok.text.len() - 1].to_string();
        let mut nesting = 0;
        for (j, t) in tokens.iter().enumerate().skip(at + 1) {
            match t.kind {
                Kind::Open => nesting += 1,
                Kind::Close => {
                    nesting -= 1;
                    if nesting == 0 {
                        if self.snippets.contains_key(&name) {
                            return Err(err(
                                name_tok,
                                format!("snippet `{name}` is defined twice"),
                            ));
                        }
                        self.snippets.insert(name, tokens[at + 2..j].to_vec());
                        return Ok(j + 1);
                    }
                }
                Kind::Word => {}
            }
        }
        Err(err(
            open,
            format!(
                "unclosed `{{` opened on line {}: expected `}}` before end of file",
                open.line
            ),
        ))
    }

    fn import(
        &mut self,
        at: &Token,
        pattern: &str,
        depth: &mut usize,
        out: &mut Vec<Token>,
    ) -> Result<(), ConfigError> {
        if let Some(body) = self.snippets.get(pattern) {
            // A fresh file handle per inclusion keeps lines of two inclusions apart.
            let origin: Arc<Path> =
                Arc::from(&*body.first().map_or(at.file.clone(), |t| t.file.clone()));
            let body: Vec<Token> = body
                .iter()
                .map(|t| Token {
                    file: origin.clone(),
                    ..t.clone()
                })
                .collect();
            let key = format!("({pattern})");
            self.enter(at, key)?;
            let result = self.splice(&body, depth, out);
            self.stack.pop();
            return result;
        }
        if pattern.matches('*').count() > 1
            || pattern.matches('?').count() > 1
            || pattern.contains('[')
        {
            return Err(err(
                at,
                format!(
                    "import pattern `{pattern}` may hold at most one `*` and one `?`, and no `[`"
                ),
            ));
        }
        let path = match at.file.parent() {
            Some(dir) if Path::new(pattern).is_relative() => dir.join(pattern),
            _ => PathBuf::from(pattern),
        };
        let matches = glob(self.files, &path);
        if matches.is_empty() && !is_glob(pattern) {
            return Err(err(
                at,
                format!("file to import not found: `{}`", path.display()),
            ));
        }
        for m in matches {
            let key = normalize(&m).display().to_string();
            self.enter(at, key)?;
            let text = self.files.read_to_string(&m).map_err(|e| {
                err(
                    at,
                    format!("cannot read imported file `{}`: {e}", m.display()),
                )
            })?;
            let tokens = lex(&text, &m, self.env)?;
            self.splice(&tokens, depth, out)?;
            self.stack.pop();
        }
        Ok(())
    }

    /// Pushes `key` on the import stack, or fails when it is already on it.
    fn enter(&mut self, at: &Token, key: String) -> Result<(), ConfigError> {
        if self.stack.contains(&key) {
            let mut chain = self.stack.clone();
            chain.push(key.clone());
            return Err(err(
                at,
                format!(
                    "import cycle: `{key}` is already being imported ({})",
                    chain.join(" -> ")
                ),
            ));
        }
        self.stack.push(key);
        Ok(())
    }
}

/// `(name)`: a snippet definition's key.
fn is_snippet_name(text: &str) -> bool {
    text.len() > 2 && text.starts_with('(') && text.ends_with(')')
}
