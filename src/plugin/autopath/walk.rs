//! Walking a search path: each name asked of the plugins after `autopath` in turn (here while
//! their answers come at once, then on the I/O runtime from the first that needs the
//! upstream), the first answer found sent as a CNAME from the name the client asked (CoreDNS's
//! `cname.go`), the first try's answer when nothing is found.

use hickory_proto::op::{Query as Question, ResponseCode};
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record};
use prometheus_client::metrics::counter::Counter;

use crate::plugin::chain::{Pending, Resolved, Rest};
use crate::plugin::{Answer, Flow, Next, Query, Reusable};

/// A first search try of a client `autopath` does not complete for: the plugins after it
/// answer, and an answer that is not found must not be reused for the same bytes from a pod
/// it would complete for.
pub fn plain(query: &mut Query, next: &Next<'_>) -> Flow {
    match next.resolve(query) {
        Resolved::Done(mut answer) => {
            if misses(&answer) {
                answer.limit_reuse(Reusable::Never);
            }
            Flow::Answer(answer)
        }
        Resolved::Pending(pending) => {
            let asked = query.refresh();
            let rest = next.rest();
            Flow::Upstream(Box::pin(async move { rest.finish(&asked, pending).await }))
        }
    }
}

/// One query's walk.
pub struct Walk {
    /// The client's question, as asked.
    question: Question,
    /// The names to try, the query's own first.
    tries: Vec<Name>,
    /// The first try's answer, sent when nothing is found.
    first: Option<Answer>,
    success: Counter,
}

impl Walk {
    pub fn new(query: &Query, tries: Vec<Name>, success: Counter) -> Walk {
        Walk {
            question: query.request.query().clone(),
            tries,
            first: None,
            success,
        }
    }

    /// Tries the names while the answers come at once; hands the rest of the walk to the
    /// runtime at the first that needs the upstream.
    pub fn run(mut self, query: &mut Query, next: &Next<'_>) -> Flow {
        for i in 0..self.tries.len() {
            ask_for(query, &self.tries[i]);
            match next.resolve(query) {
                Resolved::Done(answer) => {
                    if let Some(done) = self.take(i, answer) {
                        self.restore(query);
                        return Flow::Answer(done);
                    }
                }
                Resolved::Pending(pending) => {
                    let asked = query.refresh();
                    self.restore(query);
                    let rest = next.rest();
                    return Flow::Upstream(Box::pin(self.resume(rest, asked, i, pending)));
                }
            }
        }
        self.restore(query);
        Flow::Answer(self.nothing_found())
    }

    /// The walk from try `i`, whose answer `pending` awaits.
    async fn resume(mut self, rest: Rest, mut asked: Query, i: usize, pending: Pending) -> Answer {
        let answer = rest.finish(&asked, pending).await;
        if let Some(done) = self.take(i, answer) {
            return done;
        }
        for j in i + 1..self.tries.len() {
            ask_for(&mut asked, &self.tries[j]);
            let answer = rest.answer(&mut asked).await;
            if let Some(done) = self.take(j, answer) {
                return done;
            }
        }
        self.nothing_found()
    }

    /// What try `i`'s answer ends the walk with, if it does.
    fn take(&mut self, i: usize, mut answer: Answer) -> Option<Answer> {
        if answer.error.is_some() {
            // A plugin failed (the upstream): CoreDNS stops there and returns the failure.
            answer.limit_reuse(Reusable::Never);
            return Some(answer);
        }
        if misses(&answer) {
            if i == 0 {
                self.first = Some(answer);
            }
            return None;
        }
        self.success.inc();
        if i > 0 {
            cname(&mut answer, self.question.name());
            // Found for this client's search path: another client may get another answer.
            answer.limit_reuse(Reusable::Never);
        }
        Some(answer)
    }

    /// The first try's answer, as the client would have had it without `autopath`.
    fn nothing_found(self) -> Answer {
        let mut answer = self.first.unwrap_or_else(|| Answer::rcode(ResponseCode::NXDomain));
        answer.limit_reuse(Reusable::Never);
        answer
    }

    /// Puts the client's question back.
    fn restore(&self, query: &mut Query) {
        query.request.message.queries[0] = self.question.clone();
    }
}

/// Sets the question's name to `name`.
fn ask_for(query: &mut Query, name: &Name) {
    query.request.message.queries[0].name = name.clone();
}

/// Whether the walk goes on past this answer: NXDOMAIN, or an rcode CoreDNS's plugins do not
/// write to the client themselves (`plugin.ClientWrite`).
fn misses(answer: &Answer) -> bool {
    matches!(
        answer.sections.rcode,
        ResponseCode::NXDomain
            | ResponseCode::ServFail
            | ResponseCode::Refused
            | ResponseCode::FormErr
            | ResponseCode::NotImp
    )
}

/// CoreDNS's `cnamer`: a CNAME from `asked` to the owner of the first answer record that has
/// another name, with that record's TTL, put first.
fn cname(answer: &mut Answer, asked: &Name) {
    let records = &mut answer.sections.answers;
    let Some(found) = records.iter().find(|r| &r.name != asked) else {
        return;
    };
    let link = Record::from_rdata(
        asked.clone(),
        found.ttl,
        RData::CNAME(CNAME(found.name.clone())),
    );
    records.insert(0, link);
}
