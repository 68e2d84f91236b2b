//! The answer of a matched template: its rcode (SERVFAIL alone for `rcode SERVFAIL`), its
//! rendered `answer`, `authority` and `additional` records, authoritative, its Extended DNS
//! Error; SERVFAIL, counted and logged, when a template fails. A CNAME answer to an A or AAAA
//! query is followed through the block's `forward`, as CoreDNS follows it upstream.

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::eval::{render, Data};
use super::metrics::{Failure, Labels};
use super::text::Tmpl;
use super::{Template, TemplatePlugin};
use crate::dns::response::Sections;
use crate::plugin::forward::Forwarder;
use crate::plugin::{Answer, Flow, Job, Query, Reusable};

/// EDNS option code of an Extended DNS Error (RFC 8914).
const EDE: u16 = 15;

pub(super) fn reply(p: &TemplatePlugin, t: &Template, data: &Data<'_>, query: &Query) -> Flow {
    let labels = Labels {
        server: &p.server,
        zone: data.zone,
        class: &data.class,
        rtype: &data.rtype,
    };
    p.metrics.matched(&labels);
    if t.rcode == ResponseCode::ServFail {
        return Flow::Answer(Answer::servfail());
    }
    let rendered = (|| {
        Ok::<_, String>(Sections {
            rcode: t.rcode,
            authoritative: true,
            answers: section(p, &labels, "answer", &t.answer, data)?,
            authorities: section(p, &labels, "authority", &t.authority, data)?,
            additionals: section(p, &labels, "additional", &t.additional, data)?,
            edns_options: t.ederror.iter().map(ede).collect(),
            ..Sections::default()
        })
    })();
    let sections = match rendered {
        Ok(s) => s,
        Err(why) => {
            let mut failed = Answer::servfail();
            failed.error = Some(why);
            return Flow::Answer(failed);
        }
    };
    let per_query = [&t.answer, &t.authority, &t.additional]
        .iter()
        .any(|s| s.iter().any(|t| t.per_query));
    let finish = move |sections: Sections| {
        let mut answer = Answer::new(sections);
        if per_query {
            // `.Remote` or `.Message`: another client, or another ID, gets another answer.
            answer.limit_reuse(Reusable::Never);
            answer.cacheable = false;
        }
        answer
    };
    let chase = matches!(query.qtype(), RecordType::A | RecordType::AAAA)
        && sections
            .answers
            .iter()
            .any(|r| matches!(r.data, RData::CNAME(_)));
    match (&p.forward, chase) {
        (Some(forward), true) => Flow::Upstream(follow(forward.clone(), query, sections, finish)),
        _ => Flow::Answer(finish(sections)),
    }
}

/// One section's records, or the failure (counted) that makes the answer SERVFAIL.
fn section(
    p: &TemplatePlugin,
    labels: &Labels<'_>,
    name: &'static str,
    templates: &[Tmpl],
    data: &Data<'_>,
) -> Result<Vec<Record>, String> {
    let mut records = Vec::with_capacity(templates.len());
    for t in templates {
        let text = render(t, data).map_err(|why| {
            p.metrics.failed(Failure::Template, labels, name, &t.source);
            format!("template: {name} template `{}` failed: {why}", t.source)
        })?;
        let record = super::record::parse(&text).map_err(|why| {
            p.metrics.failed(Failure::Record, labels, name, &t.source);
            format!("template: {name} template `{}` rendered `{text}`, not a record: {why}", t.source)
        })?;
        records.push(record);
    }
    Ok(records)
}

fn ede((code, reason): &(u16, String)) -> EdnsOption {
    let mut data = code.to_be_bytes().to_vec();
    data.extend_from_slice(reason.as_bytes());
    EdnsOption::Unknown(EDE, data)
}

/// Asks `forward` for each CNAME target `forward` handles (the query's type) and puts what it
/// answers after the CNAME; a failed exchange leaves the CNAME alone, not cached.
fn follow(
    forward: Arc<Forwarder>,
    query: &Query,
    mut sections: Sections,
    finish: impl FnOnce(Sections) -> Answer + Send + 'static,
) -> Job {
    let message = query.request.message.clone();
    let transport = query.transport;
    Box::pin(async move {
        let mut complete = true;
        let mut answers = Vec::with_capacity(sections.answers.len());
        for record in std::mem::take(&mut sections.answers) {
            let target: Option<Name> = match &record.data {
                RData::CNAME(c) if forward.handles(&c.0) => Some(c.0.clone()),
                _ => None,
            };
            answers.push(record);
            let Some(target) = target else { continue };
            let mut upstream = message.clone();
            if let Some(q) = upstream.queries.first_mut() {
                q.set_name(target);
            }
            match forward.exchange_via(&upstream, transport).await {
                Ok(r) if r.metadata.response_code != ResponseCode::ServFail => {
                    sections.truncated |= r.metadata.truncation;
                    answers.extend(r.answers.iter().cloned());
                }
                _ => complete = false,
            }
        }
        sections.answers = answers;
        let mut answer = finish(sections);
        answer.limit_reuse(Reusable::Never);
        answer.cacheable &= complete;
        answer
    })
}
