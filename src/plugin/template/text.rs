//! The templates of `answer`, `additional` and `authority`: the part of Go's `text/template`
//! that CoreDNS users write, parsed once when the Corefile is read ([`Tmpl::parse`]) and run per
//! query by [`super::eval`].
//!
//! Written by hand because no Rust crate implements Go's template language (the Rust template
//! engines — Tera, Handlebars, MiniJinja — share the `{{ }}` braces, not the grammar: no
//! `index .Match 1`, no pipelines with the piped value last). What is understood:
//!
//! * text, and actions `{{ PIPELINE }}` with the trim markers `{{- ` and ` -}}`; comments
//!   `{{/* ... */}}`;
//! * a pipeline `CMD | CMD ...`, where a command is an operand or a function with arguments (the
//!   piped value goes last);
//! * operands: the data's fields (`.Name .Zone .Class .Type .Regex .Remote .Match .Group
//!   .Group.NAME .Question.Name .Question.Qtype .Question.Qclass .Message.Id ...`), `.`,
//!   strings (`"..."` with Go's escapes, `` `raw` ``), integers, `true`, `false`, and
//!   `( PIPELINE )`;
//! * the functions `index`, `len`, `print`, `printf`, `println`, `parseInt` and the method
//!   `.Meta NAME`.
//!
//! Anything else (variables `$x`, `if`, `range`, `with`, `define`, other functions, unknown
//! fields) is refused here, so a Corefile error names it, instead of failing at every query.

