//! The `nsid` plugin (`nsid [DATA]`): when a query asks for the server's identifier (an EDNS
//! NSID option, RFC 5001), its answer's OPT record carries NSID with DATA (default: the
//! machine's host name), as CoreDNS's nsid does. It adds it on the way out, to the answers of
//! every plugin after it (cache hits, forwarded answers, REFUSED). Doc page: `README.md` in its
//! folder.

use std::sync::Arc;

use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption, NSIDPayload};

use crate::corefile::args::{err, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Kind, Plugin, Query};

#[cfg(test)]
mod tests;

/// `nsid [DATA]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsidConfig {
    /// The identifier sent: the arguments joined by spaces, else the host name.
    pub data: String,
}

impl Configure for NsidConfig {
    const NAME: &'static str = "nsid";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        let data = if d.args.is_empty() {
            crate::net::hostname()
        } else {
            d.arg_texts().join(" ")
        };
        if NSIDPayload::new(data.as_bytes()).is_err() {
            return Err(err(d, "nsid DATA is longer than an EDNS option holds (65535 bytes)"));
        }
        Ok(NsidConfig { data })
    }

    fn summary(&self) -> String {
        self.data.clone()
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let payload = NSIDPayload::new(self.data.as_bytes()).map_err(|e| e.to_string())?;
        Ok(Some(Arc::new(Nsid {
            option: EdnsOption::NSID(payload),
        })))
    }
}

struct Nsid {
    option: EdnsOption,
}

impl Plugin for Nsid {
    fn kind(&self) -> Kind {
        Kind::Nsid
    }

    /// Any NSID option in the query counts as asking (CoreDNS does not require it empty); an
    /// NSID already in the answer (a plugin's own) is replaced.
    fn respond(&self, query: &Query, answer: &mut Answer) {
        let asked = query
            .request
            .edns()
            .is_some_and(|e| e.option(EdnsCode::NSID).is_some());
        if !asked {
            return;
        }
        let options = &mut answer.sections.edns_options;
        options.retain(|o| EdnsCode::from(o) != EdnsCode::NSID);
        options.push(self.option.clone());
    }
}
