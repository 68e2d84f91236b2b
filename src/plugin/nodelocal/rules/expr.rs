//! How one rule of `table inet cairn` becomes nftables expressions (and its comment userdata):
//! the matches of the module doc, written by hand where the bindings lack them (`socket`) or
//! get attribute numbers wrong (`lookup`).

use super::*;

/// A rule comment as nft stores it: type, length, the text with its NUL.
pub(super) fn comment_udata(text: &str) -> Vec<u8> {
    let mut bytes: Vec<u8> = text.bytes().take(126).collect();
    bytes.push(0);
    let mut out = vec![UDATA_RULE_COMMENT, bytes.len() as u8];
    out.extend(bytes);
    out
}

/// The comment in a rule's userdata, if any.
pub(super) fn comment_of(mut udata: &[u8]) -> Option<String> {
    while udata.len() >= 2 {
        let (kind, len) = (udata[0], usize::from(udata[1]));
        let value = udata.get(2..2 + len)?;
        if kind == UDATA_RULE_COMMENT {
            let text = value.strip_suffix(&[0]).unwrap_or(value);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        udata = &udata[2 + len..];
    }
    None
}

type Exprs<'a> = PushExprListAttrs<PushRuleAttrs<RequestBuf<'a>>>;

/// `meta nfproto F; meta l4proto P; ip[6] daddr|saddr A; th dport|sport N; notrack|accept`.
pub(super) fn encode_rule<'a>(exprs: Exprs<'a>, rule: &Rule) -> Exprs<'a> {
    let (nfproto, addr_bytes, addr_offset) = match (rule.addr, rule.side) {
        (IpAddr::V4(a), Side::To) => (NFPROTO_IPV4, a.octets().to_vec(), 16),
        (IpAddr::V4(a), Side::From) => (NFPROTO_IPV4, a.octets().to_vec(), 12),
        (IpAddr::V6(a), Side::To) => (NFPROTO_IPV6, a.octets().to_vec(), 24),
        (IpAddr::V6(a), Side::From) => (NFPROTO_IPV6, a.octets().to_vec(), 8),
    };
    let port_offset = match rule.side {
        Side::To => 2,
        Side::From => 0,
    };
    let l4 = if rule.tcp { IPPROTO_TCP } else { IPPROTO_UDP };
    let exprs = meta_eq(exprs, MetaKeys::Nfproto, &[nfproto]);
    let exprs = meta_eq(exprs, MetaKeys::L4Proto, &[l4]);
    let exprs = payload_eq(exprs, PayloadBase::NetworkHeader, addr_offset, &addr_bytes);
    let mut exprs = payload_eq(
        exprs,
        PayloadBase::TransportHeader,
        port_offset,
        &rule.port.to_be_bytes(),
    );
    if rule.only_while_listening() && rule.for_node_clients() {
        exprs = local_destination(in_listening(exprs));
    } else if rule.only_while_listening() {
        exprs = bound_socket(local_destination(exprs), rule.tcp);
    }
    match rule.verdict {
        // `notrack` has no attributes: the expression is its name alone.
        Verdict::Notrack => exprs.nested_elem().push_name(c"notrack").end_nested(),
        Verdict::Accept => exprs
            .nested_elem()
            .nested_data_immediate()
            .push_dreg(Registers::RegVerdict as u32)
            .nested_data()
            .nested_verdict()
            .push_code(VerdictCode::Accept as u32)
            .end_nested()
            .end_nested()
            .end_nested()
            .end_nested(),
    }
}

