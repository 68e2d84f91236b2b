//! The `acl` plugin (`acl [ZONES...] { ACTION [type QTYPE...] [net SOURCE...] }`): allows,
//! blocks (REFUSED), filters (an empty NOERROR) or drops (no reply) queries by the client's
//! source address and the query type, as CoreDNS's acl does. It may be written several times in
//! a block: the directives are rules tried in order, each for its zones; within a rule the
//! first policy matching the type and the source decides; `allow` ends the checking and lets
//! the query on. The source is the packet's, as the listener received it (an IPv4 client of a
//! dual-stack socket is matched as IPv4). Doc page: `README.md` in its folder.

pub mod policy;

use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::Name;
use prometheus_client::metrics::counter::Counter;

use crate::corefile::args::{err, names};
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};
use policy::{Action, AclMetrics, Policy};

#[cfg(test)]
mod tests;

/// The EDNS option code of an Extended DNS Error (RFC 8914).
const EDE: u16 = 15;
/// EDE info codes: Blocked, Filtered.
const EDE_BLOCKED: u16 = 15;
const EDE_FILTERED: u16 = 17;

/// Every `acl` directive of a block, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclConfig {
    pub rules: Vec<Rule>,
}

/// One `acl` directive: its zones and its policies in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub zones: Vec<Name>,
    pub policies: Vec<Policy>,
}

impl Configure for AclConfig {
    const NAME: &'static str = "acl";
    const REPEATABLE: bool = true;

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        let args = d.arg_texts();
        let zones = if args.is_empty() {
            let block_zones: Vec<&str> = block.zones.iter().map(String::as_str).collect();
            names(d, &block_zones, "acl")?
        } else {
            names(d, &args, "acl")?
        };
        let mut policies = Vec::new();
        for line in d.block.iter().flatten() {
            policies.push(Policy::parse(line)?);
        }
        if policies.is_empty() {
            return Err(err(
                d,
                "acl needs a block of policies: `acl [ZONES...] { allow|block|filter|drop [type QTYPE...] [net SOURCE...] }`",
            ));
        }
        Ok(AclConfig {
            rules: vec![Rule { zones, policies }],
        })
    }

    fn join(&mut self, later: Self) {
        self.rules.extend(later.rules);
    }

    fn summary(&self) -> String {
        let policies: usize = self.rules.iter().map(|r| r.policies.len()).sum();
        format!("{} rules, {policies} policies", self.rules.len())
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let metrics = env.metrics.plugin::<AclMetrics>();
        Ok(Some(Arc::new(Acl {
            rules: self.rules.clone(),
            server: env.server_label.to_string(),
            allowed: metrics.allowed(env.server_label),
            metrics,
        })))
    }
}

struct Acl {
    rules: Vec<Rule>,
    server: String,
    allowed: Counter,
    metrics: Arc<AclMetrics>,
}

impl Acl {
    /// What the rules decide for a query from `source`: the action and the zone it matched in.
    fn decide(&self, query: &Query, source: IpAddr) -> Option<(Action, &Name)> {
        let qname = query.name();
        let qtype = query.qtype();
        for rule in &self.rules {
            // The longest zone of the rule the name is in.
            let Some(zone) = rule
                .zones
                .iter()
                .filter(|z| z.zone_of(qname))
                .max_by_key(|z| z.num_labels())
            else {
                continue;
            };
            match rule.policies.iter().find(|p| p.matches(qtype, source)) {
                Some(p) if p.action == Action::Allow => return None,
                Some(p) => return Some((p.action, zone)),
                None => continue,
            }
        }
        None
    }
}

impl Plugin for Acl {
    fn kind(&self) -> Kind {
        Kind::Acl
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let source = query.client.ip().to_canonical();
        let Some((action, zone)) = self.decide(query, source) else {
            self.allowed.inc();
            // Where a rule covers the name another client may be refused: the answer from
            // further down must not be sent again by the listener without asking the rules.
            if self.rules.iter().any(|r| r.zones.iter().any(|z| z.zone_of(query.name()))) {
                query.mark_volatile();
            }
            return Flow::Next;
        };
        let zone = zone.to_ascii().to_ascii_lowercase();
        self.metrics.acted(action, &self.server, &zone);
        let (rcode, info) = match action {
            Action::Drop => return Flow::Answer(Answer::silence()),
            Action::Block => (ResponseCode::Refused, EDE_BLOCKED),
            Action::Filter => (ResponseCode::NoError, EDE_FILTERED),
            Action::Allow => return Flow::Next,
        };
        let mut answer = Answer::new(Sections {
            rcode,
            edns_options: vec![EdnsOption::Unknown(EDE, info.to_be_bytes().to_vec())],
            ..Sections::default()
        });
        answer.limit_reuse(Reusable::Never);
        answer.cacheable = false;
        Flow::Answer(answer)
    }
}
