//! One `acl` policy line (`ACTION [type QTYPE...] [net SOURCE...]`), parsed once into the types
//! and networks it matches, and the plugin's metrics under CoreDNS's names.

use std::net::IpAddr;
use std::str::FromStr;

use hickory_proto::rr::RecordType;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::corefile::args::err;
use crate::corefile::{ConfigError, Directive};
use crate::metrics::{view, PluginMetrics, Value};

/// What a policy does with a query it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Block,
    Filter,
    Drop,
}

/// A network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// `ADDR` (a host: /32, /128) or `ADDR/PREFIX`; the address is masked to the prefix, as Go's
    /// `net.ParseCIDR` gives it.
    pub fn parse(text: &str) -> Option<Net> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (IpAddr::from_str(a).ok()?, Some(p.parse::<u8>().ok()?)),
            None => (IpAddr::from_str(text).ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        let net = Net { addr, prefix };
        Some(Net {
            addr: net.masked(addr)?,
            prefix,
        })
    }

    fn masked(&self, ip: IpAddr) -> Option<IpAddr> {
        match ip {
            IpAddr::V4(v4) if self.addr.is_ipv4() => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                Some(IpAddr::from((u32::from(v4) & mask).to_be_bytes()))
            }
            IpAddr::V6(v6) if self.addr.is_ipv6() => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                Some(IpAddr::from((u128::from(v6) & mask).to_be_bytes()))
            }
            _ => None,
        }
    }

    /// Whether `ip` is in the network (of the same family).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.masked(ip) == Some(self.addr)
    }
}

/// One policy: its action, and the types and sources it matches (`None`: all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub action: Action,
    pub types: Option<Vec<RecordType>>,
    pub nets: Option<Vec<Net>>,
}

impl Policy {
    /// Reads one line of an `acl` block.
    pub fn parse(line: &Directive) -> Result<Policy, ConfigError> {
        let action = match line.name.as_str() {
            "allow" => Action::Allow,
            "block" => Action::Block,
            "filter" => Action::Filter,
            "drop" => Action::Drop,
            other => {
                return Err(err(
                    line,
                    format!("acl: unexpected `{other}`: expected `allow`, `block`, `filter` or `drop`"),
                ))
            }
        };
        if line.block.is_some() {
            return Err(err(line, format!("acl: `{}` takes no block", line.name)));
        }
        let (mut types, mut nets) = (None::<Vec<RecordType>>, None::<Vec<Net>>);
        let args = line.arg_texts();
        let section = |t: &str| t.eq_ignore_ascii_case("type") || t.eq_ignore_ascii_case("net");
        let mut rest = &args[..];
        while let Some((&head, tail)) = rest.split_first() {
            if !section(head) {
                return Err(err(
                    line,
                    format!("acl: unexpected `{head}`: expected `type QTYPE...` or `net SOURCE...`"),
                ));
            }
            let end = tail.iter().position(|t| section(t)).unwrap_or(tail.len());
            let (items, after) = tail.split_at(end);
            rest = after;
            let head = head.to_ascii_lowercase();
            if items.is_empty() {
                return Err(err(line, format!("acl: `{head}` names nothing")));
            }
            if head == "type" {
                let list = types.get_or_insert_with(Vec::new);
                for &t in items {
                    if t == "*" {
                        types = Some(Vec::new());
                        break;
                    }
                    let qtype = RecordType::from_str(&t.to_ascii_uppercase())
                        .ok()
                        .filter(|q| !matches!(q, RecordType::Unknown(_)))
                        .ok_or_else(|| {
                            err(line, format!("acl: unexpected `{t}`: expected a query type such as A or AAAA, or `*`"))
                        })?;
                    list.push(qtype);
                }
            } else {
                let list = nets.get_or_insert_with(Vec::new);
                for &t in items {
                    if t == "*" {
                        nets = Some(Vec::new());
                        break;
                    }
                    let net = Net::parse(t).ok_or_else(|| {
                        err(line, format!("acl: `{t}` is not an address or a CIDR such as 192.168.0.0/16"))
                    })?;
                    list.push(net);
                }
            }
        }
        // `*` (kept as an empty list) and a missing section both match everything.
        Ok(Policy {
            action,
            types: types.filter(|t| !t.is_empty()),
            nets: nets.filter(|n| !n.is_empty()),
        })
    }

    /// Whether a query of `qtype` from `source` matches.
    pub fn matches(&self, qtype: RecordType, source: IpAddr) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&qtype))
            && self
                .nets
                .as_ref()
                .is_none_or(|n| n.iter().any(|net| net.contains(source)))
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Zoned {
    server: Value,
    zone: Value,
    view: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Served {
    server: Value,
    view: Value,
}

/// `coredns_acl_{blocked,filtered,dropped}_requests_total{server,zone,view}` and
/// `coredns_acl_allowed_requests_total{server,view}`.
#[derive(Debug, Default)]
pub struct AclMetrics {
    blocked: Family<Zoned, Counter>,
    filtered: Family<Zoned, Counter>,
    dropped: Family<Zoned, Counter>,
    allowed: Family<Served, Counter>,
}

impl PluginMetrics for AclMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = AclMetrics::default();
        // Counters are registered without `_total`: the encoder appends it.
        for (name, help, family) in [
            ("coredns_acl_blocked_requests", "Counter of DNS requests being blocked.", &m.blocked),
            ("coredns_acl_filtered_requests", "Counter of DNS requests being filtered.", &m.filtered),
            ("coredns_acl_dropped_requests", "Counter of DNS requests being dropped.", &m.dropped),
        ] {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "coredns_acl_allowed_requests",
            "Counter of DNS requests being allowed.",
            m.allowed.clone(),
        );
        m
    }
}

impl AclMetrics {
    /// The allowed-requests counter of `server` (resolved once, when a chain is built).
    pub fn allowed(&self, server: &str) -> Counter {
        let labels = Served {
            server: server.into(),
            view: view(),
        };
        self.allowed.get_or_create(&labels).clone()
    }

    pub fn acted(&self, action: Action, server: &str, zone: &str) {
        let family = match action {
            Action::Block => &self.blocked,
            Action::Filter => &self.filtered,
            Action::Drop => &self.dropped,
            Action::Allow => return,
        };
        let labels = Zoned {
            server: server.into(),
            zone: zone.into(),
            view: view(),
        };
        family.get_or_create(&labels).inc();
    }
}
