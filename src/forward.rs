//! STUB until the forward branch lands: the agreed interface only.
use std::sync::Arc;

use hickory_proto::op::Message;
use hickory_proto::rr::Name;

use crate::config::model::ForwardConfig;
use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("refused")]
    Refused,
    #[error("no upstream answered")]
    Timeout,
}

pub struct Forwarder {
    config: ForwardConfig,
}

impl Forwarder {
    pub fn new(config: ForwardConfig, metrics: Arc<Metrics>) -> Arc<Forwarder> {
        let _ = metrics;
        Arc::new(Forwarder { config })
    }
    pub fn start(self: &Arc<Self>) {}
    pub fn handles(&self, qname: &Name) -> bool {
        Name::from_ascii(&self.config.from).is_ok_and(|z| z.zone_of(qname))
    }
    pub async fn exchange(&self, query: &Message) -> Result<Message, ForwardError> {
        let _ = query;
        Err(ForwardError::Timeout)
    }
    pub fn upstreams(&self) -> Vec<(std::net::SocketAddr, bool, u32)> {
        Vec::new()
    }
}
