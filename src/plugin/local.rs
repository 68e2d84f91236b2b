//! The `local` plugin (`local [{ localhost_prefix on|off }]`): answers the names that must never
//! leave the machine — `localhost.`, the reverse zones `0.in-addr.arpa.`, `127.in-addr.arpa.`,
//! `255.in-addr.arpa.`, every name under `.localhost.` (RFC 6761) and, unless
//! `localhost_prefix off`, the legacy `localhost.<domain>` names — as CoreDNS's local does, so
//! those queries never reach `kubernetes` nor `forward`. Doc page: `README.md` in its folder.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, NS, PTR, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use crate::corefile::args::{count, err};
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::metrics::PluginMetrics;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};

#[cfg(test)]
mod tests;

/// The TTL of every record `local` writes, CoreDNS's.
pub const TTL: u32 = 604_800;

/// The zones `local` answers whole.
const ZONES: [&str; 4] = [
    "localhost.",
    "0.in-addr.arpa.",
    "127.in-addr.arpa.",
    "255.in-addr.arpa.",
];

/// `local`, with whether legacy `localhost.<domain>` names are answered (default on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalConfig {
    pub localhost_prefix: bool,
}

impl Configure for LocalConfig {
    const NAME: &'static str = "local";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        count(d, 0, 0, "local [{ localhost_prefix on|off }]")?;
        let mut config = LocalConfig {
            localhost_prefix: true,
        };
        for line in d.block.iter().flatten() {
            let args = line.arg_texts();
            match (line.name.as_str(), args.as_slice()) {
                ("localhost_prefix", ["on"]) => config.localhost_prefix = true,
                ("localhost_prefix", ["off"]) => config.localhost_prefix = false,
                ("localhost_prefix", _) => {
                    return Err(err(line, "local: expected `localhost_prefix on` or `localhost_prefix off`"))
                }
                (other, _) => {
                    return Err(err(
                        line,
                        format!("local: unknown option `{other}`: expected `localhost_prefix`"),
                    ))
                }
            }
        }
        Ok(config)
    }

    fn summary(&self) -> String {
        if self.localhost_prefix {
            String::new()
        } else {
            "localhost_prefix off".into()
        }
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let metrics = env.metrics.plugin::<LocalMetrics>();
        Ok(Some(Arc::new(Local {
            localhost_prefix: self.localhost_prefix,
            localhost: metrics.localhost.clone(),
        })))
    }
}

/// `coredns_local_localhost_requests_total`: queries for names under `.localhost.` or
/// `localhost.<domain>` (not `localhost.` itself); no labels, as CoreDNS's.
#[derive(Debug, Default)]
pub struct LocalMetrics {
    localhost: Counter,
}

impl PluginMetrics for LocalMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = LocalMetrics::default();
        registry.register(
            "coredns_local_localhost_requests",
            "Counter of localhost.<domain> requests.",
            m.localhost.clone(),
        );
        m
    }
}

struct Local {
    localhost_prefix: bool,
    localhost: Counter,
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap_or_else(|_| Name::root())
}

/// `ORIGIN 604800 IN SOA localhost. root.localhost. 1 0 0 0 604800`.
fn soa(origin: &Name) -> Record {
    let data = SOA::new(name("localhost."), name("root.localhost."), 1, 0, 0, 0, TTL);
    Record::from_rdata(origin.clone(), TTL, RData::SOA(data))
}

fn record(owner: &Name, data: RData) -> Record {
    let mut r = Record::from_rdata(owner.clone(), TTL, data);
    r.dns_class = DNSClass::IN;
    r
}

/// The loopback address of `qtype` for `qname`, or NODATA with the SOA of `qname`.
fn loopback(qname: &Name, qtype: RecordType) -> Sections {
    match qtype {
        RecordType::A => Sections {
            answers: vec![record(qname, RData::A(A(Ipv4Addr::LOCALHOST)))],
            ..Sections::default()
        },
        RecordType::AAAA => Sections {
            answers: vec![record(qname, RData::AAAA(AAAA(Ipv6Addr::LOCALHOST)))],
            ..Sections::default()
        },
        _ => Sections {
            authorities: vec![soa(qname)],
            ..Sections::default()
        },
    }
}

impl Local {
    /// The answer, and whether it is a counted localhost name; `None` when not a local name.
    fn answer(&self, qname: &Name, qtype: RecordType) -> Option<(Sections, bool)> {
        let lower = qname.to_lowercase().to_ascii();
        let long = lower.len() > "localhost.".len();
        if long
            && (lower.ends_with(".localhost.")
                || (self.localhost_prefix && lower.starts_with("localhost.")))
        {
            self.localhost.inc();
            return Some((loopback(qname, qtype), true));
        }
        let zone = ZONES.iter().find(|z| {
            lower == **z || lower.ends_with(&format!(".{z}"))
        })?;
        // The zone as the client spelled it: the last labels of its name.
        let origin = qname.trim_to(usize::from(name(zone).num_labels()));
        let sections = match lower.as_str() {
            "localhost." | "0.in-addr.arpa." | "127.in-addr.arpa." | "255.in-addr.arpa." => {
                match qtype {
                    RecordType::A | RecordType::AAAA if lower == "localhost." => {
                        loopback(qname, qtype)
                    }
                    RecordType::SOA => Sections {
                        answers: vec![soa(qname)],
                        ..Sections::default()
                    },
                    RecordType::NS => Sections {
                        answers: vec![record(qname, RData::NS(NS(name("localhost."))))],
                        ..Sections::default()
                    },
                    _ => Sections {
                        authorities: vec![soa(qname)],
                        ..Sections::default()
                    },
                }
            }
            "1.0.0.127.in-addr.arpa." if qtype == RecordType::PTR => Sections {
                answers: vec![record(qname, RData::PTR(PTR(name("localhost."))))],
                ..Sections::default()
            },
            "1.0.0.127.in-addr.arpa." => Sections {
                authorities: vec![soa(&origin)],
                ..Sections::default()
            },
            _ => Sections {
                rcode: ResponseCode::NXDomain,
                authorities: vec![soa(&origin)],
                ..Sections::default()
            },
        };
        Some((sections, false))
    }
}

impl Plugin for Local {
    fn kind(&self) -> Kind {
        Kind::Local
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        match self.answer(query.name(), query.qtype()) {
            Some((sections, counted)) => {
                let mut answer = Answer::new(sections);
                if counted {
                    // Counted: sent again by the listener, it would not be counted again.
                    answer.limit_reuse(Reusable::Never);
                }
                Flow::Answer(answer)
            }
            None => Flow::Next,
        }
    }
}
