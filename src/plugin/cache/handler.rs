//! `cache` in a chain: a hit is answered here; a miss runs the plugins after it and stores
//! their answer (at once, or when the upstream's comes back). Prefetch and immediate
//! serve-stale refresh an entry in the background, `verify` serve-stale serves the stale copy
//! only when the plugins after fail.

use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{Cache, CacheConfig, CacheKey, Lookup};
use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::autopath::Walks;
use crate::plugin::chain::Resolved;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};

impl Configure for CacheConfig {
    const NAME: &'static str = "cache";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        super::setup::parse(d)
    }

    fn summary(&self) -> String {
        use crate::plugin::describe::{names, words};
        let ttl = if self.success.max_ttl == self.denial.max_ttl {
            self.success.max_ttl.to_string()
        } else {
            String::new()
        };
        words(
            [ttl, names(&self.zones)]
                .into_iter()
                .filter(|s| !s.is_empty()),
        )
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let mut config = self.clone();
        if config.zones.is_empty() {
            config.zones = env.zones.to_vec();
        }
        let cache = Cache::new(config, env.server_label.to_string(), env.metrics.clone());
        Ok(Some(Arc::new(CachePlugin {
            cache: Arc::new(cache),
            autopath: env.provided::<Walks>(),
        })))
    }
}

struct CachePlugin {
    cache: Arc<Cache>,
    /// The block's `autopath`, whose answers depend on the client.
    autopath: Option<Walks>,
}

impl Plugin for CachePlugin {
    fn kind(&self) -> Kind {
        Kind::Cache
    }

    fn serve(&self, query: &mut Query, next: &Next<'_>) -> Flow {
        if !self.cache.covers(query.name()) {
            return Flow::Next;
        }
        let now = tokio::time::Instant::now();
        match self.cache.lookup(&self.key(query), now) {
            Lookup::Hit {
                response,
                prefetch,
                stable_until,
                denial,
            } => {
                if prefetch {
                    self.refresh(query, next);
                }
                let mut answer = Answer::new(from_cache(&response));
                // With prefetch on, every hit must reach the cache to be counted; an answer
                // that depends on the client must not go to another asking the same bytes.
                answer.reuse = if self.cache.prefetches() || self.for_client(query).is_some() {
                    Reusable::Never
                } else {
                    Reusable::Until {
                        until: stable_until.into_std(),
                        denial,
                    }
                };
                Flow::Answer(answer)
            }
            Lookup::Stale {
                response,
                verify: false,
            } => {
                self.refresh(query, next);
                let mut answer = Answer::new(from_cache(&response));
                answer.reuse = Reusable::Never;
                Flow::Answer(answer)
            }
            Lookup::Stale {
                response,
                verify: true,
            } => self.through(query, next, Some(response)),
            Lookup::Miss => self.through(query, next, None),
        }
    }

    fn reused(&self, denial: bool) {
        self.cache.count_reused_hit(denial);
    }
}

impl CachePlugin {
    /// Asks the plugins after the cache and keeps what they answer. With `stale`, that copy is
    /// served when they fail.
    fn through(&self, query: &mut Query, next: &Next<'_>, stale: Option<Message>) -> Flow {
        match next.resolve(query) {
            Resolved::Done(mut answer) => {
                if store(&self.cache, self.key(query), query, &answer) {
                    // Served from the cache from now on, with its TTLs counting down.
                    answer.limit_reuse(Reusable::Never);
                }
                Flow::Answer(answer)
            }
            Resolved::Pending(pending) => {
                let chain = next.chain();
                let cache = self.cache.clone();
                let asked = query.refresh();
                let key = self.key(&asked);
                Flow::Upstream(Box::pin(async move {
                    let answer = chain.finish(&asked, pending).await;
                    if answer.error.is_some() {
                        if let Some(stale) = stale {
                            let mut served = Answer::new(from_cache(&stale));
                            served.by = Some(Kind::Cache);
                            return served;
                        }
                    }
                    store(&cache, key, &asked, &answer);
                    answer
                }))
            }
        }
    }

    /// Refreshes the entry for `query` without making the client wait: the plugins after the
    /// cache answer it afresh, on the runtime when they need the upstream.
    fn refresh(&self, query: &Query, next: &Next<'_>) {
        let mut fresh = query.refresh();
        match next.resolve(&mut fresh) {
            Resolved::Done(answer) => {
                store(&self.cache, self.key(&fresh), &fresh, &answer);
            }
            Resolved::Pending(pending) => {
                let Some(runtime) = next.runtime() else {
                    return;
                };
                let chain = next.chain();
                let cache = self.cache.clone();
                let key = self.key(&fresh);
                runtime.spawn(async move {
                    let answer = chain.finish(&fresh, pending).await;
                    store(&cache, key, &fresh, &answer);
                });
            }
        }
    }
}

impl CachePlugin {
    fn key(&self, query: &Query) -> CacheKey {
        let request = &query.request;
        let q = request.query();
        CacheKey::new(
            q.name(),
            q.query_type(),
            q.query_class(),
            request.edns().is_some_and(|e| e.flags().dnssec_ok),
            request.message.metadata.checking_disabled,
        )
        .searched(self.for_client(query) == Some(true))
    }

    /// [`Walks::for_client`] of the block's `autopath`.
    fn for_client(&self, query: &Query) -> Option<bool> {
        self.autopath.as_ref().and_then(|a| a.for_client(query))
    }
}

/// Keeps `answer` under `key` when it is worth keeping; true if it did.
fn store(cache: &Cache, key: CacheKey, query: &Query, answer: &Answer) -> bool {
    if !answer.cacheable || answer.sections.rcode == ResponseCode::ServFail {
        return false; // (e.g. before the first sync): never worth keeping
    }
    cache.insert(
        key,
        &message_of(query, &answer.sections),
        tokio::time::Instant::now(),
    );
    true
}

/// A cached answer as sent: authoritative, as CoreDNS's cache sets it (some clients discard
/// non-authoritative answers whole).
fn from_cache(m: &Message) -> Sections {
    Sections {
        rcode: m.metadata.response_code,
        authoritative: true,
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

/// An answer as a message, for the store.
fn message_of(query: &Query, sections: &Sections) -> Message {
    let request = &query.request;
    let mut m = Message::response(
        request.message.metadata.id,
        request.message.metadata.op_code,
    );
    m.metadata.response_code = sections.rcode;
    m.metadata.authoritative = sections.authoritative;
    m.metadata.recursion_available = sections.recursion_available;
    m.metadata.truncation = sections.truncated;
    m.queries.push(request.query().clone());
    m.answers = sections.answers.clone();
    m.authorities = sections.authorities.clone();
    m.additionals = sections.additionals.clone();
    m
}