/// A parsed template, with its source (the `template` label of the failure metrics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tmpl {
    pub source: String,
    pub(super) nodes: Vec<Node>,
    /// Reads the client's address (`.Remote`) or the whole message (`.Message`): the answer
    /// is not a pure function of the question.
    pub per_query: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Node {
    Text(String),
    Action(Pipeline),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Pipeline(pub Vec<Cmd>);

impl Pipeline {
    fn per_query(&self) -> bool {
        let operand = |o: &Operand| match o {
            Operand::Field(f) => matches!(f, Field::Remote | Field::Message(_)),
            Operand::Pipe(p) => p.per_query(),
            _ => false,
        };
        self.0.iter().any(|c| match c {
            Cmd::Value(o) => operand(o),
            Cmd::Call(_, args) => args.iter().any(operand),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Cmd {
    Value(Operand),
    Call(Func, Vec<Operand>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Func {
    Index,
    Len,
    ParseInt,
    Print,
    Printf,
    Println,
    Meta,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Operand {
    Field(Field),
    Str(String),
    Int(i64),
    Bool(bool),
    Pipe(Box<Pipeline>),
}

/// A field of the data CoreDNS gives its templates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Name,
    Zone,
    Class,
    Type,
    Regex,
    Remote,
    Match,
    /// `.Group` (the whole map) or `.Group.NAME`.
    Group(Option<String>),
    QuestionName,
    QuestionQtype,
    QuestionQclass,
    /// `.Message.NAME`: a header field.
    Message(MessageField),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MessageField {
    Id,
    Opcode,
    RecursionDesired,
    CheckingDisabled,
    AuthenticatedData,
}

const FIELDS: &str = ".Name, .Zone, .Class, .Type, .Regex, .Remote, .Match, .Group, .Group.NAME, \
                      .Question.Name|Qtype|Qclass, .Message.Id|Opcode|RecursionDesired|\
                      CheckingDisabled|AuthenticatedData, .Meta";
const FUNCS: &str = "index, len, parseInt, print, printf, println";

impl Tmpl {
    /// Parses `source`; the error says what is wrong and, for what Cairn lacks, what it has.
    pub fn parse(source: &str) -> Result<Tmpl, String> {
        let mut nodes = Vec::new();
        let mut rest = source;
        let mut trim_next = false;
        while !rest.is_empty() {
            let (text, after) = match rest.find("{{") {
                Some(at) => (&rest[..at], Some(&rest[at + 2..])),
                None => (rest, None),
            };
            let mut text = if trim_next { text.trim_start() } else { text };
            let Some(after) = after else {
                push_text(&mut nodes, text);
                break;
            };
            let (trim_before, inner_start) = match after.strip_prefix("- ") {
                Some(a) => (true, a),
                None => (false, after),
            };
            if trim_before {
                text = text.trim_end();
            }
            push_text(&mut nodes, text);
            let (inner, trim_after, tail) = split_action(inner_start)?;
            trim_next = trim_after;
            rest = tail;
            let inner_trimmed = inner.trim();
            if inner_trimmed.starts_with("/*") {
                if !inner_trimmed.ends_with("*/") {
                    return Err("unclosed comment: expected `*/}}`".into());
                }
                continue;
            }
            let mut lexer = Lexer::new(inner);
            let pipeline = parse_pipeline(&mut lexer)?;
            if let Some(t) = lexer.next()? {
                return Err(format!("unexpected {} in the action `{{{{{inner}}}}}`", t.show()));
            }
            nodes.push(Node::Action(pipeline));
        }
        let per_query = nodes.iter().any(|n| match n {
            Node::Action(p) => p.per_query(),
            Node::Text(_) => false,
        });
        Ok(Tmpl {
            source: source.to_string(),
            nodes,
            per_query,
        })
    }
}

fn push_text(nodes: &mut Vec<Node>, text: &str) {
    if !text.is_empty() {
        nodes.push(Node::Text(text.to_string()));
    }
}

/// The action's inside, whether it ends with ` -}}`, and the text after `}}` (braces inside
/// quoted strings do not close it).
fn split_action(s: &str) -> Result<(&str, bool, &str), String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' && q == b'"' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'`' => quote = Some(b),
            None if s[i..].starts_with(" -}}") => return Ok((&s[..i], true, &s[i + 4..])),
            None if s[i..].starts_with("}}") => return Ok((&s[..i], false, &s[i + 2..])),
            None => {}
        }
        i += 1;
    }
    Err("unclosed action: expected `}}`".into())
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Field(String),
    Ident(String),
    Str(String),
    Int(i64),
    Open,
    Close,
    Pipe,
}

impl Tok {
    fn show(&self) -> String {
        match self {
            Tok::Field(f) => format!("`{f}`"),
            Tok::Ident(i) => format!("`{i}`"),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::Pipe => "`|`".into(),
        }
    }
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    peeked: Option<Tok>,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer {
            chars: s.chars().peekable(),
            peeked: None,
        }
    }

    fn peek(&mut self) -> Result<Option<&Tok>, String> {
        if self.peeked.is_none() {
            self.peeked = self.lex()?;
        }
        Ok(self.peeked.as_ref())
    }

    fn next(&mut self) -> Result<Option<Tok>, String> {
        match self.peeked.take() {
            Some(t) => Ok(Some(t)),
            None => self.lex(),
        }
    }

    fn word(&mut self, first: char) -> String {
        let mut w = String::from(first);
        while let Some(c) = self.chars.next_if(|c| c.is_alphanumeric() || *c == '_' || *c == '.') {
            w.push(c);
        }
        w
    }

    fn lex(&mut self) -> Result<Option<Tok>, String> {
        while self.chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(c) = self.chars.next() else {
            return Ok(None);
        };
        Ok(Some(match c {
            '(' => Tok::Open,
            ')' => Tok::Close,
            '|' => Tok::Pipe,
            '.' => Tok::Field(self.word('.')),
            '"' => Tok::Str(self.quoted()?),
            '`' => {
                let s: String = self.chars.by_ref().take_while(|&c| c != '`').collect();
                Tok::Str(s)
            }
            '$' => return Err(format!("template variables (`{}`) are not supported", self.word('$'))),
            c if c.is_ascii_digit() || c == '-' || c == '+' => {
                let w = self.word(c);
                Tok::Int(parse_int(&w).ok_or_else(|| format!("`{w}` is not an integer"))?)
            }
            c if c.is_alphabetic() || c == '_' => Tok::Ident(self.word(c)),
            c => return Err(format!("unexpected `{c}` in an action")),
        }))
    }

    fn quoted(&mut self) -> Result<String, String> {
        let mut s = String::new();
        loop {
            match self.chars.next() {
                None => return Err("unterminated quoted string in an action".into()),
                Some('"') => return Ok(s),
                Some('\\') => match self.chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('\\') => s.push('\\'),
                    Some('"') => s.push('"'),
                    Some(c) => return Err(format!("unsupported escape `\\{c}` in a string")),
                    None => return Err("unterminated quoted string in an action".into()),
                },
                Some(c) => s.push(c),
            }
        }
    }
}

/// A Go integer literal: decimal, `0x`, `0o`, `0b`, with an optional sign.
fn parse_int(w: &str) -> Option<i64> {
    let (neg, digits) = match w.as_bytes().first() {
        Some(b'-') => (true, &w[1..]),
        Some(b'+') => (false, &w[1..]),
        _ => (false, w),
    };
    let digits = digits.replace('_', "");
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else {
        (10, lower.as_str())
    };
    let n = i64::from_str_radix(body, radix).ok()?;
    Some(if neg { -n } else { n })
}

fn parse_pipeline(lx: &mut Lexer<'_>) -> Result<Pipeline, String> {
    let mut cmds = vec![parse_cmd(lx)?];
    while lx.peek()? == Some(&Tok::Pipe) {
        lx.next()?;
        match parse_cmd(lx)? {
            Cmd::Value(_) => return Err("only a function may follow `|` in a pipeline".into()),
            call => cmds.push(call),
        }
    }
    Ok(Pipeline(cmds))
}

fn parse_cmd(lx: &mut Lexer<'_>) -> Result<Cmd, String> {
    let func = match lx.peek()? {
        None => return Err("missing value in an action".into()),
        Some(Tok::Ident(name)) => function(name)?,
        Some(Tok::Field(f)) if f == ".Meta" => Some(Func::Meta),
        _ => None,
    };
    if func.is_some() {
        lx.next()?;
    }
    let mut args = Vec::new();
    while let Some(t) = lx.peek()? {
        if matches!(t, Tok::Pipe | Tok::Close) {
            break;
        }
        args.push(parse_operand(lx)?);
    }
    match func {
        Some(f) => {
            check_arity(f, args.len())?;
            Ok(Cmd::Call(f, args))
        }
        None if args.len() == 1 => Ok(Cmd::Value(args.remove(0))),
        None => Err("can't give an argument to a non-function".into()),
    }
}

/// At most this many arguments (a piped value may add the last; the count is checked again
/// when the template runs).
fn check_arity(f: Func, n: usize) -> Result<(), String> {
    let (name, max) = match f {
        Func::Len => ("len", 1),
        Func::ParseInt => ("parseInt", 3),
        Func::Meta => (".Meta", 1),
        Func::Index | Func::Print | Func::Println | Func::Printf => return Ok(()),
    };
    if n > max {
        return Err(format!("wrong number of arguments for {name}: want at most {max}, got {n}"));
    }
    Ok(())
}

fn function(name: &str) -> Result<Option<Func>, String> {
    Ok(Some(match name {
        "index" => Func::Index,
        "len" => Func::Len,
        "parseInt" => Func::ParseInt,
        "print" => Func::Print,
        "printf" => Func::Printf,
        "println" => Func::Println,
        "true" | "false" => return Ok(None),
        "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block" | "break"
        | "continue" => {
            return Err(format!(
                "`{{{{ {name} }}}}` is not supported: Cairn's templates have no control structures"
            ))
        }
        "and" | "or" | "not" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "html" | "js"
        | "urlquery" | "slice" | "call" | "nil" => {
            return Err(format!("function `{name}` is not supported: expected one of {FUNCS}"))
        }
        _ => return Err(format!("function `{name}` is not defined: expected one of {FUNCS}")),
    }))
}

fn parse_operand(lx: &mut Lexer<'_>) -> Result<Operand, String> {
    match lx.next()? {
        Some(Tok::Field(f)) => field(&f).map(Operand::Field),
        Some(Tok::Str(s)) => Ok(Operand::Str(s)),
        Some(Tok::Int(n)) => Ok(Operand::Int(n)),
        Some(Tok::Ident(i)) if i == "true" || i == "false" => Ok(Operand::Bool(i == "true")),
        Some(Tok::Ident(i)) => Err(format!(
            "function `{i}` used as an argument: put it in parentheses, `({i} ...)`"
        )),
        Some(Tok::Open) => {
            let p = parse_pipeline(lx)?;
            match lx.next()? {
                Some(Tok::Close) => Ok(Operand::Pipe(Box::new(p))),
                _ => Err("unclosed `(`: expected `)`".into()),
            }
        }
        Some(t) => Err(format!("unexpected {}", t.show())),
        None => Err("missing value in an action".into()),
    }
}

fn field(f: &str) -> Result<Field, String> {
    let path: Vec<&str> = f.split('.').skip(1).collect();
    Ok(match path.as_slice() {
        ["Name"] => Field::Name,
        ["Zone"] => Field::Zone,
        ["Class"] => Field::Class,
        ["Type"] => Field::Type,
        ["Regex"] => Field::Regex,
        ["Remote"] => Field::Remote,
        ["Match"] => Field::Match,
        ["Group"] => Field::Group(None),
        ["Group", name] if !name.is_empty() => Field::Group(Some(name.to_string())),
        ["Question", "Name"] => Field::QuestionName,
        ["Question", "Qtype"] => Field::QuestionQtype,
        ["Question", "Qclass"] => Field::QuestionQclass,
        ["Message", m] => Field::Message(match *m {
            "Id" => MessageField::Id,
            "Opcode" => MessageField::Opcode,
            "RecursionDesired" => MessageField::RecursionDesired,
            "CheckingDisabled" => MessageField::CheckingDisabled,
            "AuthenticatedData" => MessageField::AuthenticatedData,
            _ => return Err(format!("field `{f}` is not supported: expected one of {FIELDS}")),
        }),
        ["Var", ..] => {
            return Err(format!("`{f}` is not supported: Cairn has no `var` option"));
        }
        [""] => return Err("`.` alone is not supported: name a field, such as `.Name`".into()),
        _ => return Err(format!("field `{f}` is not supported: expected one of {FIELDS}")),
    })
}
