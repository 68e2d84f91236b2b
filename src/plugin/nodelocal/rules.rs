//! Cairn's nftables table, `table inet cairn`, through netlink (no `nft` binary, no libnftnl):
//! the switch that keeps DNS to the node-local addresses out of connection tracking.
//!
//! ```text
//! table inet cairn {
//!   set listening { type inet_service; flags timeout; }        # 53, put back every second
//!   chain raw_prerouting { type filter hook prerouting priority raw;   # -300: queries in
//!     ip daddr A udp dport 53 fib daddr type local socket wildcard 0 notrack
//!     ip daddr A tcp dport 53 fib daddr type local socket transparent 0 notrack }
//!   chain raw_output { type filter hook output priority raw;
//!     ip saddr A udp sport 53 notrack; ...                                 # answers out
//!     ip daddr A udp dport 53 udp dport @listening fib daddr type local notrack; ... }
//!                                                                   # host-network clients
//!   chain filter_input { type filter hook input priority filter;
//!     ip daddr A udp dport 53 accept; ... }
//!   chain filter_output { type filter hook output priority filter;
//!     ip saddr A udp sport 53 accept; ... }
//! }
//! ```
//! (`ip6` for IPv6 addresses; one rule per address, protocol and port.) Untracked packets skip
//! every nat chain, whoever wrote it (kube-proxy's nftables or iptables-nft/legacy rules), so
//! the service proxy's DNAT of the kube-dns ClusterIP never fires and the packet is delivered
//! to the local address. Without the table, the same packet is DNATed as before: deleting the
//! table is the way back to the Service path. (An `accept` ends only the base chain it is in:
//! the filter chains keep a default-accept table from dropping untracked DNS, but cannot
//! overrule a drop in another table.)
//!
//! **Only while it can be answered here.** A query is taken off the service proxy only while
//! Cairn can answer it; otherwise it is tracked, and the service proxy sends it to the Service
//! as if the table were not there:
//! - `fib daddr type local`: the address is on the node now (an interface deleted behind
//!   Cairn's back would otherwise route untracked queries off the node until the repair);
//! - from pods, `socket wildcard 0` (`socket transparent 0` for TCP, see [`bound_socket`]): a
//!   socket is bound to that very address and port, Cairn's listener. The moment no Cairn
//!   listens (killed with `-9`, OOM-killed, crash-looping on a bad Corefile) queries stop
//!   matching;
//! - from the node itself, where the `socket` match would see the client's own socket:
//!   `@listening`, a set whose elements (the ports) a running Cairn puts back every
//!   [`HEARTBEAT`] with a [`LISTENING_TIMEOUT`] ([`heartbeat`]); a dead Cairn's expire.
//!
//! So the failure NodeLocal DNSCache has (rules left behind, nothing listening, the node's DNS
//! black-holed) does not happen here: at worst the node's own clients wait out the timeout.
//!
//! **Library.** The generated `netlink-bindings` (nftables family, from the kernel's netlink
//! YAML specs) encode and decode the messages and `netlink-socket2` sends them: both pure Rust,
//! MIT/Apache-2.0. The higher-level crates either link libnftnl (GPL) or lack `notrack` and
//! dumps. What is hand-written here is only which expressions make each rule (and the
//! `socket` expression, which the bindings lack).
//!
//! **Verification.** Every rule carries a comment (nft's userdata TLV, shown by `nft list`)
//! naming what it does; the table is "present" when its rules' chains and comments are exactly
//! the expected ones (a rule's body or a chain's policy changed by hand is not noticed).
//! Anything else — no table, a flushed chain, a missing or extra rule — is repaired by
//! replacing the whole table in one atomic batch.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::net::IpAddr;
use std::time::Duration;

use netlink_bindings::nftables::{
    self, CmpOps, MetaKeys, Nfgenmsg, PayloadBase, PushExprListAttrs, PushRuleAttrs, Registers,
    VerdictCode,
};
use netlink_bindings::traits::Pusher;
use netlink_bindings::utils::{
    finalize_nested_header, push_header, push_nested_header, RequestBuf,
};
use netlink_socket2::NetlinkSocket;

mod expr;
use expr::{comment_of, comment_udata, encode_rule};

