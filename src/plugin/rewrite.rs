//! The `rewrite` plugin: CoreDNS's rewrite. Each `rewrite` directive of a block is one rule,
//! tried in the Corefile's order on the query as the rules before left it; a rule that matched
//! ends the list (`stop`, the default) or lets the next ones try (`continue`). Rules rewrite
//! the question's name (`name`, with `exact`, `prefix`, `suffix`, `substring` or `regex`
//! matches), type, class or an EDNS0 option for the plugins after `rewrite`, and the answer's
//! TTLs (`ttl`) or rcode (`rcode`) on its way back. Doc page: `README.md` in its folder.
//!
//! The answer goes back to the client as if nothing had been rewritten: `rewrite` runs the
//! plugins after it itself ([`Next::resolve`], as `cache` does), then puts the client's own
//! question (name as spelled, type, class and EDNS0 options) back into the query before the
//! answer leaves it, so the answer is encoded with the client's question and the plugins
//! before `rewrite` (`cache`, `log`, the listener) see the client's query, never the rewritten
//! one. The answer's names are rewritten back by the name rules' `answer` options (`answer
//! auto`, always on for `exact`). Unlike CoreDNS, the question is restored also after
//! `continue` rules that left no answer rewrite.
//!
//! Reuse and caching. A rewritten answer is a function of the query's bytes and of the answer
//! the plugins after `rewrite` made, so it keeps that answer's [`Reusable`] (a `kubernetes`
//! answer stays reusable until the next publish, anything from upstream never is) — but for
//! rules that put the client's address, port or transport into the query (`edns0 subnet`,
//! `edns0 local` with `{client_ip}`, `{client_port}` or `{protocol}`), whose answers are never
//! reused. `cache` sits before `rewrite` (CoreDNS's `plugin.cfg`), so it stores the answer as
//! the client gets it — names rewritten back, TTLs as `ttl` set them — under the client's own
//! question, as CoreDNS's cache does; its hits do not pass `rewrite` again. CoreDNS's rewrite
//! has no metrics; neither has Cairn's.

mod answer;
mod edns0;
mod rule;
mod setup;

pub use edns0::{Edns0Action, Edns0Option, Edns0Rule, LocalData, Variable};
pub use rule::{
    Action, AnswerField, AnswerRule, Match, Mode, NameRewrite, NameRule, Pattern, Rule,
};

use std::sync::Arc;

use hickory_proto::op::{Edns, Query as Question};

use crate::corefile::{ConfigError, Directive};
use crate::plugin::chain::Resolved;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable,
};
use answer::Reverse;
use rule::Subject;

#[cfg(test)]
mod tests;

/// The rules of a block's `rewrite` directives, in Corefile order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewriteConfig {
    pub rules: Vec<Rule>,
}

impl Configure for RewriteConfig {
    const NAME: &'static str = "rewrite";
    const REPEATABLE: bool = true;

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        Ok(RewriteConfig {
            rules: vec![setup::parse(d)?],
        })
    }

    fn join(&mut self, later: Self) {
        self.rules.extend(later.rules);
    }

    fn summary(&self) -> String {
        let fields: Vec<&str> = self.rules.iter().map(|r| r.action.field()).collect();
        fields.join(", ")
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Rewrite {
            rules: self.rules.clone().into(),
        })))
    }
}

struct Rewrite {
    rules: Arc<[Rule]>,
}

/// What a query looked like before the rules changed it, and what its answer needs.
#[derive(Default)]
struct Applied {
    /// Some rule matched.
    matched: bool,
    /// The client's question, once a rule changed it.
    question: Option<Question>,
    /// The client's OPT record, once an edns0 rule may have changed it.
    edns: Option<Option<Edns>>,
    /// What the answer goes through on its way back, in rule order.
    steps: Vec<Reverse>,
    /// A rule wrote who asked into the query.
    per_client: bool,
}

impl Applied {
    /// Puts the client's question and OPT record back.
    fn restore(&mut self, query: &mut Query) {
        if let Some(question) = self.question.take() {
            query.request.message.queries[0] = question;
        }
        if let Some(edns) = self.edns.take() {
            query.request.message.edns = edns;
        }
    }

