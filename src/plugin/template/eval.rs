//! Runs a parsed template ([`super::text::Tmpl`]) against one query's data, printing values the
//! way Go's `fmt` prints them (`[a b]` for `.Match`, `map[a:b]` for `.Group`, `<no value>` for a
//! group that is not there) and failing as Go's template would (an index out of range, a
//! `parseInt` of something not a number).

use std::borrow::Cow;
use std::fmt::Write as _;

use hickory_proto::op::{Message, Query};

use super::text::{Cmd, Field, Func, MessageField, Node, Operand, Pipeline, Tmpl};

/// What the templates of one matched query see (CoreDNS's `templateData`).
pub struct Data<'a> {
    /// The question's name, lower-case, fully qualified.
    pub name: &'a str,
    /// The template's zone the name is in.
    pub zone: &'a str,
    pub class: String,
    pub rtype: String,
    pub regex: &'a str,
    /// The client's address (no port).
    pub remote: String,
    /// The whole match, then each group (`index .Match 1`).
    pub matches: Vec<String>,
    /// Every group by number and by name, sorted by key (as Go prints a map).
    pub groups: Vec<(String, String)>,
    pub question: &'a Query,
    pub message: &'a Message,
}

#[derive(Clone, Debug)]
enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Uint(u64),
    Bool(bool),
    List(&'a [String]),
    Map(&'a [(String, String)]),
    /// A map key that is not there, printed as Go does.
    Missing,
}

impl Value<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint64",
            Value::Bool(_) => "bool",
            Value::List(_) => "[]string",
            Value::Map(_) => "map[string]string",
            Value::Missing => "<no value>",
        }
    }

    fn is_string(&self) -> bool {
        matches!(self, Value::Str(_))
    }

    fn int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Uint(n) => i64::try_from(*n).ok(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
            Value::Uint(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(l) => write!(f, "[{}]", l.join(" ")),
            Value::Map(m) => {
                let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                write!(f, "map[{}]", pairs.join(" "))
            }
            Value::Missing => f.write_str("<no value>"),
        }
    }
}

/// The template's text for this query, or why it failed.
pub fn render(t: &Tmpl, data: &Data<'_>) -> Result<String, String> {
    let mut out = String::new();
    for node in &t.nodes {
        match node {
            Node::Text(s) => out.push_str(s),
            Node::Action(p) => {
                let _ = write!(out, "{}", pipeline(p, data)?);
            }
        }
    }
    Ok(out)
}

fn pipeline<'a>(p: &'a Pipeline, data: &'a Data<'a>) -> Result<Value<'a>, String> {
    let mut piped: Option<Value<'a>> = None;
    for cmd in &p.0 {
        piped = Some(match cmd {
            Cmd::Value(o) => operand(o, data)?,
            Cmd::Call(f, args) => {
                let mut values = args
                    .iter()
                    .map(|a| operand(a, data))
                    .collect::<Result<Vec<_>, _>>()?;
                values.extend(piped.take());
                call(*f, values)?
            }
        });
    }
    piped.ok_or_else(|| "empty pipeline".to_string())
}

fn operand<'a>(o: &'a Operand, d: &'a Data<'a>) -> Result<Value<'a>, String> {
    let s = |s: &'a str| Value::Str(Cow::Borrowed(s));
    Ok(match o {
        Operand::Str(v) => s(v),
        Operand::Int(n) => Value::Int(*n),
        Operand::Bool(b) => Value::Bool(*b),
        Operand::Pipe(p) => pipeline(p, d)?,
        Operand::Field(f) => match f {
            Field::Name => s(d.name),
            Field::Zone => s(d.zone),
            Field::Class => s(&d.class),
            Field::Type => s(&d.rtype),
            Field::Regex => s(d.regex),
            Field::Remote => s(&d.remote),
            Field::Match => Value::List(&d.matches),
            Field::Group(None) => Value::Map(&d.groups),
            Field::Group(Some(key)) => group(&d.groups, key).map_or(Value::Missing, s),
            Field::QuestionName => Value::Str(Cow::Owned(d.question.name().to_string())),
            Field::QuestionQtype => Value::Uint(u16::from(d.question.query_type()).into()),
            Field::QuestionQclass => Value::Uint(u16::from(d.question.query_class()).into()),
            Field::Message(m) => {
                let h = &d.message.metadata;
                match m {
                    MessageField::Id => Value::Uint(h.id.into()),
                    MessageField::Opcode => Value::Uint(u8::from(h.op_code).into()),
                    MessageField::RecursionDesired => Value::Bool(h.recursion_desired),
                    MessageField::CheckingDisabled => Value::Bool(h.checking_disabled),
                    MessageField::AuthenticatedData => Value::Bool(h.authentic_data),
                }
            }
        },
    })
}

