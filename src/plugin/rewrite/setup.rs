//! Reading one `rewrite` directive into a [`Rule`]: `rewrite [continue|stop] FIELD ARGS...`, or
//! the same words split over the lines of a block (`rewrite stop { name regex A B \n answer
//! name C D }`), as CoreDNS reads them. Every error names the line of the word it is about and
//! what was expected.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RecordType};

use super::rule::{
    parse_name, Action, AnswerField, AnswerRule, Match, Mode, NameRewrite, NameRule, Pattern, Rule,
};
use crate::corefile::{ConfigError, Directive};

/// CoreDNS's limit on a regular expression's length.
pub const MAX_REGEX_LEN: usize = 10_000;

const USAGE: &str = "rewrite [continue|stop] name|type|class|ttl|rcode|edns0 ...";

/// One word of the rule, and the line it is on.
#[derive(Clone, Copy)]
pub(super) struct Word<'a> {
    pub text: &'a str,
    pub line: usize,
}

/// The words of a rule, read front to back.
pub(super) struct Words<'a> {
    d: &'a Directive,
    words: Vec<Word<'a>>,
}

impl Words<'_> {
    /// An error at the line of `w`.
    pub fn err(&self, w: Word<'_>, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.d.file, w.line, message)
    }

    /// An error at the line of the last word (something is missing after it).
    pub fn missing(&self, message: impl Into<String>) -> ConfigError {
        let line = self.words.last().map_or(self.d.line, |w| w.line);
        ConfigError::new(&self.d.file, line, message)
    }
}

/// Reads one `rewrite` directive.
pub fn parse(d: &Directive) -> Result<Rule, ConfigError> {
    let words = words(d)?;
    let w = &words.words;
    let (mode, rest) = match w.first().map(|w| w.text.to_ascii_lowercase()).as_deref() {
        Some("stop") => (Mode::Stop, &w[1..]),
        Some("continue") => (Mode::Continue, &w[1..]),
        _ => (Mode::Stop, &w[..]),
    };
    let Some((field, args)) = rest.split_first() else {
        return Err(words.missing(format!("expected a rule: `{USAGE}`")));
    };
    let action = match field.text.to_ascii_lowercase().as_str() {
        "name" => Action::Name(name_rule(&words, *field, args)?),
        "type" => {
            let [from, to] = two(&words, *field, args)?;
            Action::Type {
                from: record_type(&words, from)?,
                to: record_type(&words, to)?,
            }
        }
        "class" => {
            let [from, to] = two(&words, *field, args)?;
            Action::Class {
                from: class(&words, from)?,
                to: class(&words, to)?,
            }
        }
        "ttl" => ttl_rule(&words, *field, args)?,
        "rcode" => rcode_rule(&words, *field, args)?,
        "edns0" => Action::Edns0(super::edns0::parse(&words, *field, args)?),
        "answer" => {
            return Err(words.err(*field, "response rewrites must begin with a name rule"))
        }
        "cname" => {
            return Err(words.err(*field, "the `cname` rewrite rule is not supported yet"))
        }
        _ => {
            return Err(words.err(
                *field,
                format!(
                    "invalid rule type `{}`: expected name, type, class, ttl, rcode or edns0",
                    field.text
                ),
            ))
        }
    };
    Ok(Rule { mode, action })
}

/// The rule's words: the directive's arguments, then (after `rewrite`, `rewrite stop` or
/// `rewrite continue` only) every word of its block, line by line.
fn words(d: &Directive) -> Result<Words<'_>, ConfigError> {
    let mut words: Vec<Word<'_>> = d
        .args
        .iter()
        .map(|t| Word {
            text: &t.text,
            line: t.line,
        })
        .collect();
    if let Some(block) = &d.block {
        if words.len() > 1 {
            return Err(ConfigError::new(
                &d.file,
                d.line,
                "a `rewrite` block follows only `rewrite`, `rewrite stop` or `rewrite continue`",
            ));
        }
        for line in block {
            if line.block.is_some() {
                return Err(ConfigError::new(
                    &line.file,
                    line.line,
                    format!("unexpected `{{` after `{}` in a rewrite block", line.name),
                ));
            }
            words.push(Word {
                text: &line.name,
                line: line.line,
            });
            words.extend(line.args.iter().map(|t| Word {
                text: &t.text,
                line: t.line,
            }));
        }
    }
    Ok(Words { d, words })
}

