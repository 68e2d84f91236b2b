//! A lock-free fixed-bucket histogram that encodes as a Prometheus histogram: the type behind
//! every per-query histogram (`coredns_dns_request_duration_seconds`,
//! `coredns_dns_{request,response}_size_bytes`, `coredns_proxy_request_duration_seconds`,
//! `coredns_kubernetes_dns_programming_duration_seconds`).
//!
//! Hand-written because `prometheus_client::metrics::histogram::Histogram` takes a mutex on
//! every observation, shared by every UDP worker thread that records into the series. Here an
//! observation is a search of integer bucket limits and two relaxed atomic adds (its bucket and
//! the sum), so the per-query path never blocks. Values are recorded as integers in a fixed
//! unit (nanoseconds for durations, bytes for sizes) so the sum is an atomic add too, with no
//! CAS loop; the unit is applied when encoding. The count is the bucket total, read at encode
//! time, so a scrape's `_count` always equals its `+Inf` bucket.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds in seconds of CoreDNS's `plugin.TimeBuckets`: 0.25 ms doubling 16 times (~8 s).
pub const TIME_BUCKETS: [f64; 16] = [
    0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024,
    2.048, 4.096, 8.192,
];

/// Upper bounds in seconds of `coredns_kubernetes_dns_programming_duration_seconds`: 1 ms
/// doubling to about 8.7 min (CoreDNS's exponential buckets).
pub const PROGRAMMING_BUCKETS: [f64; 20] = [
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
    8.192, 16.384, 32.768, 65.536, 131.072, 262.144, 524.288,
];

/// Upper bounds in bytes of CoreDNS's request/response size histograms.
pub const SIZE_BUCKETS: [f64; 14] = [
    0.0, 100.0, 200.0, 300.0, 400.0, 511.0, 1023.0, 2047.0, 4095.0, 8291.0, 16e3, 32e3, 48e3, 64e3,
];

#[derive(Debug)]
pub struct Inner {
    /// Upper bounds in the exported unit (seconds, bytes), as exposed in `le`.
    bounds: &'static [f64],
    /// The same bounds in recorded units: the largest recorded value each bucket holds.
    limits: Box<[u64]>,
    /// Recorded units per exported unit (1e9 for nanoseconds -> seconds).
    per_unit: f64,
    /// Per-bucket counts (not cumulative, as `encode_histogram` takes them); the last slot is
    /// `+Inf`. The count is their total.
    buckets: Box<[AtomicU64]>,
    /// Sum in recorded units.
    sum: AtomicU64,
}

/// Cloning shares the series (like every `prometheus_client` metric).
#[derive(Clone, Debug)]
pub struct AtomicHistogram(std::sync::Arc<Inner>);

/// The largest `units` whose value in the exported unit (`units / per_unit`, rounded as f64
/// division rounds) is `<= bound`: the bucket test Prometheus clients apply to a float
/// observation, done once here so observing compares integers.
fn limit(bound: f64, per_unit: f64) -> u64 {
    let fits = |u: u64| u as f64 / per_unit <= bound;
    let mut u = (bound * per_unit).round() as u64;
    while u > 0 && !fits(u) {
        u -= 1;
    }
    while u < u64::MAX && fits(u + 1) {
        u += 1;
    }
    u
}

