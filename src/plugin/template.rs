//! The `template` plugin (`template CLASS TYPE [ZONE...] { ... }`): answers queries whose name
//! matches a regular expression with records written as Go templates, as CoreDNS's template
//! does. A block may have several `template` directives; they are one plugin, tried in the
//! order written. Doc page: `README.md` in its folder.
//!
//! A query whose name is in none of the templates' zones goes on to the next plugin. Otherwise
//! each template is tried in turn: one whose zones, class or type do not fit is skipped; one
//! whose regexes all miss the name is skipped when its `fallthrough` covers the name and
//! answers SERVFAIL when not; the first that matches answers (authoritative, its `rcode`, the
//! records its `answer`, `authority` and `additional` templates render). When every template
//! is skipped the query goes on.
//!
//! The parts: [`setup`] reads a directive, [`text`] and [`eval`] are the template language
//! (Go's `text/template`, the part users write, by hand: no Rust crate implements it),
//! [`record`] reads a rendered line into a record, [`answer`] builds the answer, [`metrics`]
//! counts matches and failures under CoreDNS's names.
//!
//! How Cairn differs: templates are checked when the Corefile is read (an unknown field or
//! function is a Corefile error, not a failure at every query); `var`, `expr`, template
//! variables and control structures are not supported; `.Meta` is always empty (Cairn has no
//! `metadata` plugin); a CNAME answer to an A or AAAA query is chased through the block's
//! `forward`, not through the whole server.

mod answer;
mod eval;
mod metrics;
mod record;
mod setup;
mod text;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use hickory_proto::rr::{DNSClass, Name, RecordType};

use crate::corefile::{ConfigError, Directive};
use crate::plugin::forward::Forwarder;
use crate::plugin::{BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query};
pub use setup::{Pattern, Template};
pub use text::Tmpl;

/// Every `template` directive of a block, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateConfig {
    pub templates: Vec<Template>,
}

impl Configure for TemplateConfig {
    const NAME: &'static str = "template";
    const REPEATABLE: bool = true;

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        Ok(TemplateConfig {
            templates: vec![setup::parse(d, block)?],
        })
    }

    fn join(&mut self, later: Self) {
        self.templates.extend(later.templates);
    }

    fn summary(&self) -> String {
        let each = self.templates.iter().map(|t| {
            let zones: Vec<String> = t.zones.iter().map(|z| z.to_string()).collect();
            format!(
                "{} {} {}",
                t.class,
                t.qtype,
                crate::plugin::describe::zones(&zones)
            )
        });
        each.collect::<Vec<_>>().join(", ")
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let mut zones: Vec<Name> = Vec::new();
        for z in self.templates.iter().flat_map(|t| &t.zones) {
            if !zones.contains(z) {
                zones.push(z.clone());
            }
        }
        Ok(Some(Arc::new(TemplatePlugin {
            templates: self.templates.clone(),
            zones,
            server: env.server_label.to_string(),
            metrics: env.metrics.plugin::<metrics::TemplateMetrics>(),
            forward: env.provided::<Arc<Forwarder>>(),
        })))
    }
}

/// One block's templates in its chain.
struct TemplatePlugin {
    templates: Vec<Template>,
    /// Every template's zones: a name in none of them is not this plugin's.
    zones: Vec<Name>,
    /// The metrics' `server` label.
    server: String,
    metrics: Arc<metrics::TemplateMetrics>,
    /// Chases the targets of CNAME answers to A and AAAA queries.
    forward: Option<Arc<Forwarder>>,
}

/// What one template makes of a query.
enum Tried<'t> {
    /// Not for this template: the next one is tried.
    Skip,
    /// In its zones, no regex matched, no fallthrough: SERVFAIL.
    Fail,
    /// Matched: the zone, the regex and its captures.
    Hit {
        zone: &'t Name,
        regex: &'t Pattern,
        matches: Vec<String>,
        groups: Vec<(String, String)>,
    },
}

/// The longest of `zones` that `name` is in.
fn zone_of<'z>(zones: &'z [Name], name: &Name) -> Option<&'z Name> {
    zones
        .iter()
        .filter(|z| z.zone_of(name))
        .max_by_key(|z| z.num_labels())
}

fn try_template<'t>(t: &'t Template, name: &Name, text: &str, class: DNSClass, qtype: RecordType) -> Tried<'t> {
    let Some(zone) = zone_of(&t.zones, name) else {
        return Tried::Skip;
    };
    if t.class != DNSClass::ANY && class != DNSClass::ANY && class != t.class {
        return Tried::Skip;
    }
    if t.qtype != RecordType::ANY && qtype != RecordType::ANY && qtype != t.qtype {
        return Tried::Skip;
    }
    for regex in &t.regexes {
        let Some(caps) = regex.0.captures(text) else {
            continue;
        };
        let matches: Vec<String> = caps
            .iter()
            .map(|m| m.map_or(String::new(), |m| m.as_str().to_string()))
            .collect();
        let mut groups: Vec<(String, String)> = matches
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), m.clone()))
            .collect();
        for (i, group) in regex.0.capture_names().enumerate() {
            if let Some(g) = group {
                groups.push((g.to_string(), matches[i].clone()));
            }
        }
        groups.sort();
        groups.dedup_by(|a, b| a.0 == b.0);
        return Tried::Hit {
            zone,
            regex,
            matches,
            groups,
        };
    }
    let falls = t
        .fallthrough
        .as_ref()
        .is_some_and(|zs| zs.is_empty() || zs.iter().any(|z| z.zone_of(name)));
    if falls {
        Tried::Skip
    } else {
        Tried::Fail
    }
}

impl Plugin for TemplatePlugin {
    fn kind(&self) -> Kind {
        Kind::Template
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let name = query.name().to_lowercase();
        if zone_of(&self.zones, &name).is_none() {
            return Flow::Next;
        }
        let text = name.to_string();
        let class = query.request.query().query_class();
        let qtype = query.qtype();
        for t in &self.templates {
            match try_template(t, &name, &text, class, qtype) {
                Tried::Skip => continue,
                Tried::Fail => return Flow::Answer(crate::plugin::Answer::servfail()),
                Tried::Hit {
                    zone,
                    regex,
                    matches,
                    groups,
                } => {
                    let zone = zone.to_string();
                    let data = eval::Data {
                        name: &text,
                        zone: &zone,
                        class: if class == DNSClass::ANY { t.class } else { class }.to_string(),
                        rtype: if qtype == RecordType::ANY { t.qtype } else { qtype }.to_string(),
                        regex: regex.0.as_str(),
                        remote: query.client.ip().to_canonical().to_string(),
                        matches,
                        groups,
                        question: query.request.query(),
                        message: &query.request.message,
                    };
                    return answer::reply(self, t, &data, query);
                }
            }
        }
        Flow::Next
    }
}