/// The table's family and name, as `nft` writes them.
pub const TABLE: &str = "inet cairn";
const TABLE_NAME: &CStr = c"cairn";
/// The set a running Cairn keeps its ports in (see the module doc).
const LISTENING: &CStr = c"listening";
/// The set's id within the batch that creates it (the kernel requires one, and finds the set
/// by it while the batch is not committed yet).
const LISTENING_ID: u32 = 1;
/// How often a running Cairn puts its ports back into `@listening`.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a port stays in `@listening` without being put back.
pub const LISTENING_TIMEOUT: Duration = Duration::from_secs(3);
/// nft's datatype number for `inet_service` (what `nft list` shows the set's type as).
const TYPE_INET_SERVICE: u32 = 13;
const NFT_SET_TIMEOUT: u32 = 0x10;

const NFPROTO_INET: u8 = 1;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const NF_ACCEPT: u32 = 1;
/// `NFNL_SUBSYS_NFTABLES`, the batch's resource id.
const SUBSYS_NFTABLES: u16 = 10;
/// nft's userdata type for a rule comment.
const UDATA_RULE_COMMENT: u8 = 0;

/// A failed nftables request.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct RulesError {
    doing: &'static str,
    #[source]
    source: std::io::Error,
}

/// The error of a request that was `doing`; its text is kept whole (a netlink reply's includes
/// the kernel's extended ack: which message it refused).
fn failed<E: Into<std::io::Error> + std::fmt::Display>(
    doing: &'static str,
) -> impl FnOnce(E) -> RulesError {
    move |e| {
        let text = e.to_string();
        let kind = e.into().kind();
        RulesError {
            doing,
            source: std::io::Error::new(kind, text),
        }
    }
}

/// The base chains: name, hook, priority.
const CHAINS: [(&CStr, u32, i32); 4] = [
    (c"raw_prerouting", 0, -300), // NF_INET_PRE_ROUTING, raw
    (c"raw_output", 3, -300),     // NF_INET_LOCAL_OUT, raw
    (c"filter_input", 1, 0),      // NF_INET_LOCAL_IN, filter
    (c"filter_output", 3, 0),     // NF_INET_LOCAL_OUT, filter
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// Match the destination address and port.
    To,
    /// Match the source address and port.
    From,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Notrack,
    Accept,
}

/// One rule of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    chain: &'static CStr,
    addr: IpAddr,
    tcp: bool,
    port: u16,
    side: Side,
    verdict: Verdict,
}

impl Rule {
    /// Queries are taken off the service proxy only while they can be answered here.
    fn only_while_listening(&self) -> bool {
        self.side == Side::To && self.verdict == Verdict::Notrack
    }

    /// In `raw_output` the `socket` match sees the client's socket: the node's own queries
    /// are guarded by `@listening` instead.
    fn for_node_clients(&self) -> bool {
        self.chain == CHAINS[1].0
    }

    /// What `nft` would print for it; also its comment, by which it is recognised.
    fn comment(&self) -> String {
        let family = if self.addr.is_ipv4() { "ip" } else { "ip6" };
        let proto = if self.tcp { "tcp" } else { "udp" };
        let (a, p) = match self.side {
            Side::To => ("daddr", "dport"),
            Side::From => ("saddr", "sport"),
        };
        let verdict = match self.verdict {
            Verdict::Notrack => "notrack",
            Verdict::Accept => "accept",
        };
        let guard = if !self.only_while_listening() {
            String::new()
        } else if self.for_node_clients() {
            format!(" {proto} dport @listening fib daddr type local")
        } else if self.tcp {
            " fib daddr type local socket transparent 0".to_string()
        } else {
            " fib daddr type local socket wildcard 0".to_string()
        };
        format!(
            "cairn: {family} {a} {} {proto} {p} {}{guard} {verdict}",
            self.addr, self.port
        )
    }
}

/// What the table must hold: the captured addresses and ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub addrs: Vec<IpAddr>,
    pub ports: Vec<u16>,
}

