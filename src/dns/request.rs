//! Reading an incoming packet: what to do with it (answer, reject with an rcode, or drop) and the
//! one question it asks.
//!
//! Malformed input never panics: anything hickory-proto cannot decode is FORMERR when the header
//! is readable, and dropped when it is not (too short to carry an ID, or not a query).

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};

/// The EDNS payload size Cairn advertises (the DNS Flag Day 2020 value).
pub const ADVERTISED_UDP_PAYLOAD: u16 = 1232;
/// The classic UDP limit for clients without EDNS.
pub const CLASSIC_UDP_PAYLOAD: u16 = 512;

/// A query Cairn will answer.
#[derive(Debug)]
pub struct Request {
    pub message: Message,
}

impl Request {
    pub fn query(&self) -> &Query {
        &self.message.queries[0]
    }

    /// The largest UDP response the client accepts: its EDNS size (at least 512), or 512.
    pub fn udp_limit(&self) -> u16 {
        self.message.edns.as_ref().map_or(CLASSIC_UDP_PAYLOAD, |e| {
            e.max_payload().max(CLASSIC_UDP_PAYLOAD)
        })
    }

    pub fn edns(&self) -> Option<&Edns> {
        self.message.edns.as_ref()
    }
}

/// What to do with a packet.
#[derive(Debug)]
pub enum Incoming {
    /// A well-formed standard query with one question.
    Query(Request),
    /// Answer with this rcode and no records (echoing ID, opcode, RD and, when readable, the
    /// question).
    Reject {
        id: u16,
        op_code: u8,
        recursion_desired: bool,
        query: Option<Query>,
        edns: Option<Edns>,
        rcode: ResponseCode,
    },
    /// Not worth an answer (too short, or a response).
    Drop,
}

/// Classifies `packet`.
pub fn read(packet: &[u8]) -> Incoming {
    if packet.len() < 12 {
        return Incoming::Drop;
    }
    let id = u16::from_be_bytes([packet[0], packet[1]]);
    let flags = packet[2];
    if flags & 0x80 != 0 {
        return Incoming::Drop; // QR set: a response, never answered (avoids reflection loops)
    }
    let op_code = (flags >> 3) & 0x0f;
    let recursion_desired = flags & 0x01 != 0;
    let reject = |rcode, query: Option<Query>, edns: Option<Edns>| Incoming::Reject {
        id,
        op_code,
        recursion_desired,
        query,
        edns,
        rcode,
    };
    let message = match Message::from_vec(packet) {
        Ok(m) => m,
        Err(_) => return reject(ResponseCode::FormErr, None, None),
    };
    if message.message_type != MessageType::Query {
        return Incoming::Drop;
    }
    let edns = message.edns.clone();
    if message.op_code != OpCode::Query {
        return reject(ResponseCode::NotImp, message.queries.first().cloned(), edns);
    }
    // An IXFR carries the client's SOA in the authority section (RFC 1995 §3).
    let ixfr = message
        .queries
        .first()
        .is_some_and(|q| q.query_type() == hickory_proto::rr::RecordType::IXFR);
    if message.queries.len() != 1
        || !message.answers.is_empty()
        || (!message.authorities.is_empty() && !ixfr)
    {
        return reject(ResponseCode::FormErr, None, edns);
    }
    if let Some(e) = &edns {
        if e.version() != 0 {
            return reject(
                ResponseCode::BADVERS,
                message.queries.first().cloned(),
                edns,
            );
        }
    }
    Incoming::Query(Request { message })
}
