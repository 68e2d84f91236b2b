//! The rules of `rewrite` as typed values, and how each matches and rewrites a question.
//!
//! Names are matched as CoreDNS matches them: `exact` compares DNS names (case-insensitively);
//! `prefix`, `suffix`, `substring` and `regex` look at the name's lower-case text, fully
//! qualified (`www.example.org.`). A rewritten name is read back as a DNS name; one that is not
//! valid (an empty label, over 255 bytes) fails the query, as CoreDNS's "invalid name after
//! rewrite" does.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RecordType};

use super::edns0::Edns0Rule;

/// What happens after a rule that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No later rule is tried (the default).
    Stop,
    /// The next rules are tried on the query as this one left it.
    Continue,
}

/// One `rewrite` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub mode: Mode,
    pub action: Action,
}

/// What a rule rewrites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The question's name (and the answer's names back).
    Name(NameRule),
    /// The question's type.
    Type { from: RecordType, to: RecordType },
    /// The question's class.
    Class { from: DNSClass, to: DNSClass },
    /// The answer's TTLs, for questions whose name matches: kept within `min..=max`.
    Ttl { name: Match, min: u32, max: u32 },
    /// The answer's rcode, for questions whose name matches.
    Rcode {
        name: Match,
        from: ResponseCode,
        to: ResponseCode,
    },
    /// An EDNS0 option of the query.
    Edns0(Edns0Rule),
}

impl Action {
    /// The rule's field, as the Corefile names it.
    pub fn field(&self) -> &'static str {
        match self {
            Action::Name(_) => "name",
            Action::Type { .. } => "type",
            Action::Class { .. } => "class",
            Action::Ttl { .. } => "ttl",
            Action::Rcode { .. } => "rcode",
            Action::Edns0(_) => "edns0",
        }
    }
}

/// A regular expression (RE2 syntax, as Go's), compared by its text.
#[derive(Clone, Debug)]
pub struct Pattern(pub regex::Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// `template` with `{N}` replaced by group N of the first match in `text`; `None` when
    /// nothing matches. A group that took no part in the match is empty.
    pub fn replace(&self, text: &str, template: &str) -> Option<String> {
        let groups = self.0.captures(text)?;
        let mut out = String::with_capacity(template.len() + text.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let group = (digits > 0 && after[digits..].starts_with('}'))
                .then(|| after[..digits].parse::<usize>().ok())
                .flatten();
            match group {
                Some(n) => {
                    out.push_str(groups.get(n).map_or("", |m| m.as_str()));
                    rest = &after[digits + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

/// How a `ttl` or `rcode` rule matches the question's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    Exact(Name),
    Prefix(String),
    Suffix(String),
    Substring(String),
    Regex(Pattern),
}

impl Match {
    pub fn matches(&self, subject: &mut Subject<'_>) -> bool {
        match self {
            Match::Exact(name) => subject.name == name,
            Match::Prefix(p) => subject.text().starts_with(p.as_str()),
            Match::Suffix(s) => subject.text().ends_with(s.as_str()),
            Match::Substring(s) => subject.text().contains(s.as_str()),
            Match::Regex(p) => p.0.is_match(subject.text()),
        }
    }
}

/// A `name` rule: how the question's name is rewritten, and how the answer's names are
/// rewritten back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRule {
    pub rewrite: NameRewrite,
    /// `answer auto` (always on for `exact`): names in the answer equal to the rewritten name or
    /// below it get the client's name back; for `suffix`, the new suffix becomes the old one.
    /// Both owner names and values (CNAME, SRV, MX, ... targets).
    pub auto: bool,
    /// `answer name FROM TO` and `answer value FROM TO`, in the order written.
    pub answers: Vec<AnswerRule>,
}

/// The question rewrite of a `name` rule. `FROM`/`TO` texts are lower-case and fully
/// qualified, as CoreDNS normalises them (`prefix foo bar` matches `foo.` at the start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRewrite {
    Exact { from: Name, to: Name },
    Prefix { from: String, to: String },
    Suffix { from: String, to: String },
    Substring { from: String, to: String },
    /// `to` with `{N}` for the groups of `from`.
    Regex { from: Pattern, to: String },
}

impl NameRewrite {
    /// The match type, as the Corefile names it.
    pub fn kind(&self) -> &'static str {
        match self {
            NameRewrite::Exact { .. } => "exact",
            NameRewrite::Prefix { .. } => "prefix",
            NameRewrite::Suffix { .. } => "suffix",
            NameRewrite::Substring { .. } => "substring",
            NameRewrite::Regex { .. } => "regex",
        }
    }

    /// The new name when the rule matches: `Some(Err(text))` when the rewritten text is not a
    /// DNS name.
    pub fn apply(&self, subject: &mut Subject<'_>) -> Option<Result<Name, String>> {
        let text = match self {
            NameRewrite::Exact { from, to } => {
                return (subject.name == from).then(|| Ok(to.clone()));
            }
            NameRewrite::Prefix { from, to } => {
                let rest = subject.text().strip_prefix(from.as_str())?;
                format!("{to}{rest}")
            }
            NameRewrite::Suffix { from, to } => {
                let before = subject.text().strip_suffix(from.as_str())?;
                format!("{before}{to}")
            }
            NameRewrite::Substring { from, to } => {
                let text = subject.text();
                if !text.contains(from.as_str()) {
                    return None;
                }
                text.replace(from.as_str(), to)
            }
            NameRewrite::Regex { from, to } => from.replace(subject.text(), to)?,
        };
        Some(parse_name(&text).ok_or(text))
    }
}

/// What an `answer` option rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerField {
    /// Records' owner names.
    Name,
    /// Records' values: CNAME, NS, PTR, MX, SRV, NAPTR targets and the SOA's MNAME.
    Value,
}

/// `answer name|value FROM TO`: a regex rewrite of the answer's names, after the query was
/// rewritten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerRule {
    pub field: AnswerField,
    pub from: Pattern,
    /// With `{N}` for the groups of `from`; lower-case, fully qualified.
    pub to: String,
}

/// A text as a fully qualified DNS name, if it is one.
pub fn parse_name(text: &str) -> Option<Name> {
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// The question's name as a rule sees it: the name, and its lower-case text, made when a rule
/// first needs it and kept (in `text`) until a rule changes the name.
pub struct Subject<'a> {
    pub name: &'a Name,
    text: &'a mut Option<String>,
}

impl<'a> Subject<'a> {
    pub fn new(name: &'a Name, text: &'a mut Option<String>) -> Self {
        Subject { name, text }
    }

    /// The lower-case, fully qualified text of the name (`www.example.org.`).
    pub fn text(&mut self) -> &str {
        let name = self.name;
        self.text.get_or_insert_with(|| name_text(name))
    }
}

/// A name's lower-case, fully qualified text.
pub fn name_text(name: &Name) -> String {
    let mut text = name.to_lowercase().to_ascii();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}