impl Spec {
    fn rules(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        let shapes: [(&'static CStr, Side, Verdict); 5] = [
            (CHAINS[0].0, Side::To, Verdict::Notrack),
            (CHAINS[1].0, Side::From, Verdict::Notrack),
            (CHAINS[1].0, Side::To, Verdict::Notrack),
            (CHAINS[2].0, Side::To, Verdict::Accept),
            (CHAINS[3].0, Side::From, Verdict::Accept),
        ];
        for (chain, side, verdict) in shapes {
            for &addr in &self.addrs {
                for &port in &self.ports {
                    for tcp in [false, true] {
                        out.push(Rule {
                            chain,
                            addr,
                            tcp,
                            port,
                            side,
                            verdict,
                        });
                    }
                }
            }
        }
        out
    }

    /// (chain, comment) -> how many times, for comparing with what the kernel holds.
    fn expected(&self) -> BTreeMap<(String, String), usize> {
        let mut out = BTreeMap::new();
        for rule in self.rules() {
            let key = (rule.chain.to_string_lossy().into_owned(), rule.comment());
            *out.entry(key).or_insert(0) += 1;
        }
        out
    }
}

fn header(family: u8) -> Nfgenmsg {
    Nfgenmsg {
        nfgen_family: family,
        ..Default::default()
    }
}

fn batch_header() -> Nfgenmsg {
    let mut h = Nfgenmsg::new();
    h.set_res_id(SUBSYS_NFTABLES);
    h
}

/// Adds the (empty) table, in the batch being built; one already there is kept.
fn push_new_table(c: &mut nftables::Chained<'_>) {
    c.request()
        .set_create()
        .op_newtable_do(&header(NFPROTO_INET))
        .encode()
        .push_name(TABLE_NAME);
}

/// Removes the table if it is there, in the batch being built (adding it first makes the
/// delete succeed either way).
fn push_delete(c: &mut nftables::Chained<'_>) {
    push_new_table(c);
    c.request()
        .op_deltable_do(&header(NFPROTO_INET))
        .encode()
        .push_name(TABLE_NAME);
}

fn send(
    sock: &mut NetlinkSocket,
    doing: &'static str,
    build: impl FnOnce(&mut nftables::Chained<'_>),
) -> Result<(), RulesError> {
    let mut c = nftables::Chained::new(sock.reserve_seq(512));
    c.request().op_batch_begin_do(&batch_header());
    build(&mut c);
    c.request().op_batch_end_do(&batch_header());
    sock.request_chained(&c.finalize())
        .map_err(failed(doing))?
        .recv_all()
        .map_err(failed(doing))
}

/// Replaces the table with exactly what `spec` needs, atomically: there is no moment with
/// half a table.
pub fn install(spec: &Spec) -> Result<(), RulesError> {
    let mut sock = NetlinkSocket::new();
    send(&mut sock, "installing table inet cairn", |c| {
        push_delete(c);
        push_new_table(c);
        c.request()
            .set_create()
            .op_newset_do(&header(NFPROTO_INET))
            .encode()
            .push_table(TABLE_NAME)
            .push_name(LISTENING)
            .push_flags(NFT_SET_TIMEOUT)
            .push_key_type(TYPE_INET_SERVICE)
            .push_key_len(2)
            // Big-endian, as the kernel reads it: the bindings write this one's native bytes.
            .push_id(LISTENING_ID.to_be());
        push_listening(c, spec, true);
        for (name, hook, priority) in CHAINS {
            c.request()
                .set_create()
                .op_newchain_do(&header(NFPROTO_INET))
                .encode()
                .push_table(TABLE_NAME)
                .push_name(name)
                .nested_hook()
                .push_num(hook)
                .push_priority(priority)
                .end_nested()
                .push_type(c"filter")
                .push_policy(NF_ACCEPT);
        }
        for rule in spec.rules() {
            let comment = rule.comment();
            let exprs = c
                .request()
                .set_create()
                .set_append()
                .op_newrule_do(&header(NFPROTO_INET))
                .into_encoder()
                .push_table(TABLE_NAME)
                .push_chain(rule.chain)
                .push_userdata(&comment_udata(&comment))
                .nested_expressions();
            encode_rule(exprs, &rule).end_nested();
        }
    })
}

/// Adds (`add`) or deletes the ports of `spec` in `@listening`, in the batch being built;
/// added with the [`LISTENING_TIMEOUT`]. (The set is named, not referred to by a batch id,
/// also when it is created in the same batch: the kernel finds it by name.)
fn push_listening(c: &mut nftables::Chained<'_>, spec: &Spec, add: bool) {
    let request = c.request();
    let list = if add {
        request
            .set_create()
            .op_newsetelem_do(&header(NFPROTO_INET))
            .into_encoder()
    } else {
        request
            .op_delsetelem_do(&header(NFPROTO_INET))
            .into_encoder()
    }
    .push_table(TABLE_NAME)
    .push_set(LISTENING);
    let mut elements = list.nested_elements();
    for port in &spec.ports {
        let elem = elements
            .nested_elem()
            .nested_key()
            .push_value(&port.to_be_bytes())
            .end_nested();
        let elem = if add {
            // The kernel reads a big-endian u64; the bindings write the value's native bytes.
            elem.push_timeout((LISTENING_TIMEOUT.as_millis() as u64).to_be())
        } else {
            elem
        };
        elements = elem.end_nested();
    }
    elements.end_nested().end_nested();
}

/// Puts the ports back into `@listening` with a fresh timeout (delete and add in one batch;
/// the first add makes the delete succeed if an element had expired). Fails when the table is
/// not there: the next check repairs it.
pub fn heartbeat(spec: &Spec) -> Result<(), RulesError> {
    let mut sock = NetlinkSocket::new();
    send(
        &mut sock,
        "refreshing @listening in table inet cairn",
        |c| {
            push_listening(c, spec, true);
            push_listening(c, spec, false);
            push_listening(c, spec, true);
        },
    )
}

/// Deletes the table (gone already is fine).
pub fn remove() -> Result<(), RulesError> {
    let mut sock = NetlinkSocket::new();
    send(&mut sock, "deleting table inet cairn", push_delete)
}

/// True when the table holds exactly the rules `spec` needs.
pub fn present(spec: &Spec) -> Result<bool, RulesError> {
    let mut sock = NetlinkSocket::new();
    let mut request = nftables::Request::new().op_getrule_dump(&header(NFPROTO_INET));
    request.encode().push_table(TABLE_NAME);
    let mut found: BTreeMap<(String, String), usize> = BTreeMap::new();
    {
        let mut replies = match sock.request(&request) {
            Ok(r) => r,
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(failed("listing table inet cairn")(e)),
        };
        while let Some(reply) = replies.recv() {
            let (_, attrs) = match reply {
                Ok(r) => r,
                Err(e) if is_missing(e.as_io_error()) => return Ok(false),
                Err(e) => return Err(failed("listing table inet cairn")(e)),
            };
            let chain = attrs
                .get_chain()
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            let comment = attrs
                .get_userdata()
                .ok()
                .and_then(comment_of)
                .unwrap_or_default();
            *found.entry((chain, comment)).or_insert(0) += 1;
        }
    }
    Ok(found == spec.expected())
}

fn is_missing(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_port_and_protocol_gets_its_five_rules() {
        let spec = Spec {
            addrs: vec![
                "169.254.20.10".parse().unwrap(),
                "fd00::10".parse().unwrap(),
            ],
            ports: vec![53],
        };
        let rules = spec.rules();
        assert_eq!(rules.len(), 2 * 2 * 5);
        let comments: Vec<String> = rules.iter().map(Rule::comment).collect();
        for want in [
            "cairn: ip daddr 169.254.20.10 udp dport 53 fib daddr type local socket wildcard 0 notrack",
            "cairn: ip daddr 169.254.20.10 tcp dport 53 tcp dport @listening fib daddr type local notrack",
            "cairn: ip saddr 169.254.20.10 tcp sport 53 notrack",
            "cairn: ip6 daddr fd00::10 tcp dport 53 accept",
            "cairn: ip6 saddr fd00::10 udp sport 53 accept",
        ] {
            assert!(comments.iter().any(|c| c == want), "{want} in {comments:?}");
        }
    }

    #[test]
    fn a_comment_survives_its_userdata_encoding() {
        let text = "cairn: ip daddr 10.96.0.10 udp dport 53 socket wildcard 0 notrack";
        assert_eq!(comment_of(&comment_udata(text)).as_deref(), Some(text));
        assert_eq!(
            comment_of(&[0, 40, b'x']),
            None,
            "a truncated TLV is no comment"
        );
    }
}
