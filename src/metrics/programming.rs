//! `coredns_kubernetes_dns_programming_duration_seconds{service_kind}`: the histogram the
//! Kubernetes source records each change's programming latency into (an [`AtomicHistogram`]
//! it shares with this collector), read at scrape time.

use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;

use super::AtomicHistogram;

pub const NAME: &str = "coredns_kubernetes_dns_programming_duration_seconds";
const HELP: &str = "Histogram of the time (in seconds) it took to program a dns instance";

/// `(service_kind, histogram)` pairs.
type Sources = Vec<(String, AtomicHistogram)>;

/// The histograms, one per `service_kind`.
#[derive(Clone, Debug, Default)]
pub struct Programming(Arc<RwLock<Sources>>);

impl Programming {
    /// Expose `histogram` under `service_kind`, replacing an earlier one of that kind.
    pub fn set(&self, service_kind: &str, histogram: AtomicHistogram) {
        let mut sources = self.0.write().unwrap_or_else(|e| e.into_inner());
        match sources.iter_mut().find(|(kind, _)| kind == service_kind) {
            Some(slot) => slot.1 = histogram,
            None => sources.push((service_kind.to_owned(), histogram)),
        }
    }
}

impl Collector for Programming {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sources = self.0.read().unwrap_or_else(|e| e.into_inner());
        if sources.is_empty() {
            return Ok(());
        }
        let mut metric = encoder.encode_descriptor(NAME, HELP, None, MetricType::Histogram)?;
        for (kind, histogram) in sources.iter() {
            let labels = [("service_kind", kind.as_str())];
            histogram.encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