fn group<'a>(groups: &'a [(String, String)], key: &str) -> Option<&'a str> {
    groups
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn call(f: Func, args: Vec<Value<'_>>) -> Result<Value<'_>, String> {
    match f {
        Func::Meta => Ok(Value::Str(Cow::Borrowed(""))),
        Func::Index => index(args),
        Func::Len => match args.as_slice() {
            [Value::Str(s)] => Ok(Value::Int(s.len() as i64)),
            [Value::List(l)] => Ok(Value::Int(l.len() as i64)),
            [Value::Map(m)] => Ok(Value::Int(m.len() as i64)),
            [v] => Err(format!("len of type {}", v.type_name())),
            _ => Err(format!("wrong number of args for len: want 1 got {}", args.len())),
        },
        Func::ParseInt => match args.as_slice() {
            [Value::Str(s), base, bits] => match (base.int(), bits.int()) {
                (Some(base), Some(bits)) => parse_uint(s, base, bits).map(Value::Uint),
                _ => Err("parseInt: the base and bit size must be integers".into()),
            },
            [v, _, _] => Err(format!("parseInt: want a string, got {}", v.type_name())),
            _ => Err(format!("wrong number of args for parseInt: want 3 got {}", args.len())),
        },
        Func::Print => Ok(Value::Str(Cow::Owned(sprint(&args, false)))),
        Func::Println => Ok(Value::Str(Cow::Owned(sprint(&args, true)))),
        Func::Printf => match args.split_first() {
            Some((Value::Str(format), rest)) => Ok(Value::Str(Cow::Owned(sprintf(format, rest)))),
            Some((v, _)) => Err(format!("printf: the format must be a string, got {}", v.type_name())),
            None => Err("wrong number of args for printf: want at least 1 got 0".into()),
        },
    }
}

fn index(args: Vec<Value<'_>>) -> Result<Value<'_>, String> {
    let mut it = args.into_iter();
    let mut v = it.next().ok_or("wrong number of args for index: want at least 1 got 0")?;
    for i in it {
        v = match (&v, &i) {
            (Value::List(l), i) => {
                let n = i.int().ok_or_else(|| format!("cannot index slice with type {}", i.type_name()))?;
                let at = usize::try_from(n).ok().filter(|&n| n < l.len());
                let at = at.ok_or_else(|| format!("error calling index: index out of range: {n}"))?;
                Value::Str(Cow::Owned(l[at].clone()))
            }
            (Value::Map(m), Value::Str(k)) => {
                Value::Str(Cow::Owned(group(m, k).unwrap_or_default().to_string()))
            }
            (Value::Str(s), i) if i.int().is_some() => {
                let n = i.int().unwrap_or(-1);
                let at = usize::try_from(n).ok().filter(|&n| n < s.len());
                let at = at.ok_or_else(|| format!("error calling index: index out of range: {n}"))?;
                Value::Uint(s.as_bytes()[at].into())
            }
            (v, i) => {
                return Err(format!("cannot index {} with {}", v.type_name(), i.type_name()));
            }
        };
    }
    Ok(v)
}

/// Go's `strconv.ParseUint(s, base, bits)`.
fn parse_uint(s: &str, base: i64, bits: i64) -> Result<u64, String> {
    let fail = |why: &str| format!("strconv.ParseUint: parsing {s:?}: {why}");
    let bits = if bits == 0 { 64 } else { bits };
    if !(1..=64).contains(&bits) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid bit size {bits}"));
    }
    let (radix, digits) = match base {
        0 => {
            let lower = s.to_ascii_lowercase();
            let (r, skip) = match lower.get(..2) {
                Some("0x") => (16, 2),
                Some("0o") => (8, 2),
                Some("0b") => (2, 2),
                _ if lower.len() > 1 && lower.starts_with('0') => (8, 1),
                _ => (10, 0),
            };
            (r, s[skip..].replace('_', ""))
        }
        2..=36 => (base as u32, s.to_string()),
        _ => return Err(format!("strconv.ParseUint: parsing {s:?}: invalid base {base}")),
    };
    if digits.is_empty() || digits.starts_with('+') || digits.starts_with('-') {
        return Err(fail("invalid syntax"));
    }
    let n = u64::from_str_radix(&digits, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => fail("value out of range"),
        _ => fail("invalid syntax"),
    })?;
    if bits < 64 && n >> bits != 0 {
        return Err(fail("value out of range"));
    }
    Ok(n)
}

