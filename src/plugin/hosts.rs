//! The `hosts` plugin: answers from a hosts file (and inline lines), re-read when it changes.
//!
//! Lines are `IP NAME...`; names are matched case-insensitively, fully qualified. A/AAAA come
//! from the file, PTR from its reverse (unless `no_reverse`). A name the file does not know
//! falls through to the next plugin when `fallthrough` covers it; otherwise it is NXDOMAIN
//! (NODATA when the name is known for the other family), as CoreDNS's hosts plugin does.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

mod setup;

pub use setup::HostsConfig;

use crate::corefile::{ConfigError, Directive};
use crate::dns::names::arpa_ip;
use crate::dns::response::Sections;
use crate::plugin::forward::Forwarder;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable, Started,
};

impl Configure for HostsConfig {
    const NAME: &'static str = "hosts";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        setup::parse(d)
    }

    fn summary(&self) -> String {
        use crate::plugin::describe::{names, words};
        words(
            [self.file.display().to_string(), names(&self.zones)]
                .into_iter()
                .filter(|s| !s.is_empty()),
        )
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(HostsPlugin {
            hosts: Hosts::new(self.clone(), env.zones),
            recursion_available: env.provided::<Arc<Forwarder>>().is_some(),
        })))
    }
}

/// The plugin in a chain: answers what the table knows; passes the rest on, marked as
/// answerable here later (the file is reread).
struct HostsPlugin {
    hosts: Arc<Hosts>,
    /// The block forwards (RA is set on its answers).
    recursion_available: bool,
}

impl Plugin for HostsPlugin {
    fn kind(&self) -> Kind {
        Kind::Hosts
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        match self.hosts.answer(query.name(), query.qtype()) {
            Some(found) => {
                let mut answer = Answer::new(Sections {
                    rcode: found.rcode,
                    authoritative: true,
                    recursion_available: self.recursion_available,
                    answers: found.answers,
                    ..Sections::default()
                });
                answer.limit_reuse(Reusable::Never);
                Flow::Answer(answer)
            }
            None => {
                query.mark_volatile();
                Flow::Next
            }
        }
    }

    fn start(&self, started: &Started<'_>) {
        let _entered = started.runtime.enter();
        self.hosts.start();
    }
}

/// The parsed contents of a hosts file.
#[derive(Debug, Default)]
pub struct Table {
    /// Lower-case FQDN -> addresses in file order.
    names: HashMap<String, Vec<IpAddr>>,
    /// Address -> names in file order.
    reverse: HashMap<IpAddr, Vec<Name>>,
}

impl Table {
    /// Parses hosts-file text; malformed lines are skipped (as CoreDNS and libc do) and
    /// counted.
    pub fn parse(text: &str) -> (Table, usize) {
        let mut table = Table::default();
        let mut skipped = 0;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut fields = line.split_whitespace();
            let Some(ip) = fields.next().and_then(|f| f.parse::<IpAddr>().ok()) else {
                skipped += 1;
                continue;
            };
            for host in fields {
                let Ok(mut name) = Name::from_ascii(host.trim_end_matches('.')) else {
                    skipped += 1;
                    continue;
                };
                name.set_fqdn(true);
                let key = name.to_ascii().to_ascii_lowercase();
                let ips = table.names.entry(key).or_default();
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
                let names = table.reverse.entry(ip).or_default();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        (table, skipped)
    }
}

/// What the plugin answered.
pub struct HostsAnswer {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
}

pub struct Hosts {
    config: HostsConfig,
    zones: Vec<Name>,
    fallthrough: Option<Vec<Name>>,
    table: ArcSwap<Table>,
    /// (modified, length) of the file as last read.
    seen: std::sync::Mutex<Option<(SystemTime, u64)>>,
}

impl Hosts {
    /// Reads the file now; a missing or unreadable file is logged and treated as empty (it may
    /// appear later, as k3s's NodeHosts does).
    pub fn new(config: HostsConfig, block_zones: &[Name]) -> Arc<Hosts> {
        let zones = if config.zones.is_empty() {
            block_zones.to_vec()
        } else {
            config.zones.clone()
        };
        let fallthrough = config.fallthrough.clone();
        let hosts = Arc::new(Hosts {
            config,
            zones,
            fallthrough,
            table: ArcSwap::from_pointee(Table::default()),
            seen: std::sync::Mutex::new(None),
        });
        hosts.reload();
        hosts
    }

    /// Re-reads the file if its modification time or size changed.
    pub fn reload(&self) {
        let path = &self.config.file;
        let stamp = std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        {
            let Ok(mut seen) = self.seen.lock() else {
                return;
            };
            if stamp.is_some() && *seen == stamp {
                return;
            }
            *seen = stamp;
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(err) => {
                tracing::warn!(file = %path.display(), %err, "hosts file unreadable; serving the inline entries only");
                String::new()
            }
        };
        let all = format!("{text}\n{}", self.config.inline.join("\n"));
        let (table, skipped) = Table::parse(&all);
        if skipped > 0 {
            tracing::warn!(file = %path.display(), skipped, "hosts lines skipped as malformed");
        }
        self.table.store(Arc::new(table));
    }

    /// Re-reads the file every `reload` interval (zero: never) on the current runtime.
    pub fn start(self: &Arc<Self>) {
        let interval = self.config.reload;
        if interval.is_zero() {
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval.max(Duration::from_millis(100))).await;
                match weak.upgrade() {
                    Some(hosts) => hosts.reload(),
                    None => return,
                }
            }
        });
    }

    /// Answers `qname`/`qtype`, or `None` to hand the query to the next plugin.
    pub fn answer(&self, qname: &Name, qtype: RecordType) -> Option<HostsAnswer> {
        if !self.zones.iter().any(|z| z.zone_of(qname)) {
            return None;
        }
        let table = self.table.load();
        let ttl = self.config.ttl;
        let record = |data| Record::from_rdata(qname.clone(), ttl, data);
        let answers: Vec<Record> = if qtype == RecordType::PTR && !self.config.no_reverse {
            let labels: Vec<&[u8]> = qname.iter().collect();
            arpa_ip(&labels)
                .and_then(|ip| table.reverse.get(&ip))
                .map(|names| {
                    names
                        .iter()
                        .map(|n| record(RData::PTR(PTR(n.clone()))))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            let key = qname.to_ascii().to_ascii_lowercase();
            table
                .names
                .get(&key)
                .map(|ips| {
                    ips.iter()
                        .filter_map(|ip| match (ip, qtype) {
                            (IpAddr::V4(v4), RecordType::A) => Some(record(RData::A(A(*v4)))),
                            (IpAddr::V6(v6), RecordType::AAAA) => {
                                Some(record(RData::AAAA(AAAA(*v6))))
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        if !answers.is_empty() {
            return Some(HostsAnswer {
                rcode: ResponseCode::NoError,
                answers,
            });
        }
        let known = table
            .names
            .contains_key(&qname.to_ascii().to_ascii_lowercase());
        if !known
            && self
                .fallthrough
                .as_ref()
                .is_some_and(|z| z.is_empty() || z.iter().any(|zone| zone.zone_of(qname)))
        {
            return None;
        }
        Some(HostsAnswer {
            rcode: if known {
                ResponseCode::NoError
            } else {
                ResponseCode::NXDomain
            },
            answers: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests;
