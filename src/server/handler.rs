//! The handler chain of one listener: route a query to the server block with the most specific
//! zone, let its `kubernetes` plugin answer, and encode the result. Names no block serves are
//! REFUSED.

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;

use crate::cluster::publish::IndexCell;
use crate::dns::request::{self, Incoming, Request};
use crate::dns::response::{self, Sections};

/// How a response leaves: UDP is bounded by the client's size, TCP by the 16-bit length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// One server block as the handler sees it.
pub struct Block {
    /// The block's zones, lower-case.
    pub zones: Vec<Name>,
    pub kubernetes: Option<Arc<IndexCell>>,
}

/// Answers packets for one listener.
pub struct Handler {
    blocks: Vec<Block>,
}

impl Handler {
    pub fn new(blocks: Vec<Block>) -> Self {
        Handler { blocks }
    }

    /// Answers `packet` into `out`. Returns false when nothing is to be sent.
    pub fn handle(&self, packet: &[u8], transport: Transport, out: &mut Vec<u8>) -> bool {
        match request::read(packet) {
            Incoming::Query(req) => {
                let limit = match transport {
                    Transport::Udp => usize::from(req.udp_limit()),
                    Transport::Tcp => usize::from(u16::MAX),
                };
                let sections = self.answer(&req);
                response::encode(&req, sections, limit, out);
                if out.is_empty() {
                    response::servfail(&req, out);
                }
                !out.is_empty()
            }
            incoming @ Incoming::Reject { .. } => response::encode_reject(&incoming, out),
            Incoming::Drop => false,
        }
    }

    fn answer(&self, req: &Request) -> Sections {
        let query = req.query();
        let qname = query.name();
        let block = self
            .blocks
            .iter()
            .flat_map(|b| b.zones.iter().map(move |z| (z, b)))
            .filter(|(z, _)| z.zone_of(qname))
            .max_by_key(|(z, _)| z.num_labels())
            .map(|(_, b)| b);
        let Some(cell) = block.and_then(|b| b.kubernetes.as_ref()) else {
            return refused();
        };
        match cell.load().answer(qname, query.query_type()) {
            Some(a) => Sections {
                rcode: a.rcode,
                authoritative: a.rcode != ResponseCode::Refused,
                answers: a.answers,
                authorities: a.authorities,
                additionals: a.additionals,
            },
            None => refused(),
        }
    }
}

fn refused() -> Sections {
    Sections {
        rcode: ResponseCode::Refused,
        ..Sections::default()
    }
}
