//! A per-thread cache of encoded answers, keyed on the query's bytes after the ID.
//!
//! An answer is a pure function of the query bytes (flags, question, EDNS) and the published
//! indexes, so a hit only needs the client's ID patched in: no parsing, no encoding, no
//! allocation. Each UDP worker owns one cache (no sharing, no locks); it empties itself when the
//! publish generation moves or when it is full.

use super::handler::{Handler, Transport};

/// Queries larger than this are not cached (real stub queries are far smaller).
const MAX_KEY: usize = 512;
/// Entries per thread before the cache starts over.
const CAPACITY: usize = 8192;

pub struct AnswerCache {
    generation: u64,
    entries: std::collections::HashMap<Box<[u8]>, Box<[u8]>>,
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache {
            generation: u64::MAX,
            entries: std::collections::HashMap::with_capacity(CAPACITY),
        }
    }
}

impl AnswerCache {
    /// Answers `packet` into `out`, from the cache when possible. Returns false when nothing is
    /// to be sent.
    pub fn respond(
        &mut self,
        handler: &Handler,
        generation: u64,
        packet: &[u8],
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> bool {
        if packet.len() < 12 || packet.len() > MAX_KEY {
            return handler.handle(packet, transport, out);
        }
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        let key = &packet[2..];
        if let Some(answer) = self.entries.get(key) {
            out.clear();
            out.extend_from_slice(&packet[..2]);
            out.extend_from_slice(answer);
            return true;
        }
        if !handler.handle(packet, transport, out) {
            return false;
        }
        if out.len() >= 2 {
            if self.entries.len() >= CAPACITY {
                self.entries.clear();
            }
            self.entries.insert(key.into(), out[2..].into());
        }
        true
    }
}
