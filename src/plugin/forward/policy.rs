//! The order in which upstreams are tried for one query (`policy random|round_robin|sequential`).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::ForwardPolicy;

/// Upstream indexes `0..n` in the order to try them.
///
/// As in CoreDNS: `random` shuffles the list per query, `round_robin` starts at the next upstream
/// in turn and keeps the others in configured order, `sequential` is the configured order.
pub(super) fn order(policy: ForwardPolicy, n: usize, robin: &AtomicUsize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    match policy {
        ForwardPolicy::Sequential => {}
        ForwardPolicy::RoundRobin if n > 0 => {
            let first = robin.fetch_add(1, Ordering::Relaxed) % n;
            order.remove(first);
            order.insert(0, first);
        }
        ForwardPolicy::RoundRobin => {}
        ForwardPolicy::Random => {
            // Fisher-Yates.
            for i in (1..n).rev() {
                order.swap(i, random_below(i + 1));
            }
        }
    }
    order
}

/// A uniformly random index below `n` (n > 0; small n, so the u16 modulo bias is negligible).
pub(super) fn random_below(n: usize) -> usize {
    usize::from(random_u16()) % n.max(1)
}

/// A random u16 from hickory-proto's generator (the thread-local CSPRNG it draws query IDs from;
/// it exposes it only through `Message::query()`, which allocates nothing).
pub(super) fn random_u16() -> u16 {
    hickory_proto::op::Message::query().metadata.id
}
