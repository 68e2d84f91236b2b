//! The handler of one listener: read the packet, route the query to the server block with the
//! most specific zone, run that block's [`Chain`], encode, and account (metrics, `log`). Names
//! no block serves are REFUSED.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};

use crate::dns::request::{self, Incoming};
use crate::dns::response::{self, Sections};
use crate::dns::Transport;
use crate::metrics::Answered;
use crate::plugin::chain::{self, Resolved};
use crate::plugin::{Answer, Chain, Plugin, Query, Reusable};

/// One server block as the handler sees it.
pub struct Block {
    /// The block's zones, lower-case.
    pub zones: Vec<Name>,
    pub chain: Arc<Chain>,
}

/// What became of a packet.
pub enum Handled {
    /// `out` holds the answer. `reusable` when it is a pure function of the query bytes and the
    /// published indexes (the listener may keep it encoded), with what accounting a reuse needs;
    /// only for UDP, the one listener that keeps answers.
    Reply { reusable: Option<Reuse> },
    /// Several messages to send in order (a zone transfer over TCP); the first is also in
    /// `out`.
    Stream(Vec<Vec<u8>>),
    /// Nothing to send.
    Drop,
    /// The answer needs the upstream: complete it on the async runtime.
    Pending(Box<Pending>),
}

/// What the listener needs to account for an answer it serves again from its own cache.
#[derive(Clone)]
pub struct Reuse {
    /// Serve the copy only until then (cache hits); `None`: until the next publish.
    pub until: Option<Instant>,
    /// The plugin that made it and the class of cache hit (`true`: denial), told of each reuse.
    pub cache_hit: Option<(Arc<dyn Plugin>, bool)>,
    pub chain: Arc<Chain>,
    /// The metric series the answer counts into, resolved once.
    pub series: crate::metrics::ReuseSeries,
    pub qtype: RecordType,
    pub rcode: ResponseCode,
}

/// A query waiting for the upstream.
pub struct Pending {
    chain: Arc<Chain>,
    zone: Arc<str>,
    query: Query,
    pending: chain::Pending,
}

impl Pending {
    /// Goes upstream and encodes the answer into `out`. Returns false when nothing is to be
    /// sent.
    pub async fn complete(self, out: &mut Vec<u8>) -> bool {
        let answer = self.chain.finish(&self.query, self.pending).await;
        finish(&self.chain, &self.zone, &self.query, answer, out);
        !out.is_empty()
    }
}

/// Encodes and accounts one answer; returns its rcode and the answer's reuse.
fn finish(
    chain: &Chain,
    zone: &str,
    query: &Query,
    answer: Answer,
    out: &mut Vec<u8>,
) -> (ResponseCode, Reusable) {
    let Answer {
        sections,
        by,
        reuse,
        ..
    } = answer;
    let rcode = sections.rcode;
    response::encode(&query.request, sections, query.size_limit(), out);
    if out.is_empty() {
        response::servfail(&query.request, out);
    }
    chain.account(zone, query, rcode, by, out);
    (rcode, reuse)
}

/// The blocks of one listener, with their zones as metric labels (parallel to `blocks`).
struct BlockSet {
    blocks: Vec<Block>,
    zone_labels: Vec<Vec<Arc<str>>>,
}

impl BlockSet {
    fn new(blocks: Vec<Block>) -> Self {
        let zone_labels = blocks
            .iter()
            .map(|b| b.zones.iter().map(|z| Arc::from(z.to_ascii())).collect())
            .collect();
        BlockSet {
            blocks,
            zone_labels,
        }
    }

    /// The block serving `qname` and which of its zones matched.
    fn route(&self, qname: &Name) -> Option<(usize, usize)> {
        self.blocks
            .iter()
            .enumerate()
            .flat_map(|(b, block)| {
                block
                    .zones
                    .iter()
                    .enumerate()
                    .map(move |(z, zone)| (b, z, zone))
            })
            .filter(|(_, _, zone)| zone.zone_of(qname))
            .max_by_key(|(_, _, zone)| zone.num_labels())
            .map(|(b, z, _)| (b, z))
    }
}

