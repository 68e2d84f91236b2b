//! The query context: what one query carries down a chain and back out — the request (as the
//! plugins before may have rewritten it), who asked, over what, and when — so plugins take one
//! argument instead of a bundle of them.

use std::net::SocketAddr;
use std::time::Instant;

use hickory_proto::rr::{Name, RecordType};

use crate::dns::request::Request;
use crate::dns::Transport;

/// One query on its way through a chain.
#[derive(Debug)]
pub struct Query {
    /// The request; a plugin that rewrites it (`bufsize`) changes it here for the ones after.
    pub request: Request,
    pub client: SocketAddr,
    pub transport: Transport,
    /// The size of the packet as received.
    pub request_size: usize,
    /// When the packet was read.
    pub started: Instant,
    /// A plugin the query passed through may answer differently later without an index
    /// publish (a `hosts` file is reread): the answer must not be kept by the listener.
    volatile: bool,
}

impl Query {
    pub fn new(
        request: Request,
        client: SocketAddr,
        transport: Transport,
        request_size: usize,
        started: Instant,
    ) -> Query {
        Query {
            request,
            client,
            transport,
            request_size,
            started,
            volatile: false,
        }
    }

    /// The question's name.
    pub fn name(&self) -> &Name {
        self.request.query().name()
    }

    /// The question's type.
    pub fn qtype(&self) -> RecordType {
        self.request.query().query_type()
    }

    /// The largest answer the transport carries: the client's UDP size, or TCP's 64 KiB.
    pub fn size_limit(&self) -> usize {
        match self.transport {
            Transport::Udp => usize::from(self.request.udp_limit()),
            Transport::Tcp => usize::from(u16::MAX),
        }
    }

    /// See [`Query::is_volatile`].
    pub fn mark_volatile(&mut self) {
        self.volatile = true;
    }

    /// Whether a plugin passed on may later answer this query itself (so the answer from further
    /// down is not a pure function of the query and the index).
    pub fn is_volatile(&self) -> bool {
        self.volatile
    }

    /// The same question asked afresh (for a background refresh): same client and transport,
    /// nothing marked.
    pub fn refresh(&self) -> Query {
        Query::new(
            Request {
                message: self.request.message.clone(),
            },
            self.client,
            self.transport,
            self.request_size,
            Instant::now(),
        )
    }
}
