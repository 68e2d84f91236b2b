//! The answer on its way back: what the rules that matched a query do to it. Each matched rule
//! leaves its [`Reverse`] steps; they run on every record of the answer, authority and
//! additional sections, the last rule's first (CoreDNS's order: a `continue` chain is undone
//! from its end), then on the rcode.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record};

use super::rule::{name_text, parse_name, Action, AnswerField, NameRewrite, Rule};
use crate::dns::response::Sections;

/// One step of undoing a query rewrite, or of a response rewrite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reverse {
    /// `answer auto` of a non-`suffix` name rule: names (owners and values) equal to `from`, or
    /// below it, get `to` in its place.
    Remap { from: Name, to: Name },
    /// `answer auto` of the `suffix` name rule at this index: the new suffix back to the old.
    SuffixBack(usize),
    /// The `answer` option `.1` of the name rule at index `.0`.
    Answer(usize, usize),
    /// A `ttl` rule: every TTL kept within `min..=max`.
    Ttl { min: u32, max: u32 },
    /// An `rcode` rule.
    Rcode { from: ResponseCode, to: ResponseCode },
}

/// Runs `steps` (left by `rules`) on an answer.
pub fn revert(rules: &[Rule], steps: &[Reverse], sections: &mut Sections) {
    if steps.is_empty() {
        return;
    }
    let records = sections
        .answers
        .iter_mut()
        .chain(sections.authorities.iter_mut())
        .chain(sections.additionals.iter_mut());
    for record in records {
        for step in steps.iter().rev() {
            record_step(rules, step, record);
        }
    }
    for step in steps.iter().rev() {
        if let Reverse::Rcode { from, to } = step {
            if sections.rcode == *from {
                sections.rcode = *to;
            }
        }
    }
}

fn record_step(rules: &[Rule], step: &Reverse, record: &mut Record) {
    match step {
        Reverse::Remap { from, to } => {
            rename(&mut record.name, |n| remap(n, from, to));
            if let Some(target) = target_mut(&mut record.data) {
                rename(target, |n| remap(n, from, to));
            }
        }
        Reverse::SuffixBack(i) => {
            let Some((new, old)) = suffix_of(rules, *i) else {
                return;
            };
            let back = |n: &Name| {
                let text = name_text(n);
                let before = text.strip_suffix(new)?;
                parse_name(&format!("{before}{old}"))
            };
            rename(&mut record.name, back);
            if let Some(target) = target_mut(&mut record.data) {
                rename(target, back);
            }
        }
        Reverse::Answer(i, j) => {
            let Some(Action::Name(rule)) = rules.get(*i).map(|r| &r.action) else {
                return;
            };
            let Some(answer) = rule.answers.get(*j) else {
                return;
            };
            let with = |n: &Name| {
                let text = answer.from.replace(&name_text(n), &answer.to)?;
                parse_name(&text)
            };
            match answer.field {
                AnswerField::Name => rename(&mut record.name, with),
                AnswerField::Value => {
                    if let Some(target) = target_mut(&mut record.data) {
                        rename(target, with);
                    }
                }
            }
        }
        Reverse::Ttl { min, max } => record.ttl = record.ttl.clamp(*min, *max),
        Reverse::Rcode { .. } => {}
    }
}

/// The new and old suffix of the `suffix` name rule at `i`.
fn suffix_of(rules: &[Rule], i: usize) -> Option<(&str, &str)> {
    match rules.get(i).map(|r| &r.action) {
        Some(Action::Name(rule)) => match &rule.rewrite {
            NameRewrite::Suffix { from, to } => Some((to.as_str(), from.as_str())),
            _ => None,
        },
        _ => None,
    }
}

/// Replaces `name` with what `with` makes of it, if anything.
fn rename(name: &mut Name, with: impl Fn(&Name) -> Option<Name>) {
    if let Some(new) = with(name) {
        *name = new;
    }
}

/// `name` with `from` (itself, or the end of a name below it) replaced by `to`.
fn remap(name: &Name, from: &Name, to: &Name) -> Option<Name> {
    if name == from {
        return Some(to.clone());
    }
    if name.num_labels() <= from.num_labels() || !from.zone_of(name) {
        return None;
    }
    let keep = usize::from(name.num_labels() - from.num_labels());
    Name::from_labels(name.iter().take(keep))
        .ok()?
        .append_domain(to)
        .ok()
}

/// The name a record's value points at, for `answer value` and `answer auto`: the targets of
/// CNAME, NS, PTR, MX, SRV and NAPTR, and a SOA's MNAME (CoreDNS's list, but DNAME, which
/// Cairn's DNS library keeps as opaque data).
fn target_mut(data: &mut RData) -> Option<&mut Name> {
    match data {
        RData::CNAME(c) => Some(&mut c.0),
        RData::NS(n) => Some(&mut n.0),
        RData::PTR(p) => Some(&mut p.0),
        RData::MX(mx) => Some(&mut mx.exchange),
        RData::SRV(srv) => Some(&mut srv.target),
        RData::NAPTR(naptr) => Some(&mut naptr.replacement),
        RData::SOA(soa) => Some(&mut soa.mname),
        _ => None,
    }
}
