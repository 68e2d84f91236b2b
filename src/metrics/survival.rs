//! Cairn's own survival metrics, read from the `/status` document at scrape time so the
//! numbers Prometheus sees and the ones an operator reads in `/status` never disagree:
//!
//! - `cairn_api_endpoint_up{endpoint,origin}`: 1 while the endpoint's checks pass;
//! - `cairn_api_endpoint_active{endpoint}`: 1 for the endpoint the watches use;
//! - `cairn_api_failovers_total`: moves of the watches from one endpoint to another;
//! - `cairn_data_staleness_seconds`: how far behind the API the served data may be;
//! - `cairn_snapshot_age_seconds`, `cairn_snapshot_size_bytes`,
//!   `cairn_snapshot_write_errors_total` (only with a `snapshot` option);
//! - `cairn_nodelocal_interface_present`, `cairn_nodelocal_rules_present`,
//!   `cairn_nodelocal_repairs_total{what}`, `cairn_nodelocal_failures_total{what}` (only with
//!   a `nodelocal` block; `what` is `interface`, `addresses` or `rules`).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::status::{EndpointOrigin, StatusBoard};

/// Reads the status board when scraped.
#[derive(Clone, Debug, Default)]
pub struct Survival(pub StatusBoard);

fn origin(o: EndpointOrigin) -> &'static str {
    match o {
        EndpointOrigin::Configured => "configured",
        EndpointOrigin::Endpoint => "endpoint",
        EndpointOrigin::Learned => "learned",
    }
}

impl Collector for Survival {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self.0.read();
        if let Some(api) = &status.api {
            let mut up = encoder.encode_descriptor(
                "cairn_api_endpoint_up",
                "Whether the API endpoint's health checks pass (1) or not (0)",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for e in &api.endpoints {
                let labels = [("endpoint", e.url.as_str()), ("origin", origin(e.origin))];
                ConstGauge::new(i64::from(e.healthy)).encode(up.encode_family(&labels)?)?;
            }
            let mut active = encoder.encode_descriptor(
                "cairn_api_endpoint_active",
                "The API endpoint the watches use (1)",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for e in &api.endpoints {
                let labels = [("endpoint", e.url.as_str())];
                ConstGauge::new(i64::from(e.active)).encode(active.encode_family(&labels)?)?;
            }
            ConstCounter::new(api.failovers).encode(encoder.encode_descriptor(
                "cairn_api_failovers",
                "Times the watches moved to another API endpoint",
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?)?;
        }
        if status.data.source != "none" {
            ConstGauge::new(status.data.staleness_seconds).encode(encoder.encode_descriptor(
                "cairn_data_staleness_seconds",
                "How far behind the Kubernetes API the served data may be",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?)?;
        }
        if let Some(snapshot) = &status.snapshot {
            if let Some(age) = snapshot.age_seconds {
                ConstGauge::new(age).encode(encoder.encode_descriptor(
                    "cairn_snapshot_age_seconds",
                    "Seconds since the snapshot on disk was written",
                    None,
                    prometheus_client::metrics::MetricType::Gauge,
                )?)?;
            }
            if let Some(size) = snapshot.size_bytes {
                ConstGauge::new(size as i64).encode(encoder.encode_descriptor(
                    "cairn_snapshot_size_bytes",
                    "Size of the snapshot on disk",
                    None,
                    prometheus_client::metrics::MetricType::Gauge,
                )?)?;
            }
            ConstCounter::new(snapshot.write_errors).encode(encoder.encode_descriptor(
                "cairn_snapshot_write_errors",
                "Snapshot writes that failed (serving goes on)",
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?)?;
        }
        if let Some(n) = &status.node_local {
            encode_node_local(&mut encoder, n)?;
        }
        Ok(())
    }
}

/// The parts node-local mode checks and repairs, each a series even before its first repair.
const NODE_LOCAL_PARTS: [&str; 3] = ["interface", "addresses", "rules"];

fn encode_node_local(
    encoder: &mut DescriptorEncoder,
    n: &crate::status::NodeLocalStatus,
) -> Result<(), std::fmt::Error> {
    use prometheus_client::metrics::MetricType;
    let gauges = [
        (
            "cairn_nodelocal_interface_present",
            "Whether the node-local interface holds every captured address (1) or not (0)",
            n.interface_present && n.addresses.iter().all(|a| a.present),
        ),
        (
            "cairn_nodelocal_rules_present",
            "Whether table inet cairn holds every rule that captures the addresses (1) or not (0)",
            n.rules_present,
        ),
    ];
    for (name, help, on) in gauges {
        ConstGauge::new(i64::from(on)).encode(encoder.encode_descriptor(
            name,
            help,
            None,
            MetricType::Gauge,
        )?)?;
    }
    let counters = [
        (
            "cairn_nodelocal_repairs",
            "Node-local interface, addresses or rules found missing and put back",
            &n.repairs_by,
        ),
        (
            "cairn_nodelocal_failures",
            "Node-local checks or repairs that failed",
            &n.failures_by,
        ),
    ];
    for (name, help, by) in counters {
        let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
        for what in NODE_LOCAL_PARTS {
            let count = by.get(what).copied().unwrap_or(0);
            ConstCounter::new(count).encode(family.encode_family(&[("what", what)])?)?;
        }
    }
    Ok(())
}
