//! `forward` in a chain: names it handles go upstream on the async side; the rest pass on.
//! It offers its [`Forwarder`] to the plugins before it (`kubernetes` chases CNAMEs through it,
//! `loop` guards it).

use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{ForwardConfig, ForwardError, Forwarder};
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Started,
};

impl Configure for ForwardConfig {
    const NAME: &'static str = "forward";

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        super::setup::parse(d, block.files)
    }

    fn summary(&self) -> String {
        use crate::plugin::describe::{upstream, words, zone};
        format!(
            "{} {}",
            zone(&self.from.to_ascii()),
            words(self.to.iter().map(|a| upstream(*a)))
        )
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let forwarder = Forwarder::new(self.clone(), env.metrics.clone());
        env.provide(forwarder.clone());
        Ok(Some(Arc::new(Forward { forwarder })))
    }
}

struct Forward {
    forwarder: Arc<Forwarder>,
}

impl Plugin for Forward {
    fn kind(&self) -> Kind {
        Kind::Forward
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        if !self.forwarder.handles(query.name()) {
            return Flow::Next;
        }
        let forwarder = self.forwarder.clone();
        let message = query.request.message.clone();
        let transport = query.transport;
        Flow::Upstream(Box::pin(async move {
            match forwarder.exchange_via(&message, transport).await {
                Ok(response) => {
                    let mut answer = Answer::new(sections_of(&response));
                    answer.cacheable = response.metadata.response_code != ResponseCode::ServFail;
                    answer
                }
                Err(ForwardError::Refused(_)) => {
                    let mut answer = Answer::rcode(ResponseCode::Refused);
                    answer.sections.recursion_available = true;
                    answer.cacheable = false;
                    answer
                }
                Err(err) => {
                    let mut answer = Answer::servfail();
                    answer.error = Some(err.to_string());
                    answer
                }
            }
        }))
    }

    fn start(&self, started: &Started<'_>) {
        let _entered = started.runtime.enter();
        self.forwarder.start();
    }
}

/// An upstream's response as an answer (not authoritative: Cairn did not make it).
fn sections_of(m: &Message) -> Sections {
    Sections {
        rcode: m.metadata.response_code,
        authoritative: false,
        recursion_available: m.metadata.recursion_available,
        answers: m.answers.clone(),
        authorities: m.authorities.clone(),
        additionals: m
            .additionals
            .iter()
            .filter(|r| r.record_type() != RecordType::OPT)
            .cloned()
            .collect(),
        truncated: m.metadata.truncation,
        edns_options: Vec::new(),
    }
}
