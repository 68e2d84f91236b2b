//! The `transfer` plugin (`transfer [ZONE...] { to ADDRESS... }`): outgoing zone transfers
//! (AXFR, and IXFR answered as a full transfer) of the zones the block's `file` and
//! `kubernetes` plugins serve,
//! as CoreDNS's transfer plugin does. A block may have several `transfer` directives; a
//! question is matched against the one with the longest zone containing its name. Doc page:
//! `README.md` in its folder.
//!
//! Only AXFR and IXFR questions are this plugin's; everything else goes on. A transfer asked
//! over UDP is REFUSED, as is one from a client no `to` of the matching directive allows. A
//! name that is no `file` zone's origin goes on (and `file` refuses transfers it is asked).
//! The transfer is one answer of several messages ([`Answer::more`]): the SOA first, every
//! record, the SOA again, packed into messages under 64 KiB, sent in order by the TCP
//! listener. An IXFR whose SOA (in the authority section) has the zone's serial gets that SOA
//! alone; any other IXFR gets the full transfer (RFC 1995 §4 allows it).
//!
//! How Cairn differs: `to` also takes CIDR networks (CoreDNS matches single addresses); no
//! NOTIFY is sent (`source` is read and has no effect); TSIG is not supported.
//!
//! The `kubernetes` plugin's forward zones transfer as well, listed from its published index
//! (`kubernetes::xfr`): the serial is the index's SOA serial, which moves whenever the cluster
//! state changes, so an IXFR with the current serial gets the lone SOA.

mod setup;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;

pub use setup::{Peer, Rule};

use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::dns::Transport;
use crate::plugin::file::FileZones;
use crate::plugin::kubernetes::publish::IndexCell;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};

/// Record bytes per message before the next one starts (leaves room for the header and the
/// question under TCP's 64 KiB; names are counted uncompressed, so messages come out smaller).
const MESSAGE_BUDGET: usize = 60_000;

/// Every `transfer` directive of a block, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferConfig {
    pub rules: Vec<Rule>,
}

impl Configure for TransferConfig {
    const NAME: &'static str = "transfer";
    const REPEATABLE: bool = true;

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        Ok(TransferConfig {
            rules: vec![setup::parse(d, block)?],
        })
    }

    fn join(&mut self, later: Self) {
        self.rules.extend(later.rules);
    }

    fn summary(&self) -> String {
        let each = self.rules.iter().map(|r| {
            let zones: Vec<String> = r.zones.iter().map(|z| z.to_string()).collect();
            zones.join(" ")
        });
        each.collect::<Vec<_>>().join(", ")
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Transfer {
            rules: self.rules.clone(),
            zones: env.provided::<FileZones>(),
            cluster: env.provided::<Arc<IndexCell>>(),
        })))
    }
}

/// The plugin in a chain.
struct Transfer {
    rules: Vec<Rule>,
    /// The block's `file` zones, if it has `file`.
    zones: Option<FileZones>,
    /// The block's `kubernetes` index, if it has `kubernetes`: its forward zones transfer too.
    cluster: Option<Arc<IndexCell>>,
}

impl Transfer {
    /// The rule with the longest zone containing `name`.
    fn rule(&self, name: &Name) -> Option<&Rule> {
        self.rules
            .iter()
            .filter_map(|r| {
                r.zones
                    .iter()
                    .filter(|z| z.zone_of(name))
                    .map(|z| z.num_labels())
                    .max()
                    .map(|labels| (labels, r))
            })
            .max_by_key(|(labels, _)| *labels)
            .map(|(_, r)| r)
    }
}

impl Plugin for Transfer {
    fn kind(&self) -> Kind {
        Kind::Transfer
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let qtype = query.qtype();
        if !matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            return Flow::Next;
        }
        if query.transport != Transport::Tcp {
            return Flow::Answer(never_reused(Answer::rcode(ResponseCode::Refused)));
        }
        let qname = query.name().clone();
        let Some(rule) = self.rule(&qname) else {
            return Flow::Next;
        };
        if !rule.allows(query.client.ip()) {
            return Flow::Answer(never_reused(Answer::rcode(ResponseCode::Refused)));
        }
        let mut serial = None;
        if qtype == RecordType::IXFR {
            let authorities = &query.request.message.authorities;
            match authorities.first().map(|r| &r.data) {
                Some(RData::SOA(soa)) if authorities.len() == 1 => serial = Some(soa.serial),
                _ => return Flow::Answer(Answer::servfail()),
            }
        }
        let (current, records) = match self.zones.as_ref().and_then(|z| z.exact(&qname)) {
            Some(loaded) => {
                let Some(zone) = loaded.current() else {
                    return Flow::Answer(Answer::servfail());
                };
                let records = if serial == Some(zone.serial()) {
                    vec![zone.soa.clone()]
                } else {
                    zone.transfer_records()
                };
                (zone.serial(), records)
            }
            None => {
                let index = match &self.cluster {
                    Some(cell) => cell.load(),
                    None => return Flow::Next,
                };
                let Some((current, records)) = index.transfer(&qname) else {
                    return Flow::Next;
                };
                if serial == Some(current) {
                    (current, records.into_iter().take(1).collect())
                } else {
                    (current, records)
                }
            }
        };
        tracing::info!(zone = %qname, client = %query.client, serial = current, records = records.len(), "outgoing zone transfer");
        let mut messages = batches(records).into_iter().map(|answers| Sections {
            rcode: ResponseCode::NoError,
            authoritative: true,
            answers,
            ..Sections::default()
        });
        let first = messages.next().unwrap_or_default();
        let mut answer = never_reused(Answer::new(first));
        answer.more = messages.collect();
        Flow::Answer(answer)
    }
}

fn never_reused(mut answer: Answer) -> Answer {
    answer.limit_reuse(Reusable::Never);
    answer.cacheable = false;
    answer
}

/// `records` in order, cut into messages of at most [`MESSAGE_BUDGET`] record bytes.
fn batches(records: Vec<Record>) -> Vec<Vec<Record>> {
    let mut out: Vec<Vec<Record>> = Vec::new();
    let (mut batch, mut size) = (Vec::new(), 0);
    for record in records {
        let len = record.to_bytes().map_or(MESSAGE_BUDGET, |b| b.len());
        if !batch.is_empty() && size + len > MESSAGE_BUDGET {
            out.push(std::mem::take(&mut batch));
            size = 0;
        }
        size += len;
        batch.push(record);
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    out
}
