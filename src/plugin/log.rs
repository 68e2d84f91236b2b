//! The `log` plugin: `log [NAMES...] [FORMAT] { class CLASSES... }` — CoreDNS's query log line
//! for every answer sent (or the classes given: all, success, denial, error), written once the
//! answer is encoded. The format argument is read and not applied yet: lines are always in
//! CoreDNS's common format. Doc page: `README.md` in its folder.

mod setup;

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;

pub use setup::LogConfig;

use crate::corefile::{ConfigError, Directive};
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Kind, Plugin, Query, Reusable};

impl Configure for LogConfig {
    const NAME: &'static str = "log";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        setup::parse(d)
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Log {
            names: self.names.clone(),
            classes: self.classes.clone(),
        })))
    }
}

struct Log {
    /// Names logged; empty means all.
    names: Vec<Name>,
    /// `class` values; empty means all.
    classes: Vec<String>,
}

impl Log {
    /// Whether an answer with `rcode` to a query for `qname` is logged.
    fn wanted(&self, qname: &Name, rcode: ResponseCode) -> bool {
        let name_ok = self.names.is_empty() || self.names.iter().any(|z| z.zone_of(qname));
        let class_ok = self.classes.is_empty()
            || self.classes.iter().any(|c| match c.as_str() {
                "all" => true,
                "success" => rcode == ResponseCode::NoError,
                "denial" => rcode == ResponseCode::NXDomain,
                "error" => !matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain),
                _ => false,
            });
        name_ok && class_ok
    }
}

impl Plugin for Log {
    fn kind(&self) -> Kind {
        Kind::Log
    }

    fn respond(&self, _query: &Query, answer: &mut Answer) {
        // Every answer is logged as it is sent: none may be served again unseen.
        answer.limit_reuse(Reusable::Never);
    }

    fn sent(&self, query: &Query, rcode: ResponseCode, response: &[u8], elapsed: Duration) {
        if self.wanted(query.name(), rcode) {
            let line = log_line(query, rcode, response, elapsed);
            tracing::info!(target: "cairn::log", "{line}");
        }
    }
}

/// CoreDNS's common log format:
/// `CLIENT - ID "TYPE CLASS NAME PROTO SIZE DO BUFSIZE" RCODE FLAGS RSIZE DURATION`.
fn log_line(query: &Query, rcode: ResponseCode, response: &[u8], duration: Duration) -> String {
    let request = &query.request;
    let q = request.query();
    let edns = request.edns();
    format!(
        "{} - {} \"{} {} {} {} {} {} {}\" {} {} {} {:.9}s",
        query.client,
        request.message.metadata.id,
        q.query_type(),
        q.query_class(),
        q.name(),
        query.transport.as_str(),
        query.request_size,
        edns.is_some_and(|e| e.flags().dnssec_ok),
        edns.map_or(512, |e| e.max_payload()),
        rcode.to_str(),
        response_flags(response),
        response.len(),
        duration.as_secs_f64()
    )
}

/// The header flags of an encoded response as dig and CoreDNS print them (`qr,aa,rd,ra`).
fn response_flags(response: &[u8]) -> String {
    let (Some(&hi), Some(&lo)) = (response.get(2), response.get(3)) else {
        return String::new();
    };
    let names = [
        (hi & 0x80 != 0, "qr"),
        (hi & 0x04 != 0, "aa"),
        (hi & 0x02 != 0, "tc"),
        (hi & 0x01 != 0, "rd"),
        (lo & 0x80 != 0, "ra"),
        (lo & 0x20 != 0, "ad"),
        (lo & 0x10 != 0, "cd"),
    ];
    names
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}
