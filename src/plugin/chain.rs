//! One server block's plugins in order, and how a query runs through them: down the chain
//! until a plugin answers or hands work to the async side, then back out through the plugins
//! it passed (see [`super::Plugin`]). Built once per block from its setups
//! ([`Chain::build`]) and swapped whole on reload.
//!
//! A query nobody answers is REFUSED, as CoreDNS does when no plugin claims a name.

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;

use super::{Answer, BuildEnv, Flow, Job, Kind, Plugin, Query, Reusable, Setup, Started};
use crate::metrics::{Answered, Metrics};

/// One server block's plugins.
pub struct Chain {
    /// The block's zones, lower-case.
    pub zones: Vec<Name>,
    /// `dns://ADDR:PORT`, the metrics' `server` label.
    pub server_label: String,
    plugins: Vec<Arc<dyn Plugin>>,
    pub metrics: Arc<Metrics>,
    /// The runtime background work goes to (set when the server starts listening).
    runtime: OnceLock<tokio::runtime::Handle>,
}

/// What running the synchronous part of a chain gave.
pub enum Resolved {
    /// The answer, through every respond hook it passes.
    Done(Answer),
    /// Work for the async side: [`Chain::finish`] it.
    Pending(Pending),
}

/// A job a plugin handed to the async side, and which plugins it passed on the way in.
pub struct Pending {
    job: Job,
    /// The first plugin of the run (the answer goes back out through `from..at`).
    from: usize,
    /// The plugin that made the job.
    at: usize,
}

/// The plugins after the one serving a query, for a plugin that runs them itself (`cache`
/// refreshing an entry in the background, `rewrite`, `autopath`).
pub struct Next<'a> {
    chain: &'a Arc<Chain>,
    from: usize,
}

impl Next<'_> {
    /// Runs `query` through the plugins after this one.
    pub fn resolve(&self, query: &mut Query) -> Resolved {
        self.chain.run(self.from, query)
    }

    /// The chain (to finish a [`Pending`] later, on the runtime).
    pub fn chain(&self) -> Arc<Chain> {
        self.chain.clone()
    }

    /// Where background work runs, once the server listens.
    pub fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.chain.runtime.get()
    }

    /// The same plugins, owned: to run them again later, on the runtime.
    pub fn rest(&self) -> Rest {
        Rest {
            chain: self.chain.clone(),
            from: self.from,
        }
    }
}

/// The plugins after one, owned, for a plugin that asks them several questions in turn and
/// may have to go on asking on the runtime once one answer needed the upstream (`autopath`
/// walking a search path through `forward`).
#[derive(Clone)]
pub struct Rest {
    chain: Arc<Chain>,
    from: usize,
}

impl Rest {
    /// Runs `query` through the plugins, the upstream awaited when one needs it.
    pub async fn answer(&self, query: &mut Query) -> Answer {
        match self.chain.run(self.from, query) {
            Resolved::Done(answer) => answer,
            Resolved::Pending(pending) => self.chain.finish(query, pending).await,
        }
    }

    /// Awaits a [`Pending`] these plugins made.
    pub async fn finish(&self, query: &Query, pending: Pending) -> Answer {
        self.chain.finish(query, pending).await
    }
}

impl Chain {
    /// The chain of one block: its setups' plugins, in the order of [`Kind`] (not the order the
    /// Corefile wrote them in). Built from the last plugin to the first, so each can use what
    /// the ones after it provide.
    pub fn build(
        setups: &[Setup],
        mut env: BuildEnv<'_>,
        metrics: Arc<Metrics>,
    ) -> Result<Chain, String> {
        let mut ordered: Vec<&Setup> = setups.iter().collect();
        ordered.sort_by_key(|s| std::cmp::Reverse(s.kind()));
        let mut plugins = Vec::new();
        for setup in ordered {
            if let Some(plugin) = setup.build(&mut env)? {
                plugins.push(plugin);
            }
        }
        plugins.reverse();
        Ok(Chain {
            zones: env.zones.to_vec(),
            server_label: env.server_label.to_string(),
            plugins,
            metrics,
            runtime: OnceLock::new(),
        })
    }

    /// The plugins in the chain, in order.
    pub fn kinds(&self) -> Vec<Kind> {
        self.plugins.iter().map(|p| p.kind()).collect()
    }

    /// Whether the chain has this plugin.
    pub fn has(&self, kind: Kind) -> bool {
        self.plugins.iter().any(|p| p.kind() == kind)
    }

    /// The plugin of this kind in the chain.
    pub fn plugin(&self, kind: Kind) -> Option<&Arc<dyn Plugin>> {
        self.plugins.iter().find(|p| p.kind() == kind)
    }

    /// Starts the plugins' background work on `runtime` (once; later calls, for the chain's
    /// other listeners, do nothing).
    pub fn start(&self, runtime: &tokio::runtime::Handle, listener: SocketAddr) {
        if self.runtime.set(runtime.clone()).is_err() {
            return;
        }
        let started = Started { runtime, listener };
        for plugin in &self.plugins {
            plugin.start(&started);
        }
    }

    /// Runs `query` down the chain.
    pub fn resolve(self: &Arc<Self>, query: &mut Query) -> Resolved {
        self.run(0, query)
    }

    fn run(self: &Arc<Self>, from: usize, query: &mut Query) -> Resolved {
        for at in from..self.plugins.len() {
            let next = Next {
                chain: self,
                from: at + 1,
            };
            match self.plugins[at].serve(query, &next) {
                Flow::Next => continue,
                Flow::Answer(mut answer) => {
                    answer.by.get_or_insert(self.plugins[at].kind());
                    if query.is_volatile() {
                        answer.limit_reuse(Reusable::Never);
                    }
                    self.respond(from, at, query, &mut answer);
                    return Resolved::Done(answer);
                }
                Flow::Upstream(job) => return Resolved::Pending(Pending { job, from, at }),
            }
        }
        let mut refused = Answer::rcode(ResponseCode::Refused);
        refused.cacheable = false;
        if query.is_volatile() {
            refused.limit_reuse(Reusable::Never);
        }
        self.respond(from, self.plugins.len(), query, &mut refused);
        Resolved::Done(refused)
    }

    /// Awaits the job of a [`Pending`] and sends its answer out through the plugins it passed.
    pub async fn finish(&self, query: &Query, pending: Pending) -> Answer {
        let Pending { job, from, at } = pending;
        let mut answer = job.await;
        answer.by.get_or_insert(self.plugins[at].kind());
        answer.limit_reuse(Reusable::Never);
        self.respond(from, at, query, &mut answer);
        answer
    }

    /// The respond hooks of plugins `from..at`, the nearest first.
    fn respond(&self, from: usize, at: usize, query: &Query, answer: &mut Answer) {
        for plugin in self.plugins[from..at].iter().rev() {
            plugin.respond(query, answer);
        }
    }

    /// Metrics and every plugin's [`Plugin::sent`] for one answered query.
    pub fn account(
        &self,
        zone: &str,
        query: &Query,
        rcode: ResponseCode,
        by: Option<Kind>,
        response: &[u8],
    ) {
        let elapsed = query.started.elapsed();
        let answered = Answered {
            transport: query.transport,
            ipv6_client: query.client.is_ipv6(),
            qtype: query.qtype(),
            rcode,
            request_size: query.request_size,
            response_size: response.len(),
            duration: elapsed,
        };
        self.metrics.query(
            &self.server_label,
            zone,
            by.map_or("", Kind::name),
            &answered,
        );
        for plugin in &self.plugins {
            plugin.sent(query, rcode, response, elapsed);
        }
    }
}