/// `th dport @listening`: the port, still in register 1 from the match before, is in the set
/// (`fib` afterwards overwrites the register). Written by hand: the generated bindings number
/// the lookup's attributes differently from the kernel's `nft_lookup_attributes` (their
/// `sreg` is the kernel's `dreg`).
pub(super) fn in_listening(exprs: Exprs<'_>) -> Exprs<'_> {
    const NFTA_EXPR_DATA: u16 = 2;
    const NFTA_LOOKUP_SET: u16 = 1;
    const NFTA_LOOKUP_SREG: u16 = 2;
    const NFTA_LOOKUP_SET_ID: u16 = 4;
    let mut elem = exprs.nested_elem().push_name(c"lookup");
    let buf = elem.as_vec_mut();
    let data = push_nested_header(buf, NFTA_EXPR_DATA);
    let name = LISTENING.to_bytes_with_nul();
    push_header(buf, NFTA_LOOKUP_SET, name.len() as u16);
    buf.extend(name);
    for (kind, value) in [
        (NFTA_LOOKUP_SREG, Registers::Reg1 as u32),
        (NFTA_LOOKUP_SET_ID, LISTENING_ID),
    ] {
        push_header(buf, kind, 4);
        buf.extend(value.to_be_bytes());
    }
    finalize_nested_header(buf, data);
    elem.end_nested()
}

/// `fib daddr type local`: the destination is an address of this node now (the result is a
/// host-order `u32` route type, `RTN_LOCAL`).
pub(super) fn local_destination(exprs: Exprs<'_>) -> Exprs<'_> {
    const NFTA_FIB_F_DADDR: u32 = 1 << 1;
    const NFT_FIB_RESULT_ADDRTYPE: u32 = 3;
    const RTN_LOCAL: u32 = 2;
    let exprs = exprs
        .nested_elem()
        .nested_data_fib()
        .push_dreg(Registers::Reg1 as u32)
        .push_result(NFT_FIB_RESULT_ADDRTYPE)
        .push_flags(NFTA_FIB_F_DADDR)
        .end_nested()
        .end_nested();
    cmp_eq(exprs, &RTN_LOCAL.to_ne_bytes())
}

/// A socket for the packet exists (none: the rule stops here). UDP: `socket wildcard 0`, a
/// socket bound to the packet's very address and port. TCP: `socket transparent 0`, any
/// (non-transparent) socket, because the handshake's last ACK finds a request socket, which
/// `wildcard` cannot look into (it would leave that ACK tracked, and the service proxy would
/// DNAT it: the connection would be reset). The generated bindings have no `socket`
/// expression, so its two attributes are written by hand: `NFTA_SOCKET_KEY`,
/// `NFTA_SOCKET_DREG` = register 1 (one byte, 0 or 1).
pub(super) fn bound_socket(exprs: Exprs<'_>, tcp: bool) -> Exprs<'_> {
    const NFTA_EXPR_DATA: u16 = 2;
    const NFTA_SOCKET_KEY: u16 = 1;
    const NFTA_SOCKET_DREG: u16 = 2;
    const NFT_SOCKET_TRANSPARENT: u32 = 0;
    const NFT_SOCKET_WILDCARD: u32 = 2;
    let key = if tcp {
        NFT_SOCKET_TRANSPARENT
    } else {
        NFT_SOCKET_WILDCARD
    };
    let mut elem = exprs.nested_elem().push_name(c"socket");
    let buf = elem.as_vec_mut();
    let data = push_nested_header(buf, NFTA_EXPR_DATA);
    for (kind, value) in [
        (NFTA_SOCKET_KEY, key),
        (NFTA_SOCKET_DREG, Registers::Reg1 as u32),
    ] {
        push_header(buf, kind, 4);
        buf.extend(value.to_be_bytes());
    }
    finalize_nested_header(buf, data);
    cmp_eq(elem.end_nested(), &[0])
}

pub(super) fn cmp_eq<'a>(exprs: Exprs<'a>, value: &[u8]) -> Exprs<'a> {
    exprs
        .nested_elem()
        .nested_data_cmp()
        .push_sreg(Registers::Reg1 as u32)
        .push_op(CmpOps::Eq as u32)
        .nested_data()
        .push_value(value)
        .end_nested()
        .end_nested()
        .end_nested()
}

pub(super) fn meta_eq<'a>(exprs: Exprs<'a>, key: MetaKeys, value: &[u8]) -> Exprs<'a> {
    let exprs = exprs
        .nested_elem()
        .nested_data_meta()
        .push_dreg(Registers::Reg1 as u32)
        .push_key(key as u32)
        .end_nested()
        .end_nested();
    cmp_eq(exprs, value)
}

pub(super) fn payload_eq<'a>(exprs: Exprs<'a>, base: PayloadBase, offset: u32, value: &[u8]) -> Exprs<'a> {
    let exprs = exprs
        .nested_elem()
        .nested_data_payload()
        .push_dreg(Registers::Reg1 as u32)
        .push_base(base as u32)
        .push_offset(offset)
        .push_len(value.len() as u32)
        .end_nested()
        .end_nested();
    cmp_eq(exprs, value)
}