/// Go's `fmt.Sprint` (spaces between operands neither of which is a string) or `Sprintln`.
fn sprint(args: &[Value<'_>], line: bool) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && (line || !(a.is_string() || args[i - 1].is_string())) {
            out.push(' ');
        }
        let _ = write!(out, "{a}");
    }
    if line {
        out.push('\n');
    }
    out
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%v %s %d %x %X %o %b %q %t %%`, with the
/// flags `-` and `0`, a width, and a precision for strings.
fn sprintf(format: &str, args: &[Value<'_>]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero) = (false, false);
        while let Some(f) = chars.next_if(|c| "-+# 0".contains(*c)) {
            left |= f == '-';
            zero |= f == '0';
        }
        let mut width = 0usize;
        while let Some(d) = chars.next_if(char::is_ascii_digit) {
            width = width * 10 + d.to_digit(10).unwrap_or(0) as usize;
        }
        let mut precision = None;
        if chars.next_if_eq(&'.').is_some() {
            let mut p = 0usize;
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                p = p * 10 + d.to_digit(10).unwrap_or(0) as usize;
            }
            precision = Some(p);
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        let text = match (verb, arg) {
            ('v', a) => a.to_string(),
            ('s', Value::Str(s)) => match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            },
            ('s', a @ (Value::List(_) | Value::Map(_) | Value::Missing)) => a.to_string(),
            ('q', Value::Str(s)) => format!("{s:?}"),
            ('t', Value::Bool(b)) => b.to_string(),
            ('d', Value::Int(n)) => n.to_string(),
            ('d', Value::Uint(n)) => n.to_string(),
            ('x', Value::Int(n)) => format!("{n:x}"),
            ('x', Value::Uint(n)) => format!("{n:x}"),
            ('X', Value::Int(n)) => format!("{n:X}"),
            ('X', Value::Uint(n)) => format!("{n:X}"),
            ('o', Value::Int(n)) => format!("{n:o}"),
            ('o', Value::Uint(n)) => format!("{n:o}"),
            ('b', Value::Int(n)) => format!("{n:b}"),
            ('b', Value::Uint(n)) => format!("{n:b}"),
            ('x', Value::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            ('X', Value::Str(s)) => s.bytes().map(|b| format!("{b:02X}")).collect(),
            (v, a) => format!("%!{v}({}={a})", a.type_name()),
        };
        let pad = width.saturating_sub(text.chars().count());
        let fill = if zero && !left { '0' } else { ' ' };
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if fill == '0' && text.starts_with('-') {
            out.push('-');
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(&text[1..]);
        } else {
            out.extend(std::iter::repeat_n(fill, pad));
            out.push_str(&text);
        }
    }
    let extra: Vec<String> = args.map(|a| format!("{}={a}", a.type_name())).collect();
    if !extra.is_empty() {
        let _ = write!(out, "%!(EXTRA {})", extra.join(", "));
    }
    out
}
