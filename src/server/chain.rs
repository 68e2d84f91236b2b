//! The plugin chain of one server block, in CoreDNS's plugin order (not the Corefile's):
//! `log`/`errors` around everything, `loadbalance` on the way out, then `cache`, `hosts`,
//! `kubernetes` (with `fallthrough`) and `forward`.
//!
//! Everything but upstream traffic is answered synchronously on the listener's thread; a query
//! that must go upstream (forwarded names, ExternalName targets outside the cluster zone, cache
//! refreshes) becomes a [`Pending`] the listener completes on the async runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

use super::plugins;
use crate::cache::{Cache, CacheKey, Lookup};
use crate::cluster::publish::IndexCell;
use crate::config::model::LogConfig;
use crate::dns::request::Request;
use crate::dns::response::Sections;
use crate::forward::{ForwardError, Forwarder};
use crate::hosts::Hosts;
use crate::metrics::{Metrics, Proto};

/// The `kubernetes` plugin of a block.
pub struct Kubernetes {
    pub cell: Arc<IndexCell>,
    /// `fallthrough [ZONES]`: NXDOMAIN for these names goes on down the chain (`Some(vec![])`:
    /// every name).
    pub fallthrough: Option<Vec<Name>>,
}

/// One server block's plugins.
pub struct Chain {
    /// The block's zones, lower-case.
    pub zones: Vec<Name>,
    /// `dns://ADDR:PORT`, the metrics' `server` label.
    pub server_label: String,
    pub kubernetes: Option<Kubernetes>,
    pub cache: Option<Arc<Cache>>,
    pub hosts: Option<Arc<Hosts>>,
    pub forward: Option<Arc<Forwarder>>,
    pub loadbalance: bool,
    /// `loop`: the probe that detects a forwarding loop.
    pub loop_guard: Option<super::loop_guard::LoopGuard>,
    pub errors: bool,
    pub log: Option<LogConfig>,
    pub metrics: Arc<Metrics>,
    /// The runtime background refreshes go to (set when the server starts listening).
    pub runtime: std::sync::OnceLock<tokio::runtime::Handle>,
}

/// What the synchronous part of the chain decided.
pub enum Step {
    /// The answer, which plugin wrote it, and for how long the listener may keep it encoded.
    Done {
        sections: Sections,
        plugin: &'static str,
        reuse: Reusable,
    },
    /// Needs the upstream.
    Upstream(Job),
}

/// What the local plugins (`hosts`, `kubernetes`) made of a query.
enum Local {
    Answer(Sections, &'static str),
    /// A cluster answer whose CNAME target is the upstream's to resolve.
    Chase(Sections, Name),
    Nothing,
}

/// Whether the same query bytes would get the very same answer again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reusable {
    Never,
    /// A pure function of the query and the published indexes.
    Always,
    /// A cache hit: the same until this instant (TTLs count down in whole seconds).
    Until {
        until: std::time::Instant,
        denial: bool,
    },
}

/// Upstream work left to do.
pub enum Job {
    /// Forward the query as it is.
    Forward { stale: Option<Message> },
    /// A cluster answer ending in a CNAME to `target` outside the zone: append the target's
    /// records from upstream.
    Chase { answer: Sections, target: Name },
}

fn covered(zones: &[Name], qname: &Name) -> bool {
    zones.is_empty() || zones.iter().any(|z| z.zone_of(qname))
}

fn sections_of(m: &Message) -> Sections {
    Sections {
        rcode: m.metadata.response_code,
        authoritative: m.metadata.authoritative,
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
    }
}

/// A cached answer as sent: authoritative, as CoreDNS's cache sets it (some clients discard
/// non-authoritative answers whole).
fn from_cache(m: &Message) -> Sections {
    let mut sections = sections_of(m);
    sections.authoritative = true;
    sections
}

