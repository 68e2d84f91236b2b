//! The Corefile's structure: tokens -> server blocks of (possibly nested) directives.
//!
//! A server block is one or more zone keys (separated by spaces or commas; a trailing comma
//! continues the keys on the next line) followed by `{ ... }`. Inside, each directive is a name
//! and the words on the same line, optionally followed by a nested `{ ... }` block. This module
//! checks braces and layout only; what the keys and directives mean is decided elsewhere.

use std::path::Path;

use super::error::ConfigError;
use super::lexer::{Kind, Token};

/// A directive: `name args... [{ sub-directives }]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
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

/// Builds the block structure of a Corefile from its tokens.
pub fn parse(tokens: &[Token], file: &Path) -> Result<Vec<Item>, ConfigError> {
    let mut p = Parser {
        tokens,
        pos: 0,
        file,
    };
    let mut items = Vec::new();
    while let Some(tok) = p.peek() {
        match tok.kind {
            Kind::Close => return Err(p.err(tok.line, "unexpected `}`: no block is open")),
            Kind::Open => {
                return Err(p.err(
                    tok.line,
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
    file: &'a Path,
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

    fn err(&self, line: usize, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, line, message)
    }

    /// Zone keys, then `{`, the directives and `}`.
    fn block(&mut self) -> Result<RawBlock, ConfigError> {
        let mut keys: Vec<Token> = Vec::new();
        let mut expecting_another = false;
        let mut last_line = 0;
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
                return Err(self.err(last_line, msg));
            };
            match tok.kind {
                Kind::Open if expecting_another => {
                    return Err(self.err(
                        tok.line,
                        "expected another zone key after `,`, found `{` (remove the extra comma)",
                    ))
                }
                Kind::Open => break tok,
                Kind::Close => return Err(self.err(tok.line, "unexpected `}`: no block is open")),
                Kind::Word if !keys.is_empty() && !expecting_another && tok.line != last_line => {
                    return Err(self.err(
                        last_line,
                        format!(
                            "expected `{{` to open the server block `{}`, found `{}` on line {}",
                            shown(&keys),
                            tok.text,
                            tok.line
                        ),
                    ))
                }
                Kind::Word => {
                    let mut text = tok.text.as_str();
                    expecting_another = text.ends_with(',');
                    if expecting_another {
                        text = &text[..text.len() - 1];
                    }
                    for piece in text.split(',') {
                        if piece.is_empty() {
                            return Err(self.err(
                                tok.line,
                                format!("empty zone key in `{}`: expected a zone such as `.` or `example.org:53`", tok.text),
                            ));
                        }
                        keys.push(Token {
                            text: piece.to_string(),
                            ..tok.clone()
                        });
                    }
                    last_line = tok.end_line;
                    self.pos += 1;
                }
            }
        };
        self.pos += 1;
        let directives = self.body(open.line)?;
        Ok(RawBlock {
            line: keys.first().map_or(open.line, |k| k.line),
            keys,
            directives,
        })
    }

    /// Directives up to and including the `}` closing a block opened on `open_line`.
    fn body(&mut self, open_line: usize) -> Result<Vec<Directive>, ConfigError> {
        let mut directives = Vec::new();
        loop {
            let Some(tok) = self.next() else {
                return Err(self.err(
                    open_line,
                    format!("unclosed `{{` opened on line {open_line}: expected `}}` before end of file"),
                ));
            };
            match tok.kind {
                Kind::Close => return Ok(directives),
                Kind::Open => {
                    return Err(self.err(tok.line, "unexpected `{`: expected a directive name"))
                }
                Kind::Word => directives.push(self.directive(tok)?),
            }
        }
    }

    /// The rest of a directive whose name token has been consumed.
    fn directive(&mut self, name: &Token) -> Result<Directive, ConfigError> {
        let mut args = Vec::new();
        let mut last_line = name.end_line;
        while let Some(tok) = self.peek() {
            if tok.kind != Kind::Word || tok.line != last_line {
                break;
            }
            args.push(tok.clone());
            last_line = tok.end_line;
            self.pos += 1;
        }
        let block = match self.peek() {
            Some(tok) if tok.kind == Kind::Open => {
                self.pos += 1;
                Some(self.body(tok.line)?)
            }
            _ => None,
        };
        Ok(Directive {
            name: name.text.clone(),
            line: name.line,
            args,
            block,
        })
    }
}
