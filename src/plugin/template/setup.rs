//! Reading one `template CLASS TYPE [ZONE...] { ... }` directive into a [`Template`]: the
//! class and type, the zones (the block's when none are given), the regular expressions, the
//! parsed record templates, the rcode, the extended error and `fallthrough`. Every error names
//! the Corefile line and what was expected.

use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RecordType};
use regex::Regex;

use super::text::Tmpl;
use crate::corefile::args::{count, err, names, no_block, number};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::BlockContext;

/// CoreDNS's limit on a `match` expression.
const MAX_REGEX_LEN: usize = 10000;

/// One `template` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// `ANY` matches every class.
    pub class: DNSClass,
    /// `ANY` matches every type.
    pub qtype: RecordType,
    /// Lower-case FQDNs; the block's zones when none are given.
    pub zones: Vec<Name>,
    /// `match`: the first that matches the name wins; `.*` when none are given.
    pub regexes: Vec<Pattern>,
    pub answer: Vec<Tmpl>,
    pub additional: Vec<Tmpl>,
    pub authority: Vec<Tmpl>,
    pub rcode: ResponseCode,
    /// `ederror CODE [REASON]`: an Extended DNS Error (RFC 8914) in the answer's OPT.
    pub ederror: Option<(u16, String)>,
    /// `fallthrough [ZONES]`: a name no regex matches goes on (empty: every name).
    pub fallthrough: Option<Vec<Name>>,
}

/// A compiled `match` expression, compared by its text.
#[derive(Clone, Debug)]
pub struct Pattern(pub Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for Pattern {}

const USAGE: &str = "template CLASS TYPE [ZONE...] { ... }";
const OPTIONS: &str = "`match`, `answer`, `additional`, `authority`, `rcode`, `ederror` or `fallthrough`";

/// Reads one `template` directive.
pub fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Template, ConfigError> {
    count(d, 2, usize::MAX, USAGE)?;
    let args = d.arg_texts();
    let class = DNSClass::from_str(&args[0].to_ascii_uppercase())
        .ok()
        .filter(|c| !matches!(c, DNSClass::OPT(_) | DNSClass::Unknown(_)))
        .ok_or_else(|| {
            err(
                d,
                format!(
                    "template: invalid query class `{}`: expected IN, CH, HS, NONE or ANY",
                    args[0]
                ),
            )
        })?;
    let qtype = RecordType::from_str(&args[1].to_ascii_uppercase())
        .ok()
        .filter(|t| !matches!(t, RecordType::Unknown(_) | RecordType::ZERO))
        .ok_or_else(|| {
            err(
                d,
                format!(
                    "template: invalid query type `{}`: expected a record type such as A, AAAA, PTR or ANY",
                    args[1]
                ),
            )
        })?;
    let zones = if args.len() > 2 {
        names(d, &args[2..], "template")?
    } else {
        let zs: Vec<&str> = block.zones.iter().map(String::as_str).collect();
        names(d, &zs, "template")?
    };
    let mut t = Template {
        class,
        qtype,
        zones,
        regexes: Vec::new(),
        answer: Vec::new(),
        additional: Vec::new(),
        authority: Vec::new(),
        rcode: ResponseCode::NoError,
        ederror: None,
        fallthrough: None,
    };
    for o in d.block.iter().flatten() {
        option(&mut t, o)?;
    }
    if t.regexes.is_empty() {
        let all = Regex::new(".*").map_err(|e| err(d, e.to_string()))?;
        t.regexes.push(Pattern(all));
    }
    Ok(t)
}

fn option(t: &mut Template, o: &Directive) -> Result<(), ConfigError> {
    no_block(o, "template block")?;
    let args = o.arg_texts();
    match o.name.as_str() {
        "match" => {
            count(o, 1, usize::MAX, "match REGEX...")?;
            for re in args {
                if re.len() > MAX_REGEX_LEN {
                    return Err(err(
                        o,
                        format!("template: regex pattern too long: {} > {MAX_REGEX_LEN}", re.len()),
                    ));
                }
                let compiled = Regex::new(re).map_err(|e| {
                    let first = e.to_string();
                    let why = first.lines().last().unwrap_or_default().trim().to_string();
                    err(o, format!("template: could not parse regex `{re}`: {why}"))
                })?;
                t.regexes.push(Pattern(compiled));
            }
        }
        section @ ("answer" | "additional" | "authority") => {
            count(o, 1, usize::MAX, &format!("{section} RR..."))?;
            for text in args {
                let tmpl = Tmpl::parse(text).map_err(|why| {
                    err(o, format!("template: could not compile {section} template `{text}`: {why}"))
                })?;
                match section {
                    "answer" => t.answer.push(tmpl),
                    "additional" => t.additional.push(tmpl),
                    _ => t.authority.push(tmpl),
                }
            }
        }
        "rcode" => {
            count(o, 1, 1, "rcode CODE")?;
            t.rcode = rcode(args[0]).ok_or_else(|| {
                err(
                    o,
                    format!(
                        "template: unknown rcode `{}`: expected NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH or NOTZONE",
                        args[0]
                    ),
                )
            })?;
        }
        "ederror" => {
            count(o, 1, 2, "ederror EXTENDED_ERROR_CODE [EXTRA_REASON]")?;
            let code: u16 = number(
                o,
                args[0],
                "extended DNS error code",
                "an integer from 0 to 65535 (RFC 8914)",
            )?;
            t.ederror = Some((code, args.get(1).map(|s| s.to_string()).unwrap_or_default()));
        }
        "fallthrough" => t.fallthrough = Some(names(o, &args, "fallthrough")?),
        // Accepted and ignored by CoreDNS ("remove soon").
        "upstream" => {}
        "var" | "expr" => {
            return Err(err(
                o,
                format!(
                    "template option `{}` is not supported yet (expr-lang expressions)",
                    o.name
                ),
            ))
        }
        other => {
            return Err(err(
                o,
                format!("unknown property `{other}` in template block: expected {OPTIONS}"),
            ))
        }
    }
    Ok(())
}

/// A response code by CoreDNS's name for it (the ones a header carries without EDNS).
fn rcode(name: &str) -> Option<ResponseCode> {
    Some(match name.to_ascii_uppercase().as_str() {
        "NOERROR" => ResponseCode::NoError,
        "FORMERR" => ResponseCode::FormErr,
        "SERVFAIL" => ResponseCode::ServFail,
        "NXDOMAIN" => ResponseCode::NXDomain,
        "NOTIMP" => ResponseCode::NotImp,
        "REFUSED" => ResponseCode::Refused,
        "YXDOMAIN" => ResponseCode::YXDomain,
        "YXRRSET" => ResponseCode::YXRRSet,
        "NXRRSET" => ResponseCode::NXRRSet,
        "NOTAUTH" => ResponseCode::NotAuth,
        "NOTZONE" => ResponseCode::NotZone,
        _ => return None,
    })
}
