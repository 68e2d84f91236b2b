//! `rewrite edns0 local|nsid|subnet set|append|replace|unset ...`: an EDNS0 option of the query,
//! as the plugins after `rewrite` (and `forward`'s upstreams) see it.
//!
//! As CoreDNS's README says: `set` changes the option or adds it, `append` adds it when the
//! query has none, `replace` changes it only when the query has one, `unset` removes it. A
//! query without an OPT record gets one (payload 1232, Cairn's own) when an option is added.
//! The client's own OPT comes back unchanged in the answer whatever a rule did (see the module
//! doc of `rewrite`).

use std::net::IpAddr;

use hickory_proto::op::Edns;
use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsCode, EdnsOption, NSIDPayload};

use super::setup::{Word, Words};
use crate::corefile::ConfigError;
use crate::dns::request::ADVERTISED_UDP_PAYLOAD;
use crate::plugin::Query;

/// NSID's option code (RFC 5001).
const NSID: u16 = 3;
/// Client subnet's option code (RFC 7871).
const SUBNET: u16 = 8;

/// What a rule does with its option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edns0Action {
    Set,
    Append,
    Replace,
    Unset,
}

/// One `edns0` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edns0Rule {
    pub action: Edns0Action,
    pub option: Edns0Option,
    /// `revert`: accepted for CoreDNS's sake; Cairn's answers never carry the query's options.
    pub revert: bool,
}

/// The option a rule is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edns0Option {
    /// `local CODE DATA`: an option of any code, with fixed bytes or a value of the query.
    Local { code: u16, data: LocalData },
    /// `nsid`: an empty NSID option (asks the upstream for its identifier).
    Nsid,
    /// `subnet V4BITS V6BITS`: the client's address cut to its first bits (RFC 7871).
    Subnet { v4: u8, v6: u8 },
}

/// The data of a `local` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalData {
    /// Text, or hex after `0x`.
    Bytes(Vec<u8>),
    Variable(Variable),
}

/// A value of the query for a `local` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variable {
    /// `{qname}`: the question's name as text (as earlier rules left it).
    Qname,
    /// `{qtype}`: its type, 2 bytes.
    Qtype,
    /// `{client_ip}`: 4 or 16 bytes.
    ClientIp,
    /// `{client_port}`: 2 bytes.
    ClientPort,
    /// `{protocol}`: `udp` or `tcp`.
    Protocol,
}

impl Variable {
    /// The variables, as written in a Corefile.
    pub const ALL: [(&'static str, Variable); 5] = [
        ("{qname}", Variable::Qname),
        ("{qtype}", Variable::Qtype),
        ("{client_ip}", Variable::ClientIp),
        ("{client_port}", Variable::ClientPort),
        ("{protocol}", Variable::Protocol),
    ];

    fn value(self, query: &Query) -> Vec<u8> {
        match self {
            Variable::Qname => query.name().to_ascii().into_bytes(),
            Variable::Qtype => u16::from(query.qtype()).to_be_bytes().to_vec(),
            Variable::ClientIp => match query.client.ip().to_canonical() {
                IpAddr::V4(ip) => ip.octets().to_vec(),
                IpAddr::V6(ip) => ip.octets().to_vec(),
            },
            Variable::ClientPort => query.client.port().to_be_bytes().to_vec(),
            Variable::Protocol => query.transport.as_str().as_bytes().to_vec(),
        }
    }
}

impl Edns0Rule {
    /// Whether what the rule writes depends on who asks (so the answer cannot be reused for
    /// the same query bytes from another client).
    pub fn depends_on_client(&self) -> bool {
        match &self.option {
            Edns0Option::Subnet { .. } => self.action != Edns0Action::Unset,
            Edns0Option::Local {
                data: LocalData::Variable(v),
                ..
            } => matches!(
                v,
                Variable::ClientIp | Variable::ClientPort | Variable::Protocol
            ),
            _ => false,
        }
    }

