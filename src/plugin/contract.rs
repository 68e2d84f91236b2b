//! The contract between a chain and its plugins: what a plugin can do with a query
//! ([`Flow`]), the answer on its way out ([`Answer`], [`Reusable`]), and the hooks of
//! [`Plugin`]. See the `plugin` module for how a query runs through them.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;

use crate::dns::response::Sections;

use super::{Kind, Next, Query};

/// What a plugin made of a query.
pub enum Flow {
    /// Answered: the chain stops; the answer goes back out through the plugins before this one.
    Answer(Answer),
    /// Not this plugin's: the next plugin in the order sees the query (as this one may have
    /// rewritten it).
    Next,
    /// Needs the network: the listener awaits `Job` on the I/O runtime, then the answer goes
    /// out as if this plugin had answered.
    Upstream(Job),
}

/// Work for the async side: resolves to the answer.
pub type Job = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// An answer on its way out.
#[derive(Debug)]
pub struct Answer {
    pub sections: Sections,
    /// Which plugin wrote it (the `plugin` metric label); `None` when no plugin did (REFUSED).
    pub by: Option<Kind>,
    /// Whether the listener may keep it encoded and send it again for the same query bytes.
    pub reuse: Reusable,
    /// False for answers not worth keeping (a failed upstream exchange, a partial chase).
    pub cacheable: bool,
    /// What went wrong making it, for `errors` (a failed upstream exchange).
    pub error: Option<String>,
    /// Send nothing at all (`acl`'s `drop`): the client hears no reply, as from a lost packet.
    /// Only for an answer made in [`Plugin::serve`] (never for an [`Flow::Upstream`] job's).
    pub silent: bool,
    /// Further messages of the same answer (a zone transfer's): over TCP the listener sends
    /// them after this one, each with the query's ID and question; over UDP they are dropped.
    /// Only for an answer made in [`Plugin::serve`]; such an answer is never reused.
    pub more: Vec<Sections>,
}

impl Answer {
    /// An answer that depends only on the query and the published indexes.
    pub fn new(sections: Sections) -> Answer {
        Answer {
            sections,
            by: None,
            reuse: Reusable::Always,
            cacheable: true,
            error: None,
            silent: false,
            more: Vec::new(),
        }
    }

    /// No reply at all (see [`Answer::silent`]); never kept nor reused.
    pub fn silence() -> Answer {
        let mut a = Answer::rcode(ResponseCode::NoError);
        a.silent = true;
        a.reuse = Reusable::Never;
        a.cacheable = false;
        a
    }

    /// An answer with no records and this rcode.
    pub fn rcode(rcode: ResponseCode) -> Answer {
        Answer::new(Sections {
            rcode,
            ..Sections::default()
        })
    }

    /// SERVFAIL, never kept.
    pub fn servfail() -> Answer {
        let mut a = Answer::rcode(ResponseCode::ServFail);
        a.reuse = Reusable::Never;
        a.cacheable = false;
        a
    }

    /// Limits how long the answer may be reused to `reuse` (never extends it).
    pub fn limit_reuse(&mut self, reuse: Reusable) {
        self.reuse = match (self.reuse, reuse) {
            (Reusable::Never, _) | (_, Reusable::Never) => Reusable::Never,
            (Reusable::Always, other) | (other, Reusable::Always) => other,
            (Reusable::Until { until: a, .. }, Reusable::Until { until: b, denial }) => {
                Reusable::Until {
                    until: a.min(b),
                    denial,
                }
            }
        };
    }
}

/// Whether the same query bytes would get the very same answer again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reusable {
    Never,
    /// A pure function of the query and the published indexes.
    Always,
    /// A cache hit: the same until this instant (TTLs count down in whole seconds).
    Until {
        until: Instant,
        denial: bool,
    },
}

/// What the plugins of a chain get when their server starts listening.
pub struct Started<'a> {
    /// Where their background work runs.
    pub runtime: &'a tokio::runtime::Handle,
    /// The listener the chain serves (a wildcard address made loopback), for probes.
    pub listener: SocketAddr,
}

/// One plugin in a chain.
pub trait Plugin: Send + Sync {
    /// Which plugin this is (its name, its place in the order, its metric label).
    fn kind(&self) -> Kind;

    /// Sees the query on its way down the chain. `next` reaches the plugins after this one.
    fn serve(&self, query: &mut Query, next: &Next<'_>) -> Flow {
        let _ = (query, next);
        Flow::Next
    }

    /// Sees the answer on its way back out, when a plugin after this one made it.
    fn respond(&self, query: &Query, answer: &mut Answer) {
        let _ = (query, answer);
    }

    /// Sees the answer as sent (`response`: the encoded bytes), after the metrics are counted.
    fn sent(&self, query: &Query, rcode: ResponseCode, response: &[u8], elapsed: Duration) {
        let _ = (query, rcode, response, elapsed);
    }

    /// An answer this plugin made ([`Reusable::Until`]: a `denial` or success cache hit) was
    /// sent again by the listener from its encoded copy, without running the chain.
    fn reused(&self, denial: bool) {
        let _ = denial;
    }

    /// Starts the plugin's background work (health checks, file reloads, probes); called once
    /// per chain, when its first listener is bound.
    fn start(&self, started: &Started<'_>) {
        let _ = started;
    }
}
