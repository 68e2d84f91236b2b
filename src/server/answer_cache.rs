//! A per-thread cache of encoded answers, keyed on the query's bytes after the ID.
//!
//! An answer the chain marks reusable is a pure function of the query bytes (flags, question,
//! EDNS) and the published indexes, so a hit only needs the client's ID patched in: no
//! parsing, no encoding, no allocation. Each UDP worker owns one cache (no sharing, no locks);
//! it empties itself when the publish generation moves or when it is full. A cache-plugin hit
//! is kept until its TTLs would count down (the next whole second of its age), and its hit is
//! counted again on each reuse. Answers that depend on chance or on seeing every query
//! (upstream answers, `loadbalance` order, `prefetch`, `log`) are never kept.

use std::net::SocketAddr;
use std::time::Instant;

use super::handler::{Handled, Handler, Pending, Reuse};
use crate::dns::Transport;

/// Queries larger than this are not cached (real stub queries are far smaller).
const MAX_KEY: usize = 512;
/// Entries per thread before the cache starts over.
const CAPACITY: usize = 8192;
/// Answers larger than this are not kept (bounds the cache to ~32 MiB per thread even for
/// clients asking large EDNS sizes with case-varied names).
const MAX_ANSWER: usize = 4096;

/// What the worker has to do after [`AnswerCache::respond`].
pub enum Served {
    /// `out` holds the answer to send.
    Send,
    Nothing,
    /// Complete this on the async runtime and send its answer.
    Pending(Box<Pending>),
}

/// Query bytes after the ID -> (answer bytes after the ID, what accounting a reuse needs).
///
/// Hashed with foldhash rather than std's SipHash: a lookup hashes the whole query on every
/// packet. The keys are bytes any client chooses, so the hasher stays randomly seeded
/// (`foldhash::fast::RandomState` seeds each map from a process-wide random seed and a
/// per-map one), which keeps colliding keys from being precomputed; the map is also bounded
/// ([`CAPACITY`]) and per-thread.
type Entries =
    std::collections::HashMap<Box<[u8]>, (Box<[u8]>, Reuse), foldhash::fast::RandomState>;

pub struct AnswerCache {
    generation: u64,
    entries: Entries,
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache {
            generation: u64::MAX,
            entries: Entries::with_capacity_and_hasher(CAPACITY, Default::default()),
        }
    }
}

impl AnswerCache {
    /// Drops every copy if the publish generation moved (called when the worker is idle, so a
    /// reload's old chains are not kept alive by a quiet worker).
    pub fn expire(&mut self, generation: u64) {
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
    }

    /// Answers `packet`, received at `received` (one clock reading serves a whole batch of
    /// queries), into `out`, from the cache when possible.
    pub fn respond(
        &mut self,
        handler: &Handler,
        generation: u64,
        packet: &[u8],
        client: SocketAddr,
        received: Instant,
        out: &mut Vec<u8>,
    ) -> Served {
        let cacheable = packet.len() >= 12 && packet.len() <= MAX_KEY;
        if cacheable {
            if generation != self.generation {
                self.entries.clear();
                self.generation = generation;
            }
            let fresh = |reuse: &Reuse| reuse.until.is_none_or(|until| received < until);
            if let Some((answer, reuse)) = self.entries.get(&packet[2..]).filter(|(_, r)| fresh(r))
            {
                out.clear();
                out.extend_from_slice(&packet[..2]);
                out.extend_from_slice(answer);
                handler.account_reuse(reuse, client, packet.len(), out.len(), received);
                return Served::Send;
            }
        }
        match handler.handle(packet, client, Transport::Udp, out) {
            Handled::Reply { reusable } => {
                let fits = out.len() >= 2 && out.len() <= MAX_ANSWER;
                if let (true, Some(reuse), true) = (cacheable, reusable, fits) {
                    if self.entries.len() >= CAPACITY {
                        self.entries.clear();
                    }
                    self.entries
                        .insert(packet[2..].into(), (out[2..].into(), reuse));
                }
                Served::Send
            }
            // Only TCP answers are several messages.
            Handled::Drop | Handled::Stream(_) => Served::Nothing,
            Handled::Pending(p) => Served::Pending(p),
        }
    }
}
