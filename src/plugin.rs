//! Corefile plugins: the contract every plugin keeps, the order they run in, and one folder per
//! plugin.
//!
//! A plugin is one folder here (`cache/`, `forward/`, `kubernetes/`, …) holding everything about
//! it: its Corefile options parsed into typed values (`setup`), what it does to a query (its
//! [`Plugin`] implementation), its metrics, and its `README.md` (the doc page, in CoreDNS's
//! shape). It is known to the rest of Cairn through one line of [`order`], CoreDNS's
//! `plugin.cfg` order: that line names its [`Kind`] and its [`Setup`] variant, and decides
//! where it sits in every chain whatever order a Corefile writes it in.
//!
//! A query runs down a block's [`chain::Chain`] in that order. Each plugin sees it
//! ([`Plugin::serve`]) and either answers ([`Flow::Answer`]), passes it on ([`Flow::Next`],
//! CoreDNS's fallthrough, possibly after rewriting the request in the [`query::Query`]), or
//! hands work to the async side ([`Flow::Upstream`]: forwarding, chasing a CNAME). The answer
//! then goes back out through the plugins before the one that answered
//! ([`Plugin::respond`]: `loadbalance`, `cache` storing it, `minimal`, …), is encoded, and
//! each of them sees the bytes sent ([`Plugin::sent`]: `log`).
//!
//! Plugins that act outside the query path (`health`, `ready`, `prometheus`, `reload`,
//! `nodelocal`) have a setup and no place in the chain: their options are read where those
//! listeners and tasks are started (`run/`).

pub mod chain;
pub mod describe;
pub mod order;
pub mod query;
pub mod registry;

pub mod cache;
pub mod errors;
pub mod forward;
pub mod health;
pub mod hosts;
pub mod kubernetes;
pub mod loadbalance;
pub mod log;
pub mod loop_detect;
pub mod nodelocal;
pub mod prometheus;
pub mod ready;
pub mod reload;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;

use crate::dns::response::Sections;

pub use chain::{Chain, Next};
pub use order::{Kind, Setup};
pub use query::Query;
pub use registry::{BlockContext, BuildEnv, Configure};

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
        }
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