/// Exactly two arguments.
fn two<'a>(words: &Words<'_>, field: Word<'_>, args: &[Word<'a>]) -> Result<[Word<'a>; 2], ConfigError> {
    match args {
        [from, to] => Ok([*from, *to]),
        _ => Err(words.err(
            field,
            format!(
                "{} rules take exactly two arguments (`{} FROM TO`), got {}",
                field.text,
                field.text,
                args.len()
            ),
        )),
    }
}

fn record_type(words: &Words<'_>, w: Word<'_>) -> Result<RecordType, ConfigError> {
    w.text.to_ascii_uppercase().parse().map_err(|_| {
        words.err(
            w,
            format!("invalid type `{}`: expected a record type such as A, AAAA or ANY", w.text),
        )
    })
}

fn class(words: &Words<'_>, w: Word<'_>) -> Result<DNSClass, ConfigError> {
    w.text.to_ascii_uppercase().parse().map_err(|_| {
        words.err(
            w,
            format!("invalid class `{}`: expected IN, CH, HS, NONE or ANY", w.text),
        )
    })
}

/// CoreDNS's normal form of a name argument: lower-case, fully qualified.
fn normalize(text: &str) -> String {
    let mut s = text.to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

fn dns_name(words: &Words<'_>, w: Word<'_>) -> Result<Name, ConfigError> {
    parse_name(&normalize(w.text))
        .ok_or_else(|| words.err(w, format!("`{}` is not a valid DNS name", w.text)))
}

/// A regex, its length limited as CoreDNS limits it.
fn pattern(words: &Words<'_>, w: Word<'_>) -> Result<Pattern, ConfigError> {
    if w.text.len() > MAX_REGEX_LEN {
        return Err(words.err(
            w,
            format!(
                "regex pattern too long: {} > {MAX_REGEX_LEN} characters",
                w.text.len()
            ),
        ));
    }
    regex::Regex::new(w.text)
        .map(Pattern)
        .map_err(|e| words.err(w, format!("invalid regex `{}`: {e}", w.text)))
}

/// Checks that every `{N}` in `to` names a group of `from`.
fn groups_exist(
    words: &Words<'_>,
    from: &Pattern,
    to: Word<'_>,
) -> Result<(), ConfigError> {
    let groups = from.0.captures_len() - 1;
    let mut rest = to.text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with('}') {
            let n: usize = after[..digits].parse().unwrap_or(usize::MAX);
            if n > groups {
                return Err(words.err(
                    to,
                    format!(
                        "`{}` uses {{{n}}} but `{}` has {groups} group{}",
                        to.text,
                        from.0.as_str(),
                        if groups == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        rest = after;
    }
    Ok(())
}

/// Reads a name match type, or `None` when `w` is not one.
fn match_type(w: Word<'_>) -> Option<&'static str> {
    let t = w.text.to_ascii_lowercase();
    ["exact", "prefix", "suffix", "substring", "regex"]
        .into_iter()
        .find(|k| *k == t)
}

const NAME_USAGE: &str =
    "name [exact|prefix|suffix|substring|regex] FROM TO [answer auto | answer name|value FROM TO ...]";

fn name_rule(words: &Words<'_>, field: Word<'_>, args: &[Word<'_>]) -> Result<NameRule, ConfigError> {
    let (kind, from, to, options) = match args {
        [from, to] => ("exact", *from, *to, &[][..]),
        [kind, from, to, options @ ..] => {
            let Some(k) = match_type(*kind) else {
                return Err(words.err(
                    *kind,
                    format!(
                        "invalid match type `{}` for a name rule: expected exact, prefix, suffix, substring or regex (`{NAME_USAGE}`)",
                        kind.text
                    ),
                ));
            };
            (k, *from, *to, options)
        }
        _ => {
            return Err(words.err(
                field,
                format!("too few arguments for a name rule: `{NAME_USAGE}`"),
            ))
        }
    };
    let (auto, answers) = answer_options(words, kind, options)?;
    let rewrite = match kind {
        "exact" => NameRewrite::Exact {
            from: dns_name(words, from)?,
            to: dns_name(words, to)?,
        },
        "prefix" => NameRewrite::Prefix {
            from: normalize(from.text),
            to: normalize(to.text),
        },
        "suffix" => NameRewrite::Suffix {
            from: normalize(from.text),
            to: normalize(to.text),
        },
        "substring" => NameRewrite::Substring {
            from: normalize(from.text),
            to: normalize(to.text),
        },
        _ => {
            let pattern = pattern(words, from)?;
            groups_exist(words, &pattern, to)?;
            NameRewrite::Regex {
                from: pattern,
                to: normalize(to.text),
            }
        }
    };
    Ok(NameRule {
        auto: auto || kind == "exact",
        rewrite,
        answers,
    })
}

/// `answer auto | answer name FROM TO | answer value FROM TO`, repeated (`answer` may be left
/// out after the first); `auto` does not go with `answer name`.
fn answer_options(
    words: &Words<'_>,
    kind: &str,
    options: &[Word<'_>],
) -> Result<(bool, Vec<AnswerRule>), ConfigError> {
    let mut auto = false;
    let mut answers = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let w = options[i];
        if w.text == "answer" {
            i += 1;
        } else if i == 0 {
            return Err(words.err(
                w,
                format!(
                    "unexpected `{}` after the {kind} name rule's FROM and TO: expected `answer auto`, `answer name FROM TO` or `answer value FROM TO`",
                    w.text
                ),
            ));
        }
        let Some(what) = options.get(i) else {
            return Err(words.missing(format!(
                "expected `auto`, `name FROM TO` or `value FROM TO` after `answer` in the {kind} name rule"
            )));
        };
        i += 1;
        let field = match what.text {
            "auto" => {
                auto = true;
                continue;
            }
            "name" => AnswerField::Name,
            "value" => AnswerField::Value,
            other => {
                return Err(words.err(
                    *what,
                    format!(
                        "invalid answer rewrite `{other}` in the {kind} name rule: expected auto, name or value"
                    ),
                ))
            }
        };
        let (Some(from), Some(to)) = (options.get(i), options.get(i + 1)) else {
            return Err(words.missing(format!(
                "`answer {}` in the {kind} name rule takes 2 arguments, FROM and TO",
                what.text
            )));
        };
        let pattern = pattern(words, *from)?;
        groups_exist(words, &pattern, *to)?;
        answers.push(AnswerRule {
            field,
            from: pattern,
            to: normalize(to.text),
        });
        i += 2;
    }
    if auto && answers.iter().any(|a| a.field == AnswerField::Name) {
        return Err(words.missing(
            "`answer auto` cannot be combined with `answer name FROM TO` in one name rule",
        ));
    }
    Ok((auto, answers))
}

/// The name match of a `ttl` or `rcode` rule.
fn name_match(words: &Words<'_>, kind: Word<'_>, name: Word<'_>, rule: &str) -> Result<Match, ConfigError> {
    let Some(k) = match_type(kind) else {
        return Err(words.err(
            kind,
            format!(
                "invalid match type `{}` for a {rule} rule: expected exact, prefix, suffix, substring or regex",
                kind.text
            ),
        ));
    };
    Ok(match k {
        "exact" => Match::Exact(dns_name(words, name)?),
        "prefix" => Match::Prefix(normalize(name.text)),
        "suffix" => Match::Suffix(normalize(name.text)),
        "substring" => Match::Substring(normalize(name.text)),
        _ => Match::Regex(pattern(words, name)?),
    })
}

fn ttl_rule(words: &Words<'_>, field: Word<'_>, args: &[Word<'_>]) -> Result<Action, ConfigError> {
    let (name, ttl) = match args {
        [name, ttl] => (Match::Exact(dns_name(words, *name)?), *ttl),
        [kind, name, ttl] => (name_match(words, *kind, *name, "ttl")?, *ttl),
        _ => {
            return Err(words.err(
                field,
                format!(
                    "a ttl rule takes 2 or 3 arguments (`ttl [exact|prefix|suffix|substring|regex] NAME SECONDS|MIN-MAX`), got {}",
                    args.len()
                ),
            ))
        }
    };
    let Some((min, max)) = ttl_range(ttl.text) else {
        return Err(words.err(
            ttl,
            format!(
                "invalid TTL `{}` for a ttl rule: expected SECONDS or MIN-MAX (either side may be left out, MIN <= MAX)",
                ttl.text
            ),
        ));
    };
    Ok(Action::Ttl { name, min, max })
}

/// `SECONDS`, `MIN-MAX`, `MIN-` or `-MAX`, as CoreDNS reads them (an open top is 2^31-1).
pub fn ttl_range(text: &str) -> Option<(u32, u32)> {
    let Some((lo, hi)) = text.split_once('-') else {
        let ttl = text.parse().ok()?;
        return Some((ttl, ttl));
    };
    if lo.is_empty() && hi.is_empty() {
        return None;
    }
    let min = if lo.is_empty() { 0 } else { lo.parse().ok()? };
    let max = if hi.is_empty() { i32::MAX as u32 } else { hi.parse().ok()? };
    (min <= max).then_some((min, max))
}

fn rcode_rule(words: &Words<'_>, field: Word<'_>, args: &[Word<'_>]) -> Result<Action, ConfigError> {
    let (name, from, to) = match args {
        [name, from, to] => (Match::Exact(dns_name(words, *name)?), *from, *to),
        [kind, name, from, to] => (name_match(words, *kind, *name, "rcode")?, *from, *to),
        _ => {
            return Err(words.err(
                field,
                format!(
                    "an rcode rule takes 3 or 4 arguments (`rcode [exact|prefix|suffix|substring|regex] NAME FROM TO`), got {}",
                    args.len()
                ),
            ))
        }
    };
    Ok(Action::Rcode {
        name,
        from: rcode(words, from)?,
        to: rcode(words, to)?,
    })
}

/// The rcodes by name, as Go's `dns.StringToRcode` has them.
const RCODES: [(&str, u16); 20] = [
    ("NOERROR", 0),
    ("FORMERR", 1),
    ("SERVFAIL", 2),
    ("NXDOMAIN", 3),
    ("NOTIMP", 4),
    ("REFUSED", 5),
    ("YXDOMAIN", 6),
    ("YXRRSET", 7),
    ("NXRRSET", 8),
    ("NOTAUTH", 9),
    ("NOTZONE", 10),
    ("BADSIG", 16),
    ("BADVERS", 16),
    ("BADKEY", 17),
    ("BADTIME", 18),
    ("BADMODE", 19),
    ("BADNAME", 20),
    ("BADALG", 21),
    ("BADTRUNC", 22),
    ("BADCOOKIE", 23),
];

fn rcode(words: &Words<'_>, w: Word<'_>) -> Result<ResponseCode, ConfigError> {
    let upper = w.text.to_ascii_uppercase();
    let code = match w.text.parse::<u16>() {
        Ok(n) if n <= 23 => Some(n),
        _ => RCODES.iter().find(|(n, _)| *n == upper).map(|(_, c)| *c),
    };
    code.map(<ResponseCode as From<u16>>::from).ok_or_else(|| {
        words.err(
            w,
            format!(
                "invalid rcode `{}`: expected a number from 0 to 23 or a name such as NOERROR, SERVFAIL or NXDOMAIN",
                w.text
            ),
        )
    })
}
