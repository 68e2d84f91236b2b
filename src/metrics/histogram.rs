//! A lock-free fixed-bucket histogram that encodes as a Prometheus histogram.
//!
//! `prometheus_client::metrics::histogram::Histogram` takes a mutex on every observation; this
//! one is a handful of relaxed atomic adds, so the per-query path never blocks. Values are
//! recorded as integers in a fixed unit (nanoseconds for durations, bytes for sizes) so the sum
//! is an atomic add too; the unit is applied when encoding.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds in seconds of CoreDNS's `plugin.TimeBuckets`: 0.25 ms doubling 16 times (~8 s).
pub const TIME_BUCKETS: [f64; 16] = [
    0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024,
    2.048, 4.096, 8.192,
];

/// Upper bounds in bytes of CoreDNS's request/response size histograms.
pub const SIZE_BUCKETS: [f64; 14] = [
    0.0, 100.0, 200.0, 300.0, 400.0, 511.0, 1023.0, 2047.0, 4095.0, 8291.0, 16e3, 32e3, 48e3, 64e3,
];

#[derive(Debug)]
pub struct Inner {
    /// Upper bounds in the exported unit (seconds, bytes).
    bounds: &'static [f64],
    /// Exported unit per recorded unit (1e-9 for nanoseconds -> seconds).
    scale: f64,
    /// Per-bucket counts (not cumulative); the last slot is `+Inf`.
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

/// Cloning shares the series (like every `prometheus_client` metric).
#[derive(Clone, Debug)]
pub struct AtomicHistogram(std::sync::Arc<Inner>);

impl AtomicHistogram {
    pub fn new(bounds: &'static [f64], scale: f64) -> Self {
        AtomicHistogram(std::sync::Arc::new(Inner {
            bounds,
            scale,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }))
    }

    /// A duration histogram in CoreDNS's time buckets, recorded in nanoseconds.
    pub fn time() -> Self {
        AtomicHistogram::new(&TIME_BUCKETS, 1e-9)
    }

    /// A size histogram in CoreDNS's size buckets, recorded in bytes.
    pub fn size() -> Self {
        AtomicHistogram::new(&SIZE_BUCKETS, 1.0)
    }

    /// Record `units` (nanoseconds or bytes).
    pub fn observe(&self, units: u64) {
        let value = units as f64 * self.0.scale;
        let slot = self
            .0
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(self.0.bounds.len());
        self.0.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.0.sum.fetch_add(units, Ordering::Relaxed);
    }

    /// (count, sum in the exported unit).
    pub fn totals(&self) -> (u64, f64) {
        let count = self
            .0
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum();
        let sum = self.0.sum.load(Ordering::Relaxed) as f64 * self.0.scale;
        (count, sum)
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
        let sum = self.0.sum.load(Ordering::Relaxed) as f64 * self.0.scale;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
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
