//! The `any` plugin (`any`): answers every query of type ANY with one short HINFO record
//! instead of every record of the name (RFC 8482), in CoreDNS's words; other queries pass on.
//! Doc page: `README.md` in its folder.

use std::sync::Arc;

use hickory_proto::rr::rdata::HINFO;
use hickory_proto::rr::{RData, Record, RecordType};

use crate::corefile::args::{count, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query};

#[cfg(test)]
mod tests;

/// The HINFO record's TTL, CPU and OS, as CoreDNS writes them.
pub const TTL: u32 = 8482;
pub const CPU: &str = "ANY obsoleted";
pub const OS: &str = "See RFC 8482";

/// `any` (no options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnyConfig;

impl Configure for AnyConfig {
    const NAME: &'static str = "any";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 0, 0, "any")?;
        Ok(AnyConfig)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Any)))
    }
}

struct Any;

impl Plugin for Any {
    fn kind(&self) -> Kind {
        Kind::Any
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        if query.qtype() != RecordType::ANY {
            return Flow::Next;
        }
        let hinfo = HINFO::new(CPU.to_string(), OS.to_string());
        let record = Record::from_rdata(query.name().clone(), TTL, RData::HINFO(hinfo));
        Flow::Answer(Answer::new(Sections {
            answers: vec![record],
            ..Sections::default()
        }))
    }
}