/// An answer as a message, for the cache.
fn message_of(request: &Request, sections: &Sections) -> Message {
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

fn cache_key(request: &Request) -> CacheKey {
    let q = request.query();
    CacheKey::new(
        q.name(),
        q.query_type(),
        q.query_class(),
        request.edns().is_some_and(|e| e.flags().dnssec_ok),
        request.message.metadata.checking_disabled,
    )
}

fn servfail() -> Sections {
    Sections {
        rcode: ResponseCode::ServFail,
        ..Sections::default()
    }
}

impl Chain {
    /// Whether this block's cache handles `qname`.
    fn cache_for(&self, qname: &Name) -> Option<&Arc<Cache>> {
        self.cache.as_ref().filter(|c| c.covers(qname))
    }

    /// The synchronous part of the chain.
    pub fn resolve(&self, request: &Request) -> Step {
        let query = request.query();
        let qname = query.name();
        let now = tokio::time::Instant::now();
        let mut stale = None;
        let probe = self
            .loop_guard
            .as_ref()
            .is_some_and(|g| g.observe(qname, query.query_type()));
        if probe && self.loop_guard.as_ref().is_some_and(|g| g.looping()) {
            return self.done(servfail(), "loop", Reusable::Never);
        }
        if let Some(cache) = self.cache_for(qname) {
            match cache.lookup(&cache_key(request), now) {
                Lookup::Hit {
                    response,
                    prefetch,
                    stable_until,
                    denial,
                } => {
                    if prefetch {
                        self.refresh_in_background(request);
                    }
                    // With prefetch on, every hit must reach the cache to be counted.
                    let reuse = if cache.prefetches() {
                        Reusable::Never
                    } else {
                        Reusable::Until {
                            until: stable_until.into_std(),
                            denial,
                        }
                    };
                    return self.done(from_cache(&response), "cache", reuse);
                }
                Lookup::Stale {
                    response,
                    verify: false,
                } => {
                    self.refresh_in_background(request);
                    return self.done(from_cache(&response), "cache", Reusable::Never);
                }
                Lookup::Stale {
                    response,
                    verify: true,
                } => stale = Some(response),
                Lookup::Miss => {}
            }
        }
        match self.local(request) {
            Local::Answer(sections, plugin) => {
                let cached = self.store(request, &sections);
                // With `hosts` in the chain, its file may change what falls through to here.
                let reuse = if plugin == "kubernetes" && !cached && self.hosts.is_none() {
                    Reusable::Always
                } else {
                    Reusable::Never
                };
                self.done(sections, plugin, reuse)
            }
            Local::Chase(answer, target) => Step::Upstream(Job::Chase { answer, target }),
            Local::Nothing => self.upstream_or_refuse(request, stale),
        }
    }

    /// What `hosts` or `kubernetes` answer from local data (no cache, no upstream).
    fn local(&self, request: &Request) -> Local {
        let query = request.query();
        let qname = query.name();
        if let Some(hosts) = &self.hosts {
            if let Some(answer) = hosts.answer(qname, query.query_type()) {
                let sections = Sections {
                    rcode: answer.rcode,
                    authoritative: true,
                    recursion_available: self.forward.is_some(),
                    answers: answer.answers,
                    ..Sections::default()
                };
                return Local::Answer(sections, "hosts");
            }
        }
        let Some(k) = self.kubernetes.as_ref() else {
            return Local::Nothing;
        };
        let Some(answer) = k.cell.load().answer(qname, query.query_type()) else {
            return Local::Nothing;
        };
        let falls_through = answer.rcode == ResponseCode::NXDomain
            && k.fallthrough.as_ref().is_some_and(|z| covered(z, qname));
        if falls_through {
            return Local::Nothing;
        }
        let sections = Sections {
            rcode: answer.rcode,
            authoritative: answer.rcode != ResponseCode::Refused,
            recursion_available: self.forward.is_some(),
            answers: answer.answers,
            authorities: answer.authorities,
            additionals: answer.additionals,
            truncated: false,
        };
        match (answer.chase, &self.forward) {
            (Some(target), Some(_)) => Local::Chase(sections, target),
            _ => Local::Answer(sections, "kubernetes"),
        }
    }

    fn upstream_or_refuse(&self, request: &Request, stale: Option<Message>) -> Step {
        let qname = request.query().name();
        if let Some(forward) = &self.forward {
            if forward.handles(qname) {
                if self.loop_guard.as_ref().is_some_and(|g| g.looping()) {
                    return self.done(servfail(), "loop", Reusable::Never);
                }
                return Step::Upstream(Job::Forward { stale });
            }
        }
        self.done(
            Sections {
                rcode: ResponseCode::Refused,
                ..Sections::default()
            },
            "",
            if self.hosts.is_none() {
                Reusable::Always
            } else {
                Reusable::Never
            },
        )
    }

    /// Keeps `sections` in the cache when this block caches that name; true if it did.
    fn store(&self, request: &Request, sections: &Sections) -> bool {
        if sections.rcode == ResponseCode::ServFail {
            return false; // (e.g. before the first sync): never worth keeping
        }
        match self.cache_for(request.query().name()) {
            Some(cache) => {
                let message = message_of(request, sections);
                cache.insert(cache_key(request), &message, tokio::time::Instant::now());
                true
            }
            None => false,
        }
    }

    fn done(&self, mut sections: Sections, plugin: &'static str, reuse: Reusable) -> Step {
        let mut reuse = reuse;
        if self.loadbalance && sections.answers.len() > 1 {
            plugins::shuffle_addresses(&mut sections.answers);
            reuse = Reusable::Never;
        }
        Step::Done {
            sections,
            plugin,
            reuse,
        }
    }

    /// Refreshes a cached name (prefetch, serve-stale) without making the client wait: names
    /// the local plugins own are recomputed from their data at once; forwarded names are asked
    /// upstream on the runtime.
    fn refresh_in_background(&self, request: &Request) {
        match self.local(request) {
            Local::Answer(sections, _) => {
                self.store(request, &sections);
            }
            Local::Chase(..) => {} // refreshed when it expires: CNAME + upstream is one answer
            Local::Nothing => {
                let qname = request.query().name();
                let (Some(forward), Some(handle)) = (&self.forward, self.runtime.get()) else {
                    return;
                };
                if !forward.handles(qname) {
                    return;
                }
                let forward = forward.clone();
                let cache = self.cache.clone();
                let message = request.message.clone();
                let key = cache_key(request);
                handle.spawn(async move {
                    if let (Ok(response), Some(cache)) = (forward.exchange(&message).await, cache) {
                        if response.metadata.response_code != ResponseCode::ServFail {
                            cache.insert(key, &response, tokio::time::Instant::now());
                        }
                    }
                });
            }
        }
    }

    /// The asynchronous part: goes upstream for `job`.
    pub async fn complete(
        &self,
        request: &Request,
        job: Job,
        tcp: bool,
    ) -> (Sections, &'static str) {
        let client = if tcp { Proto::Tcp } else { Proto::Udp };
        let Some(forward) = &self.forward else {
            return (servfail(), "forward");
        };
        match job {
            Job::Forward { stale } => match forward.exchange_via(&request.message, client).await {
                Ok(response) => {
                    let mut sections = sections_of(&response);
                    sections.authoritative = false;
                    if response.metadata.response_code != ResponseCode::ServFail {
                        if let Some(cache) = self.cache_for(request.query().name()) {
                            cache.insert(
                                cache_key(request),
                                &response,
                                tokio::time::Instant::now(),
                            );
                        }
                    }
                    (self.finish(sections), "forward")
                }
                Err(ForwardError::Refused(_)) => (
                    Sections {
                        rcode: ResponseCode::Refused,
                        recursion_available: true,
                        ..Sections::default()
                    },
                    "forward",
                ),
                Err(err) => {
                    if let Some(stale) = stale {
                        return (self.finish(from_cache(&stale)), "cache");
                    }
                    if self.errors {
                        let q = request.query();
                        tracing::error!(
                            target: "cairn::errors",
                            "plugin/errors: 2 {} {}: {err}",
                            q.name(),
                            q.query_type()
                        );
                    }
                    (servfail(), "forward")
                }
            },
            Job::Chase { mut answer, target } => {
                let mut upstream = request.message.clone();
                if let Some(q) = upstream.queries.first_mut() {
                    q.set_name(target);
                }
                match forward.exchange_via(&upstream, client).await {
                    Ok(response) if response.metadata.response_code != ResponseCode::ServFail => {
                        answer.answers.extend(response.answers.iter().cloned());
                        answer.truncated |= response.metadata.truncation;
                        self.store(request, &answer);
                    }
                    // The CNAME alone this time; not cached, so the next query chases again.
                    _ => {}
                }
                (self.finish(answer), "kubernetes")
            }
        }
    }

    fn finish(&self, mut sections: Sections) -> Sections {
        if self.loadbalance {
            plugins::shuffle_addresses(&mut sections.answers);
        }
        sections
    }

    /// Metrics and the `log` line for one answered query.
    #[allow(clippy::too_many_arguments)]
    pub fn account(
        &self,
        zone: &str,
        client: SocketAddr,
        request: &Request,
        tcp: bool,
        request_size: usize,
        rcode: ResponseCode,
        plugin: &str,
        response: &[u8],
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        let proto = if tcp { Proto::Tcp } else { Proto::Udp };
        self.metrics.query(
            &self.server_label,
            zone,
            proto,
            client.is_ipv6(),
            request.query().query_type(),
            rcode,
            plugin,
            request_size,
            response.len(),
            elapsed,
        );
        if let Some(log) = &self.log {
            if plugins::log_wanted(log, request, rcode) {
                let line =
                    plugins::log_line(client, request, tcp, request_size, rcode, response, elapsed);
                tracing::info!(target: "cairn::log", "{line}");
            }
        }
    }
}
