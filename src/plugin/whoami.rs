//! The `whoami` plugin (`whoami`): answers every query that reaches it with who asked — the
//! client's address as an A or AAAA record and its port and transport as an SRV record, both in
//! the additional section, the answer section empty — as CoreDNS's whoami does. The answer
//! depends on the client, so it is neither cached nor reused. Doc page: `README.md` in its
//! folder.

use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::rdata::{A, AAAA, SRV};
use hickory_proto::rr::{Name, RData, Record};

use crate::corefile::args::{count, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};

#[cfg(test)]
mod tests;

/// `whoami` (no options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhoamiConfig;

impl Configure for WhoamiConfig {
    const NAME: &'static str = "whoami";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 0, 0, "whoami")?;
        Ok(WhoamiConfig)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Whoami)))
    }
}

struct Whoami;

impl Plugin for Whoami {
    fn kind(&self) -> Kind {
        Kind::Whoami
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let question = query.request.query();
        let qname = question.name();
        let class = question.query_class();
        let in_class = |mut r: Record| {
            r.dns_class = class;
            r
        };
        let address = match query.client.ip().to_canonical() {
            IpAddr::V4(ip) => RData::A(A(ip)),
            IpAddr::V6(ip) => RData::AAAA(AAAA(ip)),
        };
        let mut additionals = vec![in_class(Record::from_rdata(qname.clone(), 0, address))];
        // `_udp.QNAME.`; a name already near 255 bytes has no room for the label, and gets
        // the address alone.
        let label = format!("_{}", query.transport.as_str());
        if let Ok(owner) = qname.prepend_label(label.as_str()) {
            let srv = SRV::new(0, 0, query.client.port(), Name::root());
            additionals.push(in_class(Record::from_rdata(owner, 0, RData::SRV(srv))));
        }
        let mut answer = Answer::new(Sections {
            authoritative: true,
            additionals,
            ..Sections::default()
        });
        // Another client asking the same gets another answer.
        answer.limit_reuse(Reusable::Never);
        answer.cacheable = false;
        Flow::Answer(answer)
    }
}