impl AtomicHistogram {
    /// `bounds` ascending, in the exported unit; observations are in units of
    /// `1 / per_unit` of it.
    pub fn new(bounds: &'static [f64], per_unit: f64) -> Self {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        AtomicHistogram(std::sync::Arc::new(Inner {
            bounds,
            limits: bounds.iter().map(|&b| limit(b, per_unit)).collect(),
            per_unit,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }))
    }

    /// A duration histogram in CoreDNS's time buckets, recorded in nanoseconds.
    pub fn time() -> Self {
        AtomicHistogram::new(&TIME_BUCKETS, 1e9)
    }

    /// A DNS programming latency histogram (CoreDNS's buckets), recorded in nanoseconds.
    pub fn programming() -> Self {
        AtomicHistogram::new(&PROGRAMMING_BUCKETS, 1e9)
    }

    /// A size histogram in CoreDNS's size buckets, recorded in bytes.
    pub fn size() -> Self {
        AtomicHistogram::new(&SIZE_BUCKETS, 1.0)
    }

    /// Record `units` (nanoseconds or bytes).
    pub fn observe(&self, units: u64) {
        let i = &self.0;
        let slot = i.limits.partition_point(|&limit| limit < units);
        i.buckets[slot].fetch_add(1, Ordering::Relaxed);
        i.sum.fetch_add(units, Ordering::Relaxed);
    }

    /// (count, sum in the exported unit).
    pub fn totals(&self) -> (u64, f64) {
        let count = self
            .0
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum();
        (count, self.sum())
    }

    fn sum(&self) -> f64 {
        self.0.sum.load(Ordering::Relaxed) as f64 / self.0.per_unit
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let buckets: Vec<(f64, u64)> = self
            .0
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.0.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
            .collect();
        // The count is the bucket total so the exposition is self-consistent under concurrent
        // observation (the sum may lag by the observations in flight).
        let count = buckets.iter().map(|(_, n)| n).sum();
        encoder.encode_histogram::<NoLabelSet>(self.sum(), count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Constructors for `Family::new_with_constructor` (a nameable `fn` type).
pub fn new_time() -> AtomicHistogram {
    AtomicHistogram::time()
}
pub fn new_size() -> AtomicHistogram {
    AtomicHistogram::size()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::registry::Registry;

    #[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
    struct Zone {
        zone: &'static str,
    }

    fn lines<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
        text.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[test]
    fn concurrent_observations_encode_exactly() {
        let mut registry = Registry::default();
        let time: Family<Zone, AtomicHistogram, fn() -> AtomicHistogram> =
            Family::new_with_constructor(new_time);
        let size: Family<Zone, AtomicHistogram, fn() -> AtomicHistogram> =
            Family::new_with_constructor(new_size);
        registry.register("t_seconds", "t", time.clone());
        registry.register("s_bytes", "s", size.clone());
        let zone = Zone { zone: "a." };

        // Each of 4 threads, 1000 times: 100 µs, 250 µs (on a bound: `le` is inclusive),
        // 250.001 µs, 3 ms and 10 s (past the last bound); 0, 100, 101 and 70000 bytes.
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let t = time.get_or_create_owned(&zone);
                    let b = size.get_or_create_owned(&zone);
                    for _ in 0..1000 {
                        for ns in [100_000, 250_000, 250_001, 3_000_000, 10_000_000_000] {
                            t.observe(ns);
                        }
                        for bytes in [0, 100, 101, 70_000] {
                            b.observe(bytes);
                        }
                    }
                });
            }
        });

        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert_eq!(
            lines(&text, "t_seconds_"),
            [
                // 4000 * (100_000 + 250_000 + 250_001 + 3_000_000 + 10_000_000_000) ns
                r#"t_seconds_sum{zone="a."} 40014.400004"#,
                r#"t_seconds_count{zone="a."} 20000"#,
                r#"t_seconds_bucket{le="0.00025",zone="a."} 8000"#,
                r#"t_seconds_bucket{le="0.0005",zone="a."} 12000"#,
                r#"t_seconds_bucket{le="0.001",zone="a."} 12000"#,
                r#"t_seconds_bucket{le="0.002",zone="a."} 12000"#,
                r#"t_seconds_bucket{le="0.004",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.008",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.016",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.032",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.064",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.128",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.256",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="0.512",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="1.024",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="2.048",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="4.096",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="8.192",zone="a."} 16000"#,
                r#"t_seconds_bucket{le="+Inf",zone="a."} 20000"#,
            ]
        );
        assert_eq!(
            lines(&text, "s_bytes_"),
            [
                r#"s_bytes_sum{zone="a."} 280804000.0"#,
                r#"s_bytes_count{zone="a."} 16000"#,
                r#"s_bytes_bucket{le="0.0",zone="a."} 4000"#,
                r#"s_bytes_bucket{le="100.0",zone="a."} 8000"#,
                r#"s_bytes_bucket{le="200.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="300.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="400.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="511.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="1023.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="2047.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="4095.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="8291.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="16000.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="32000.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="48000.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="64000.0",zone="a."} 12000"#,
                r#"s_bytes_bucket{le="+Inf",zone="a."} 16000"#,
            ]
        );
    }

    #[test]
    fn limits_match_float_bucket_test() {
        let h = AtomicHistogram::time();
        for (&bound, &limit) in TIME_BUCKETS.iter().zip(h.0.limits.iter()) {
            assert!(limit as f64 / 1e9 <= bound && (limit + 1) as f64 / 1e9 > bound);
        }
        assert_eq!(h.0.limits[0], 250_000);
        let h = AtomicHistogram::size();
        let limits: Vec<f64> = h.0.limits.iter().map(|&l| l as f64).collect();
        assert_eq!(limits, SIZE_BUCKETS);
    }
}
