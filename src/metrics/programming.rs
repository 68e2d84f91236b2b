//! `coredns_kubernetes_dns_programming_duration_seconds{service_kind}`, read from the
//! histograms the Kubernetes source already keeps (`source::kubernetes::latency`) at scrape
//! time, so recording a change costs the source nothing extra.

use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

use crate::source::kubernetes::latency::ProgrammingLatency;

pub const NAME: &str = "coredns_kubernetes_dns_programming_duration_seconds";
const HELP: &str = "Histogram of the time (in seconds) it took to program a dns instance";

/// `(service_kind, source)` pairs.
type Sources = Vec<(String, Arc<ProgrammingLatency>)>;

/// The sources, one per `service_kind`.
#[derive(Clone, Debug, Default)]
pub struct Programming(Arc<RwLock<Sources>>);

impl Programming {
    /// Expose `source` under `service_kind`, replacing an earlier source of that kind.
    pub fn set(&self, service_kind: &str, source: Arc<ProgrammingLatency>) {
        let mut sources = self.0.write().unwrap_or_else(|e| e.into_inner());
        match sources.iter_mut().find(|(kind, _)| kind == service_kind) {
            Some(slot) => slot.1 = source,
            None => sources.push((service_kind.to_owned(), source)),
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
        for (kind, source) in sources.iter() {
            let snapshot = source.snapshot();
            // The snapshot is cumulative; the encoder wants per-bucket counts.
            let mut previous = 0;
            let buckets: Vec<(f64, u64)> = snapshot
                .cumulative
                .iter()
                .map(|&(bound, total)| {
                    let n = total.saturating_sub(previous);
                    previous = total;
                    (bound, n)
                })
                .collect();
            let labels = [("service_kind", kind.as_str())];
            metric
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(snapshot.sum_seconds, previous, &buckets, None)?;
        }
        Ok(())
    }
}
