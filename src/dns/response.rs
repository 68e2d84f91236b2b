//! Encoding answers: header flags echoed from the request, the question echoed as spelled, EDNS
//! advertised when the client used it, and truncation (TC, empty sections) when a UDP answer does
//! not fit the client's limit.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use super::request::{Incoming, Request, ADVERTISED_UDP_PAYLOAD};

/// The records and rcode of an answer, ready to encode.
#[derive(Clone, Debug, Default)]
pub struct Sections {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    pub recursion_available: bool,
    /// Passed on from upstream: the answer is incomplete (TC).
    pub truncated: bool,
    pub answers: Vec<Record>,
    pub authorities: Vec<Record>,
    pub additionals: Vec<Record>,
    /// EDNS options for the response's OPT record (`nsid`); sent only when the client used
    /// EDNS.
    pub edns_options: Vec<EdnsOption>,
}

fn response_edns(request_edns: Option<&Edns>) -> Option<Edns> {
    request_edns.map(|req| {
        let mut edns = Edns::new();
        edns.set_max_payload(ADVERTISED_UDP_PAYLOAD);
        edns.set_version(0);
        edns.set_dnssec_ok(req.flags().dnssec_ok);
        edns
    })
}

fn base(id: u16, op_code: OpCode, rd: bool, cd: bool) -> Message {
    let mut m = Message::new(id, MessageType::Response, op_code);
    m.metadata.recursion_desired = rd;
    m.metadata.checking_disabled = cd;
    m
}

/// Encodes the answer to `request` into `out` (cleared first). `limit` is the largest size the
/// transport allows; a larger answer is sent truncated: TC set, question and OPT only.
pub fn encode(request: &Request, sections: Sections, limit: usize, out: &mut Vec<u8>) {
    let req = &request.message.metadata;
    let mut m = base(
        req.id,
        OpCode::Query,
        req.recursion_desired,
        req.checking_disabled,
    );
    m.metadata.authoritative = sections.authoritative;
    m.metadata.recursion_available = sections.recursion_available;
    m.metadata.truncation = sections.truncated;
    m.metadata.response_code = sections.rcode;
    m.queries.push(request.query().clone());
    m.edns = response_edns(request.edns());
    if let Some(edns) = m.edns.as_mut() {
        for option in sections.edns_options {
            edns.options_mut().insert(option);
        }
    }
    m.answers = sections.answers;
    m.authorities = sections.authorities;
    m.additionals = sections.additionals;
    if emit(&m, out) && out.len() <= limit {
        return;
    }
    m.metadata.truncation = true;
    m.answers.clear();
    m.authorities.clear();
    m.additionals.clear();
    if !emit(&m, out) {
        out.clear();
    }
}

/// Encodes a rejection (FORMERR, NOTIMP, BADVERS...) of a packet [`super::request::read`]
/// classified as such. Returns false when there is nothing to send.
pub fn encode_reject(incoming: &Incoming, out: &mut Vec<u8>) -> bool {
    let Incoming::Reject {
        id,
        op_code,
        recursion_desired,
        query,
        edns,
        rcode,
    } = incoming
    else {
        return false;
    };
    let mut m = base(*id, OpCode::from_u8(*op_code), *recursion_desired, false);
    m.metadata.response_code = *rcode;
    if let Some(q) = query {
        m.queries.push(q.clone());
    }
    m.edns = response_edns(edns.as_ref());
    emit(&m, out)
}

/// Encodes `m` into `out` (reusing its buffer). A message hickory refuses to encode is
/// logged; the caller answers SERVFAIL rather than nothing.
fn emit(m: &Message, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut encoder = BinEncoder::new(out);
    match m.emit(&mut encoder) {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(%err, "cannot encode an answer");
            false
        }
    }
}

/// A SERVFAIL for `request` (used when an answer cannot be encoded).
pub fn servfail(request: &Request, out: &mut Vec<u8>) {
    let sections = Sections {
        rcode: ResponseCode::ServFail,
        ..Sections::default()
    };
    encode(request, sections, usize::MAX, out);
}
