//! `log`'s FORMAT: CoreDNS's placeholders (`{type}`, `{name}`, `{remote}`, `{>rflags}`, …,
//! `{common}`, `{combined}`, `{/log/class}`, `{/log/type}`) read once into a list of parts, and
//! a line made from them for one answered query.
//!
//! The reading follows CoreDNS's replacer: each `}` closes the nearest `{` before it; a known
//! placeholder becomes a value, `{/LABEL}` a metadata label (only `log`'s own two are known to
//! Cairn, which has no metadata plugin: others print `-`), and anything else is kept as written.

use std::fmt::Write as _;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};

use crate::dns::response::Sections;
use crate::plugin::minimal::typify::{typify, Type};
use crate::plugin::Query;

/// CoreDNS's Common Log Format.
pub const COMMON: &str = "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}";
/// The Common Log Format with the query's opcode.
pub const COMBINED: &str = "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration} {>opcode}";

/// One value a line can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Type,
    Name,
    Class,
    Proto,
    Remote,
    Local,
    Size,
    Port,
    Duration,
    Rcode,
    Rsize,
    Rflags,
    Bufsize,
    Do,
    Id,
    Opcode,
    /// `{/log/class}`: success, denial or error.
    LogClass,
    /// `{/log/type}`: NOERROR, NXDOMAIN, NODATA, … (CoreDNS's response types).
    LogType,
    /// Another `{/LABEL}`: `-`.
    Metadata,
}

/// A part of a format: text as written, or a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Value(Value),
}

fn placeholder(label: &str) -> Option<Value> {
    Some(match label {
        "{type}" => Value::Type,
        "{name}" => Value::Name,
        "{class}" => Value::Class,
        "{proto}" => Value::Proto,
        "{remote}" => Value::Remote,
        "{local}" => Value::Local,
        "{size}" => Value::Size,
        "{port}" => Value::Port,
        "{duration}" => Value::Duration,
        "{rcode}" => Value::Rcode,
        "{rsize}" => Value::Rsize,
        "{>rflags}" => Value::Rflags,
        "{>bufsize}" => Value::Bufsize,
        "{>do}" => Value::Do,
        "{>id}" => Value::Id,
        "{>opcode}" => Value::Opcode,
        "{/log/class}" => Value::LogClass,
        "{/log/type}" => Value::LogType,
        _ if label.starts_with("{/") => Value::Metadata,
        _ => return None,
    })
}

/// Reads a FORMAT (`{common}` and `{combined}` expanded first, as CoreDNS does).
pub fn parse(format: &str) -> Vec<Part> {
    let format = format.replace("{common}", COMMON).replace("{combined}", COMBINED);
    let mut parts: Vec<Part> = Vec::new();
    let text = |parts: &mut Vec<Part>, s: &str| match parts.last_mut() {
        Some(Part::Text(t)) => t.push_str(s),
        _ if !s.is_empty() => parts.push(Part::Text(s.to_string())),
        _ => {}
    };
    let mut rest = format.as_str();
    while let Some(close) = rest.find('}') {
        let Some(open) = rest[..close].rfind('{') else {
            text(&mut parts, &rest[..=close]);
            rest = &rest[close + 1..];
            continue;
        };
        match placeholder(&rest[open..=close]) {
            Some(value) => {
                text(&mut parts, &rest[..open]);
                parts.push(Part::Value(value));
            }
            None => text(&mut parts, &rest[..=close]),
        }
        rest = &rest[close + 1..];
    }
    text(&mut parts, rest);
    parts
}

/// Whether a format needs the response decoded (`{/log/class}`, `{/log/type}`).
pub fn needs_type(parts: &[Part]) -> bool {
    parts
        .iter()
        .any(|p| matches!(p, Part::Value(Value::LogClass | Value::LogType)))
}

/// The response's type as CoreDNS's `response.Typify` names it, from the encoded answer.
pub fn response_type(query: &Query, response: &[u8]) -> Option<Type> {
    let m = Message::from_vec(response).ok()?;
    let sections = Sections {
        rcode: m.metadata.response_code,
        answers: m.answers,
        authorities: m.authorities,
        ..Sections::default()
    };
    Some(typify(query, &sections, std::time::SystemTime::now()))
}

/// CoreDNS's class of a response type: success, denial or error.
pub fn class_of(t: Type) -> &'static str {
    match t {
        Type::NoError | Type::Delegation | Type::Meta => "success",
        Type::NameError | Type::NoData => "denial",
        Type::ServerError | Type::OtherError => "error",
    }
}

fn type_name(t: Type) -> &'static str {
    match t {
        Type::NoError => "NOERROR",
        Type::NameError => "NXDOMAIN",
        Type::ServerError => "SERVFAIL",
        Type::NoData => "NODATA",
        Type::Delegation => "DELEGATION",
        Type::Meta => "META",
        Type::OtherError => "OTHERERROR",
    }
}

/// The address as RFC 3986 writes it in a URL: IPv6 in brackets.
fn bracketed(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// What one line is made of.
pub struct Line<'a> {
    pub query: &'a Query,
    pub rcode: ResponseCode,
    pub response: &'a [u8],
    pub elapsed: Duration,
    /// The response's type, when the format needs it.
    pub kind: Option<Type>,
}

/// The line `parts` make for one answered query.
pub fn render(parts: &[Part], l: &Line<'_>) -> String {
    let mut out = String::with_capacity(128);
    let request = &l.query.request;
    let q = request.query();
    let edns = request.edns();
    for part in parts {
        let _ = match part {
            Part::Text(t) => out.write_str(t),
            Part::Value(v) => match v {
                Value::Type => write!(out, "{}", q.query_type()),
                Value::Name => write!(out, "{}", q.name().to_lowercase()),
                Value::Class => write!(out, "{}", q.query_class()),
                Value::Proto => out.write_str(l.query.transport.as_str()),
                Value::Remote => out.write_str(&bracketed(l.query.client.ip())),
                Value::Local | Value::Metadata => out.write_str("-"),
                Value::Size => write!(out, "{}", l.query.request_size),
                Value::Port => write!(out, "{}", l.query.client.port()),
                Value::Duration => write!(out, "{}s", l.elapsed.as_secs_f64()),
                Value::Rcode => out.write_str(&crate::metrics::rcode_name(u16::from(l.rcode))),
                Value::Rsize => write!(out, "{}", l.response.len()),
                Value::Rflags => out.write_str(&super::response_flags(l.response)),
                Value::Bufsize => write!(out, "{}", edns.map_or(512, |e| e.max_payload().max(512))),
                Value::Do => write!(out, "{}", edns.is_some_and(|e| e.flags().dnssec_ok)),
                Value::Id => write!(out, "{}", request.message.metadata.id),
                Value::Opcode => write!(out, "{}", u8::from(request.message.metadata.op_code)),
                Value::LogClass => out.write_str(l.kind.map_or("-", class_of)),
                Value::LogType => out.write_str(l.kind.map_or("-", type_name)),
            },
        };
    }
    out
}