    /// Applies the rule to the query; true when it counts as a rewrite (for `stop`), as in
    /// CoreDNS: `unset` always does, the others when they changed or added the option.
    pub fn apply(&self, query: &mut Query) -> bool {
        let code = match self.option {
            Edns0Option::Local { code, .. } => code,
            Edns0Option::Nsid => NSID,
            Edns0Option::Subnet { .. } => SUBNET,
        };
        if self.action == Edns0Action::Unset {
            if let Some(edns) = query.request.message.edns.as_mut() {
                edns.options_mut().remove(EdnsCode::from(code));
            }
            return true;
        }
        let option = self.value(query);
        let message = &mut query.request.message;
        let existing = message.edns.as_mut().and_then(|edns| {
            edns.options_mut()
                .options
                .iter_mut()
                .find(|(c, _)| u16::from(*c) == code)
        });
        match (existing, self.action) {
            (Some(entry), Edns0Action::Set | Edns0Action::Replace) => {
                *entry = (EdnsCode::from(code), option);
                true
            }
            (None, Edns0Action::Set | Edns0Action::Append) => {
                let edns = message.edns.get_or_insert_with(|| {
                    let mut edns = Edns::new();
                    edns.set_max_payload(ADVERTISED_UDP_PAYLOAD);
                    edns
                });
                edns.options_mut().options.push((EdnsCode::from(code), option));
                true
            }
            _ => false,
        }
    }

    /// The option as the query gets it.
    fn value(&self, query: &Query) -> EdnsOption {
        match &self.option {
            Edns0Option::Local { code, data } => {
                let bytes = match data {
                    LocalData::Bytes(b) => b.clone(),
                    LocalData::Variable(v) => v.value(query),
                };
                EdnsOption::Unknown(*code, bytes)
            }
            Edns0Option::Nsid => match NSIDPayload::new(Vec::new()) {
                Ok(empty) => EdnsOption::NSID(empty),
                Err(_) => EdnsOption::Unknown(NSID, Vec::new()),
            },
            Edns0Option::Subnet { v4, v6 } => {
                EdnsOption::Subnet(client_subnet(query.client.ip(), *v4, *v6))
            }
        }
    }
}

/// The client's subnet: its address with only the first `v4` (IPv4) or `v6` (IPv6) bits kept.
pub fn client_subnet(ip: IpAddr, v4: u8, v6: u8) -> ClientSubnet {
    match ip.to_canonical() {
        IpAddr::V4(ip) => {
            let bits = u32::from(ip) & mask32(v4);
            ClientSubnet::new(IpAddr::V4(bits.into()), v4, 0)
        }
        IpAddr::V6(ip) => {
            let bits = u128::from(ip) & mask128(v6);
            ClientSubnet::new(IpAddr::V6(bits.into()), v6, 0)
        }
    }
}

fn mask32(bits: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(bits.min(32))).unwrap_or(0)
}

fn mask128(bits: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(bits.min(128))).unwrap_or(0)
}

const LOCAL_USAGE: &str = "edns0 local set|append|replace CODE DATA [revert] | edns0 local unset CODE";
const NSID_USAGE: &str = "edns0 nsid set|append|replace [revert] | edns0 nsid unset";
const SUBNET_USAGE: &str =
    "edns0 subnet set|append|replace V4BITS V6BITS [revert] | edns0 subnet unset";

