//! The `log` plugin: `log [NAMES...] [FORMAT] { class CLASSES... }` — CoreDNS's query log line
//! for every answer sent (or the classes given: all, success, denial, error), written once the
//! answer is encoded, in the FORMAT given (CoreDNS's placeholders, `format`) or CoreDNS's
//! common log format. Doc page: `README.md` in its folder.

pub mod format;
mod setup;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;

pub use setup::LogConfig;

use crate::corefile::{ConfigError, Directive};
use crate::plugin::minimal::typify::Type;
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
            needs_type: format::needs_type(&self.parts)
                || self.classes.iter().any(|c| c != "all"),
            parts: self.parts.clone(),
        })))
    }
}

struct Log {
    /// Names logged; empty means all.
    names: Vec<Name>,
    /// `class` values; empty means all.
    classes: Vec<String>,
    /// The line's format.
    parts: Vec<format::Part>,
    /// Whether the response's type must be known (a `class` filter, `{/log/class}`).
    needs_type: bool,
}

impl Log {
    /// Whether an answer of type `kind` (when known) to a query for `qname` is logged.
    fn wanted(&self, qname: &Name, kind: Option<Type>) -> bool {
        let name_ok = self.names.is_empty() || self.names.iter().any(|z| z.zone_of(qname));
        let class = kind.map(format::class_of);
        let class_ok = self.classes.is_empty()
            || self
                .classes
                .iter()
                .any(|c| c == "all" || class == Some(c.as_str()));
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
        let kind = if self.needs_type {
            format::response_type(query, response)
        } else {
            None
        };
        if self.wanted(query.name(), kind) {
            let line = format::render(
                &self.parts,
                &format::Line {
                    query,
                    rcode,
                    response,
                    elapsed,
                    kind,
                },
            );
            tracing::info!(target: "cairn::log", "{line}");
        }
    }
}

/// The header flags of an encoded response as dig and CoreDNS print them (`qr,aa,rd,ra`).
pub(crate) fn response_flags(response: &[u8]) -> String {
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
