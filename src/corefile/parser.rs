//! The Corefile's structure: tokens -> server blocks of (possibly nested) directives.
//!
//! A server block is one or more zone keys (separated by spaces or commas; a trailing comma
//! continues the keys on the next line) followed by `{ ... }`. Inside, each directive is a name
//! and the words on the same line, optionally followed by a nested `{ ... }` block. This module
//! checks braces and layout only; what the keys and directives mean is decided elsewhere.

use std::path::Path;
use std::sync::Arc;

use super::error::ConfigError;
use super::lexer::{Kind, Token};

/// A directive: `name args... [{ sub-directives }]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    /// The file the directive's name was read from (an imported file for imported lines).
    pub file: Arc<Path>,
    pub line: usize,
    pub args: Vec<Token>,
    /// The nested block, if the directive has one.
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    /// The argument texts.
    pub fn arg_texts(&self) -> Vec<&str> {
        self.args.iter().map(|t| t.text.as_str()).collect()
    }
}

/// A server block before interpretation: its keys (split at commas) and its directives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawBlock {
    pub keys: Vec<Token>,
    /// Where the block starts (its first key, else its `{`).
    pub file: Arc<Path>,
    pub line: usize,
    pub directives: Vec<Directive>,
}

/// Something at the top level of a Corefile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Block(RawBlock),
    /// A directive outside any block (only `import` is recognised there).
    Directive(Directive),
}

/// Builds the block structure of a Corefile from its tokens (imports already spliced in).
pub fn parse(tokens: &[Token]) -> Result<Vec<Item>, ConfigError> {
    let mut p = Parser { tokens, pos: 0 };
    let mut items = Vec::new();
    while let Some(tok) = p.peek() {
        match tok.kind {
            Kind::Close => return Err(err(tok, "unexpected `}`: no block is open")),
            Kind::Open => {
                return Err(err(
                    tok,
                    "unexpected `{`: expected zone keys (such as `.:53`) before it",
                ))
            }
            Kind::Word if tok.text == "import" => {
                p.pos += 1;
                items.push(Item::Directive(p.directive(tok)?));
            }
            Kind::Word => items.push(Item::Block(p.block()?)),
        }
    }
    Ok(items)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

/// An error at `tok`'s file and line.
fn err(tok: &Token, message: impl Into<String>) -> ConfigError {
    ConfigError::new(&tok.file, tok.line, message)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let tok = self.tokens.get(self.pos);
        self.pos += 1;
        tok
    }

    /// Zone keys, then `{`, the directives and `}`.
    fn block(&mut self) -> Result<RawBlock, ConfigError> {
        let mut keys: Vec<Token> = Vec::new();
        let mut expecting_another = false;
        // The last key token (keys are never empty once the loop has run once).
        let mut last: Option<&Token> = None;
        let shown = |keys: &[Token]| {
            keys.iter()
                .map(|k| k.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let open = loop {
            let Some(tok) = self.peek() else {
                let msg = if expecting_another {
                    "expected another zone key after `,`, found end of file".to_string()
                } else {
                    format!(
                        "expected `{{` to open the server block `{}`, found end of file",
                        shown(&keys)
                    )
                };
                let at = last.expect("block() starts at a word");
                return Err(ConfigError::new(&at.file, at.end_line, msg));
            };
            match tok.kind {
                Kind::Open if expecting_another => {
                    return Err(err(
                        tok,
                        "expected another zone key after `,`, found `{` (remove the extra comma)",
                    ))
                }
                Kind::Open => break tok,
                Kind::Close => return Err(err(tok, "unexpected `}`: no block is open")),
                Kind::Word if !expecting_another && last.is_some_and(|l| !l.same_line(tok)) => {
                    let at = last.expect("checked");
                    return Err(ConfigError::new(
                        &at.file,
                        at.end_line,
                        format!(
                            "expected `{{` to open the server block `{}`, found `{}` on line {}",
                            shown(&keys),
                            tok.text,
                            tok.line
                        ),
                    ));
                }
                Kind::Word => {
                    let mut text = tok.text.as_str();
                    expecting_another = text.ends_with(',');
                    if expecting_another {
                        text = &text[..text.len() - 1];
                    }
                    for piece in text.split(',') {
                        if piece.is_empty() {
                            return Err(err(
                                tok,
                                format!("empty zone key in `{}`: expected a zone such as `.` or `example.org:53`", tok.text),
                            ));
                        }
                        keys.push(Token {
                            text: piece.to_string(),
                            ..tok.clone()
                        });
                    }
                    last = Some(tok);
                    self.pos += 1;
                }
            }
        };
        self.pos += 1;
        let directives = self.body(open)?;
        let first = keys.first().unwrap_or(open);
        Ok(RawBlock {
            file: first.file.clone(),
            line: first.line,
            keys,
            directives,
        })
    }

    /// Directives up to and including the `}` closing the block `open` opened.
    fn body(&mut self, open: &Token) -> Result<Vec<Directive>, ConfigError> {
        let mut directives = Vec::new();
        loop {
            let Some(tok) = self.next() else {
                return Err(err(
                    open,
                    format!(
                        "unclosed `{{` opened on line {}: expected `}}` before end of file",
                        open.line
                    ),
                ));
            };
            match tok.kind {
                Kind::Close => return Ok(directives),
                Kind::Open => return Err(err(tok, "unexpected `{`: expected a directive name")),
                Kind::Word => directives.push(self.directive(tok)?),
            }
        }
    }

    /// The rest of a directive whose name token has been consumed.
    fn directive(&mut self, name: &Token) -> Result<Directive, ConfigError> {
        let mut args = Vec::new();
        let mut last = name;
        while let Some(tok) = self.peek() {
            if tok.kind != Kind::Word || !last.same_line(tok) {
                break;
            }
            args.push(tok.clone());
            last = tok;
            self.pos += 1;
        }
        let block = match self.peek() {
            Some(tok) if tok.kind == Kind::Open => {
                self.pos += 1;
                Some(self.body(tok)?)
            }
            _ => None,
        };
        Ok(Directive {
            name: name.text.clone(),
            file: name.file.clone(),
            line: name.line,
            args,
            block,
        })
    }
}
