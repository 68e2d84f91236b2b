//! The `chaos` plugin (`chaos [VERSION] [AUTHORS...]`): answers TXT queries in the CH class for
//! `version.bind`/`version.server` (the version), `authors.bind` (the authors, one record each,
//! in a new random order every time) and `hostname.bind`/`id.server` (the machine's name), as
//! CoreDNS's chaos does. Every other query passes on. Doc page: `README.md` in its folder.

use std::sync::Arc;

use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};

use crate::corefile::args::no_block;
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};

#[cfg(test)]
mod tests;

/// The longest character-string a TXT record holds.
const MAX_TEXT: usize = 255;

/// `chaos [VERSION] [AUTHORS...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChaosConfig {
    /// What `version.bind` answers: `Cairn-<version>` unless given.
    pub version: String,
    /// What `authors.bind` answers: sorted, each once; Cairn's package authors unless given.
    pub authors: Vec<String>,
}

/// `Cairn-<version>`, CoreDNS's `CoreDNS-<version>`.
pub fn default_version() -> String {
    format!("Cairn-{}", env!("CARGO_PKG_VERSION"))
}

/// The `authors` of Cairn's package (`Cargo.toml`).
pub fn default_authors() -> Vec<String> {
    env!("CARGO_PKG_AUTHORS")
        .split(':')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

impl Configure for ChaosConfig {
    const NAME: &'static str = "chaos";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        let args = d.arg_texts();
        let version = args
            .first()
            .map_or_else(default_version, |v| trim(v).to_string());
        let authors = if args.len() > 1 {
            let mut authors: Vec<String> = args[1..].iter().map(|a| trim(a).to_string()).collect();
            authors.sort();
            authors.dedup();
            authors
        } else {
            default_authors()
        };
        Ok(ChaosConfig { version, authors })
    }

    fn summary(&self) -> String {
        self.version.clone()
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Chaos {
            config: self.clone(),
        })))
    }
}

/// At most [`MAX_TEXT`] bytes of `s`, cut at a character boundary.
fn trim(s: &str) -> &str {
    let mut end = s.len().min(MAX_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

struct Chaos {
    config: ChaosConfig,
}

impl Plugin for Chaos {
    fn kind(&self) -> Kind {
        Kind::Chaos
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let question = query.request.query();
        if question.query_class() != DNSClass::CH || question.query_type() != RecordType::TXT {
            return Flow::Next;
        }
        let (texts, reuse) = match question.name().to_ascii().to_ascii_lowercase().as_str() {
            "authors.bind." => {
                let mut authors = self.config.authors.clone();
                fastrand::shuffle(&mut authors);
                // Each answer has its own order.
                let reuse = if authors.len() > 1 {
                    Reusable::Never
                } else {
                    Reusable::Always
                };
                (authors, reuse)
            }
            "version.bind." | "version.server." => (vec![self.config.version.clone()], Reusable::Always),
            // Read on every query, as CoreDNS does.
            "hostname.bind." | "id.server." => (
                vec![trim(&crate::net::hostname()).to_string()],
                Reusable::Never,
            ),
            _ => return Flow::Next,
        };
        let answers = texts
            .into_iter()
            .map(|text| {
                let mut r =
                    Record::from_rdata(question.name().clone(), 0, RData::TXT(TXT::new(vec![text])));
                r.dns_class = DNSClass::CH;
                r
            })
            .collect();
        let mut answer = Answer::new(Sections {
            answers,
            ..Sections::default()
        });
        answer.limit_reuse(reuse);
        Flow::Answer(answer)
    }
}