    /// The answer as the client gets it.
    fn finish(rules: &[Rule], steps: &[Reverse], per_client: bool, answer: &mut Answer) {
        answer::revert(rules, steps, &mut answer.sections);
        if per_client {
            answer.limit_reuse(Reusable::Never);
        }
    }
}

impl Rewrite {
    /// Runs the rules on `query`. `Err`: a name rule made a name that is not one (the query
    /// is already restored).
    fn apply(&self, query: &mut Query) -> Result<Applied, String> {
        let mut applied = Applied::default();
        let mut text = None;
        for (i, rule) in self.rules.iter().enumerate() {
            let done = match &rule.action {
                Action::Name(name) => {
                    let new = name.rewrite.apply(&mut Subject::new(query.name(), &mut text));
                    match new {
                        None => false,
                        Some(Err(bad)) => {
                            applied.restore(query);
                            return Err(format!("invalid name after rewrite: {bad}"));
                        }
                        Some(Ok(new)) => {
                            let old = query.name().clone();
                            if name.auto {
                                applied.steps.push(match name.rewrite {
                                    NameRewrite::Suffix { .. } => Reverse::SuffixBack(i),
                                    _ => Reverse::Remap {
                                        from: new.clone(),
                                        to: old,
                                    },
                                });
                            }
                            applied
                                .steps
                                .extend((0..name.answers.len()).map(|j| Reverse::Answer(i, j)));
                            self.question(query, &mut applied).name = new;
                            text = None;
                            true
                        }
                    }
                }
                Action::Type { from, to } => {
                    let hit = query.qtype() == *from;
                    if hit {
                        self.question(query, &mut applied).query_type = *to;
                    }
                    hit
                }
                Action::Class { from, to } => {
                    let hit = query.request.query().query_class() == *from;
                    if hit {
                        self.question(query, &mut applied).query_class = *to;
                    }
                    hit
                }
                Action::Ttl { name, min, max } => {
                    let hit = name.matches(&mut Subject::new(query.name(), &mut text));
                    if hit {
                        applied.steps.push(Reverse::Ttl {
                            min: *min,
                            max: *max,
                        });
                    }
                    hit
                }
                Action::Rcode { name, from, to } => {
                    let hit = name.matches(&mut Subject::new(query.name(), &mut text));
                    if hit {
                        applied.steps.push(Reverse::Rcode {
                            from: *from,
                            to: *to,
                        });
                    }
                    hit
                }
                Action::Edns0(rule) => {
                    if applied.edns.is_none() {
                        applied.edns = Some(query.request.message.edns.clone());
                    }
                    let done = rule.apply(query);
                    applied.per_client |= done && rule.depends_on_client();
                    done
                }
            };
            if done {
                applied.matched = true;
                if rule.mode == Mode::Stop {
                    break;
                }
            }
        }
        Ok(applied)
    }

    /// The question, to change it (the client's saved first).
    fn question<'q>(&self, query: &'q mut Query, applied: &mut Applied) -> &'q mut Question {
        let question = &mut query.request.message.queries[0];
        if applied.question.is_none() {
            applied.question = Some(question.clone());
        }
        question
    }
}

impl Plugin for Rewrite {
    fn kind(&self) -> Kind {
        Kind::Rewrite
    }

    fn serve(&self, query: &mut Query, next: &Next<'_>) -> Flow {
        let mut applied = match self.apply(query) {
            Ok(applied) => applied,
            Err(error) => {
                let mut answer = Answer::servfail();
                answer.error = Some(error);
                return Flow::Answer(answer);
            }
        };
        if !applied.matched {
            applied.restore(query);
            return Flow::Next;
        }
        match next.resolve(query) {
            Resolved::Done(mut answer) => {
                applied.restore(query);
                Applied::finish(&self.rules, &applied.steps, applied.per_client, &mut answer);
                Flow::Answer(answer)
            }
            Resolved::Pending(pending) => {
                // The plugins after `rewrite` see their answer leave for the rewritten query.
                let asked = query.refresh();
                applied.restore(query);
                let chain = next.chain();
                let rules = self.rules.clone();
                Flow::Upstream(Box::pin(async move {
                    let mut answer = chain.finish(&asked, pending).await;
                    Applied::finish(&rules, &applied.steps, applied.per_client, &mut answer);
                    answer
                }))
            }
        }
    }
}
