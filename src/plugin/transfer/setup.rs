//! The `transfer` directive: `transfer [ZONE...] { to ADDRESS...; source ADDRESS }` -> one
//! [`Rule`] of [`TransferConfig`](super::TransferConfig).
//!
//! `to` takes `*`, IP addresses (with or without a port, as CoreDNS writes its notify targets)
//! and CIDR networks; it may be given several times and at least once. `source` is read and
//! checked but has no effect: Cairn sends no NOTIFY.

use std::net::{IpAddr, SocketAddr};

use hickory_proto::rr::Name;

use crate::corefile::args::{count, err, location, name, names, no_block};
use crate::corefile::{ConfigError, Directive, Location};
use crate::plugin::acl::policy::Net;
use crate::plugin::BlockContext;

/// One `transfer` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub location: Location,
    /// The zones it allows transfers of (the block's zones when none are given).
    pub zones: Vec<Name>,
    /// Who may transfer them.
    pub to: Vec<Peer>,
}

/// A client a `to` allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// `*`: everyone.
    Any,
    Net(Net),
}

impl Rule {
    /// Whether `client` may transfer this rule's zones.
    pub fn allows(&self, client: IpAddr) -> bool {
        self.to.iter().any(|p| match p {
            Peer::Any => true,
            Peer::Net(net) => net.contains(client),
        })
    }
}

/// Reads one `transfer` directive.
pub fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Rule, ConfigError> {
    let args = d.arg_texts();
    let zones = if args.is_empty() {
        block
            .zones
            .iter()
            .map(|z| name(d, z, "transfer"))
            .collect::<Result<_, _>>()?
    } else {
        names(d, &args, "transfer")?
    };
    let mut rule = Rule {
        location: location(d),
        zones,
        to: Vec::new(),
    };
    let mut source = false;
    for o in d.block.iter().flatten() {
        no_block(o, "transfer block")?;
        match o.name.as_str() {
            "to" => {
                count(o, 1, usize::MAX, "to ADDRESS...")?;
                for a in o.arg_texts() {
                    rule.to.push(peer(a).ok_or_else(|| {
                        err(
                            o,
                            format!("transfer: `to` address `{a}` is not `*`, an IP address (with or without a port) or a CIDR network"),
                        )
                    })?);
                }
            }
            "source" => {
                count(o, 1, 1, "source ADDRESS")?;
                if source {
                    return Err(err(o, "transfer: `source` already specified"));
                }
                source = true;
                let a = o.arg_texts()[0];
                if a.parse::<IpAddr>().is_err() {
                    return Err(err(o, format!("transfer: invalid source address `{a}`")));
                }
            }
            other => {
                return Err(err(
                    o,
                    format!("unknown transfer option `{other}`: expected `to` or `source`"),
                ))
            }
        }
    }
    if rule.to.is_empty() {
        return Err(err(
            d,
            "transfer: `to` is required (`transfer [ZONE...] { to ADDRESS... }`)",
        ));
    }
    Ok(rule)
}

fn peer(text: &str) -> Option<Peer> {
    if text == "*" {
        return Some(Peer::Any);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Net::parse(&addr.ip().to_string()).map(Peer::Net);
    }
    Net::parse(text).map(Peer::Net)
}