/// Answers packets for one listener. Its blocks can be replaced at once (Corefile reload)
/// while queries flow.
pub struct Handler {
    set: arc_swap::ArcSwap<BlockSet>,
}

impl Handler {
    pub fn new(blocks: Vec<Block>) -> Self {
        Handler {
            set: arc_swap::ArcSwap::from_pointee(BlockSet::new(blocks)),
        }
    }

    /// Replaces the blocks (queries already routed finish with the old ones).
    pub fn replace(&self, blocks: Vec<Block>) {
        self.set.store(Arc::new(BlockSet::new(blocks)));
    }

    /// The chains of this listener's blocks.
    pub fn chains(&self) -> Vec<Arc<Chain>> {
        self.set
            .load()
            .blocks
            .iter()
            .map(|b| b.chain.clone())
            .collect()
    }

    /// Answers `packet` from `client`.
    pub fn handle(
        &self,
        packet: &[u8],
        client: SocketAddr,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> Handled {
        let started = Instant::now();
        let request = match request::read(packet) {
            Incoming::Query(req) => req,
            incoming @ Incoming::Reject { .. } => {
                return if response::encode_reject(&incoming, out) {
                    Handled::Reply { reusable: None }
                } else {
                    Handled::Drop
                };
            }
            Incoming::Drop => return Handled::Drop,
        };
        let mut query = Query::new(request, client, transport, packet.len(), started);
        let set = self.set.load();
        let Some((b, z)) = set.route(query.name()) else {
            let refused = Sections {
                rcode: ResponseCode::Refused,
                ..Sections::default()
            };
            response::encode(&query.request, refused, query.size_limit(), out);
            return Handled::Reply { reusable: None };
        };
        let chain = &set.blocks[b].chain;
        let zone = &set.zone_labels[b][z];
        match chain.resolve(&mut query) {
            Resolved::Done(answer) if answer.silent => Handled::Drop,
            Resolved::Done(mut answer)
                if !answer.more.is_empty() && transport == Transport::Tcp =>
            {
                let more = std::mem::take(&mut answer.more);
                finish(chain, zone, &query, answer, out);
                let mut messages = vec![out.clone()];
                for sections in more {
                    let mut next = Vec::new();
                    response::encode(&query.request, sections, query.size_limit(), &mut next);
                    messages.push(next);
                }
                Handled::Stream(messages)
            }
            Resolved::Done(answer) => {
                let by = answer.by;
                let (rcode, reuse) = finish(chain, zone, &query, answer, out);
                let (until, denial) = match reuse {
                    Reusable::Until { until, denial } => (Some(until), Some(denial)),
                    Reusable::Never | Reusable::Always => (None, None),
                };
                let keep = transport == Transport::Udp && reuse != Reusable::Never;
                let reusable = keep.then(|| Reuse {
                    until,
                    cache_hit: denial
                        .and_then(|d| by.and_then(|k| chain.plugin(k)).map(|p| (p.clone(), d))),
                    chain: chain.clone(),
                    series: chain.metrics.reuse_series(
                        &chain.server_label,
                        zone,
                        by.map_or("", |k| k.name()),
                    ),
                    qtype: query.qtype(),
                    rcode,
                });
                Handled::Reply { reusable }
            }
            Resolved::Pending(pending) => Handled::Pending(Box::new(Pending {
                chain: chain.clone(),
                zone: zone.clone(),
                query,
                pending,
            })),
        }
    }

    /// Accounts an answer the listener served again from its own cache.
    pub fn account_reuse(
        &self,
        reuse: &Reuse,
        client: SocketAddr,
        request_size: usize,
        response_size: usize,
        started: Instant,
    ) {
        if let Some((plugin, denial)) = &reuse.cache_hit {
            plugin.reused(*denial);
        }
        let answered = Answered {
            transport: Transport::Udp,
            ipv6_client: client.is_ipv6(),
            qtype: reuse.qtype,
            rcode: reuse.rcode,
            request_size,
            response_size,
            duration: started.elapsed(),
        };
        reuse.chain.metrics.query_reused(&reuse.series, &answered);
    }
}
