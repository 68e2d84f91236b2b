//! DNS programming latency: for every change a watch delivers, the time from its arrival to the
//! index that includes it being served. Kept as a cumulative histogram with the buckets of
//! CoreDNS's `coredns_kubernetes_dns_programming_duration_seconds`, so the metrics endpoint can
//! expose it under that name. Lock-free: the source records, readers snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds in seconds: 1 ms doubling to about 8.4 min (CoreDNS's exponential buckets).
pub fn bucket_bounds() -> impl Iterator<Item = f64> {
    (0..20).map(|i| 0.001 * f64::from(1u32 << i))
}

#[derive(Debug)]
pub struct ProgrammingLatency {
    /// Per-bucket counts (not cumulative); the last slot counts what exceeds every bound.
    buckets: [AtomicU64; 21],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Default for ProgrammingLatency {
    fn default() -> Self {
        ProgrammingLatency {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }
}

/// A consistent-enough copy for reporting.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// (upper bound in seconds, cumulative count), then `+Inf` as `f64::INFINITY`.
    pub cumulative: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl ProgrammingLatency {
    pub fn record(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let slot = bucket_bounds().position(|b| seconds <= b).unwrap_or(20);
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut running = 0;
        let mut cumulative: Vec<(f64, u64)> = bucket_bounds()
            .enumerate()
            .map(|(i, bound)| {
                running += self.buckets[i].load(Ordering::Relaxed);
                (bound, running)
            })
            .collect();
        running += self.buckets[20].load(Ordering::Relaxed);
        cumulative.push((f64::INFINITY, running));
        Snapshot {
            cumulative,
            count: self.count.load(Ordering::Relaxed),
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_cumulative_buckets() {
        let h = ProgrammingLatency::default();
        h.record(Duration::from_micros(500));
        h.record(Duration::from_millis(3));
        h.record(Duration::from_secs(3600));
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.cumulative[0], (0.001, 1));
        assert_eq!(s.cumulative[2], (0.004, 2));
        assert_eq!(s.cumulative[19].1, 2);
        assert_eq!(s.cumulative[20], (f64::INFINITY, 3));
        assert!((s.sum_seconds - 3600.0035).abs() < 1e-6);
    }
}