/// Reads `edns0 TYPE ACTION ARGS...` (`args`: the words after `edns0`).
pub(super) fn parse(
    words: &Words<'_>,
    field: Word<'_>,
    args: &[Word<'_>],
) -> Result<Edns0Rule, ConfigError> {
    let [kind, action, rest @ ..] = args else {
        return Err(words.err(
            field,
            "too few arguments for an edns0 rule: expected `edns0 local|nsid|subnet set|append|replace|unset ...`",
        ));
    };
    let act = match action.text.to_ascii_lowercase().as_str() {
        "set" => Edns0Action::Set,
        "append" => Edns0Action::Append,
        "replace" => Edns0Action::Replace,
        "unset" => Edns0Action::Unset,
        _ => {
            return Err(words.err(
                *action,
                format!(
                    "invalid edns0 action `{}`: expected set, append, replace or unset",
                    action.text
                ),
            ))
        }
    };
    let (rest, revert) = match rest.split_last() {
        Some((last, before)) if last.text == "revert" && act != Edns0Action::Unset => {
            (before, true)
        }
        _ => (rest, false),
    };
    let kind_text = kind.text.to_ascii_lowercase();
    let usage = match kind_text.as_str() {
        "local" => LOCAL_USAGE,
        "nsid" => NSID_USAGE,
        "subnet" => SUBNET_USAGE,
        _ => {
            return Err(words.err(
                *kind,
                format!(
                    "invalid edns0 option `{}`: expected local, nsid or subnet",
                    kind.text
                ),
            ))
        }
    };
    let wrong = |n: usize| {
        words.err(
            *kind,
            format!(
                "wrong number of arguments for `edns0 {kind_text} {}`: expected `{usage}`, got {n} after the action",
                action.text
            ),
        )
    };
    let option = match (kind_text.as_str(), act, rest) {
        ("local", Edns0Action::Unset, [code]) => Edns0Option::Local {
            code: option_code(words, *code)?,
            data: LocalData::Bytes(Vec::new()),
        },
        ("local", _, [code, data]) if act != Edns0Action::Unset => Edns0Option::Local {
            code: option_code(words, *code)?,
            data: local_data(words, *data)?,
        },
        ("nsid", _, []) => Edns0Option::Nsid,
        ("subnet", Edns0Action::Unset, []) => Edns0Option::Subnet { v4: 0, v6: 0 },
        ("subnet", _, [v4, v6]) if act != Edns0Action::Unset => Edns0Option::Subnet {
            v4: prefix_len(words, *v4, 32, "IPv4")?,
            v6: prefix_len(words, *v6, 128, "IPv6")?,
        },
        _ => return Err(wrong(rest.len())),
    };
    Ok(Edns0Rule {
        action: act,
        option,
        revert,
    })
}

/// An option code: decimal, or hex after `0x`.
fn option_code(words: &Words<'_>, w: Word<'_>) -> Result<u16, ConfigError> {
    let parsed = match w.text.strip_prefix("0x").or_else(|| w.text.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => w.text.parse().ok(),
    };
    parsed.ok_or_else(|| {
        words.err(
            w,
            format!(
                "invalid EDNS0 option code `{}`: expected a number from 0 to 65535 (0x... for hex)",
                w.text
            ),
        )
    })
}

/// A local option's data: a `{variable}`, hex after `0x`, or the text's bytes.
fn local_data(words: &Words<'_>, w: Word<'_>) -> Result<LocalData, ConfigError> {
    if w.text.starts_with('{') && w.text.ends_with('}') {
        if let Some((_, v)) = Variable::ALL.iter().find(|(n, _)| *n == w.text) {
            return Ok(LocalData::Variable(*v));
        }
        let names: Vec<&str> = Variable::ALL.iter().map(|(n, _)| *n).collect();
        let unsupported = ["{server_ip}", "{server_port}"].contains(&w.text);
        return Err(words.err(
            w,
            format!(
                "{} variable `{}` for edns0 local data: expected one of {}",
                if unsupported {
                    "not supported yet:"
                } else {
                    "unknown"
                },
                w.text,
                names.join(", ")
            ),
        ));
    }
    let Some(hex) = w.text.strip_prefix("0x") else {
        return Ok(LocalData::Bytes(w.text.as_bytes().to_vec()));
    };
    let bytes: Option<Vec<u8>> = (hex.len() % 2 == 0)
        .then(|| {
            (0..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                .collect()
        })
        .flatten();
    bytes.map(LocalData::Bytes).ok_or_else(|| {
        words.err(
            w,
            format!(
                "invalid hex data `{}` for edns0 local: expected an even number of hex digits after 0x",
                w.text
            ),
        )
    })
}

fn prefix_len(words: &Words<'_>, w: Word<'_>, max: u8, family: &str) -> Result<u8, ConfigError> {
    w.text
        .parse::<u8>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            words.err(
                w,
                format!(
                    "invalid {family} prefix length `{}` for edns0 subnet: expected a number from 0 to {max}",
                    w.text
                ),
            )
        })
}
