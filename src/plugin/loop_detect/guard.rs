//! The `loop` plugin's probe: detects a forwarding loop (the upstream sends Cairn's own queries back to
//! it, e.g. resolv.conf naming a local stub that forwards to Cairn).
//!
//! As in CoreDNS, Cairn sends itself a query for a random name (`<rand>.<rand>.<zone>. HINFO`)
//! once its listeners are up; seeing that name more than twice means the forwarded query came
//! back. Where CoreDNS then exits (and its pod crash-loops), Cairn stops forwarding for that
//! block, keeps answering everything else (the cluster zone above all), and says in its log how
//! to fix the upstream.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use crate::metrics::PluginMetrics;

/// `cairn_forward_loops_detected_total`: forwarding loops found (forwarding stopped for that
/// block). Cairn's own: CoreDNS exits instead.
#[derive(Debug, Default)]
pub struct LoopMetrics {
    loops: Counter,
}

impl PluginMetrics for LoopMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = LoopMetrics::default();
        registry.register(
            "cairn_forward_loops_detected",
            "Forwarding loops the loop plugin detected (forwarding stopped for that block)",
            m.loops.clone(),
        );
        m
    }
}

/// The probe name of one block and what has been seen of it.
pub struct LoopGuard {
    metrics: std::sync::Arc<LoopMetrics>,
    probe: Name,
    seen: AtomicU32,
    looping: AtomicBool,
}

impl LoopGuard {
    /// A guard probing below `zone`.
    pub fn new(zone: &Name, metrics: &crate::metrics::Metrics) -> Option<LoopGuard> {
        let label = || format!("{:016x}", fastrand::u64(..));
        let probe = Name::from_ascii(label())
            .and_then(|n| n.append_label(label().as_str()))
            .and_then(|n| n.append_name(zone))
            .ok()?;
        Some(LoopGuard {
            metrics: metrics.plugin::<LoopMetrics>(),
            probe,
            seen: AtomicU32::new(0),
            looping: AtomicBool::new(false),
        })
    }

    /// Notes a query; true when it is the probe (which must not be answered normally again).
    pub fn observe(&self, qname: &Name, qtype: RecordType) -> bool {
        if qtype != RecordType::HINFO || !self.probe.eq_ignore_root(qname) {
            return false;
        }
        let seen = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        if seen > 2 && !self.looping.swap(true, Ordering::Relaxed) {
            self.metrics.loops.inc();
            tracing::error!(
                target: "cairn::loop",
                probe = %self.probe,
                "plugin/loop: forwarding loop detected: the upstream sent \"{} HINFO\" back to \
                 Cairn {seen} times. Forwarding is stopped for this server block; the cluster zone \
                 keeps being served. Fix: make `forward` point at a real resolver, not at this \
                 server (e.g. a resolv.conf listing 127.0.0.53 whose stub forwards to Cairn; \
                 give kubelet --resolv-conf=/run/systemd/resolve/resolv.conf or name the \
                 upstream explicitly)",
                self.probe
            );
        }
        true
    }

    pub fn looping(&self) -> bool {
        self.looping.load(Ordering::Relaxed)
    }

    /// Sends the probe to the server at `addr` (the block's own listener) over UDP.
    pub async fn probe(&self, addr: SocketAddr) {
        let mut m = Message::new(fastrand::u16(..), MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(self.probe.clone(), RecordType::HINFO));
        let Ok(bytes) = m.to_vec() else { return };
        let Ok(socket) = tokio::net::UdpSocket::bind(crate::net::loopback_client_for(addr)).await
        else {
            return;
        };
        let _ = socket.send_to(&bytes, addr).await;
        let mut buf = [0u8; 512];
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.recv_from(&mut buf),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_third_sighting_of_the_probe_is_a_loop() {
        let zone = Name::from_ascii(".").unwrap();
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
        let guard = LoopGuard::new(&zone, &metrics).unwrap();
        let other = Name::from_ascii("example.org.").unwrap();
        assert!(!guard.observe(&other, RecordType::HINFO));
        let probe = guard.probe.clone();
        assert!(
            !guard.observe(&probe, RecordType::A),
            "only HINFO is the probe"
        );
        assert!(guard.observe(&probe, RecordType::HINFO));
        assert!(guard.observe(&probe, RecordType::HINFO));
        assert!(!guard.looping());
        assert!(guard.observe(&probe, RecordType::HINFO));
        assert!(guard.looping());
        assert!(metrics
            .render()
            .contains("cairn_forward_loops_detected_total 1"));
    }
}
