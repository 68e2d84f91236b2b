//! What kind of answer a response is, and how many seconds its records ask to be kept.
//!
//! Pure functions of the message: no clock, no configuration. The classes follow CoreDNS's
//! `response.Typify`; the TTL follows `dnsutil.MinimalTTL`, except that a denial's SOA counts
//! with `min(TTL, MINIMUM)` as RFC 2308 section 5 asks.

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType};

/// Seconds used when a cacheable response has no record to take a TTL from (CoreDNS's
/// `MinimalDefaultTTL`).
pub(crate) const FALLBACK_TTL: u32 = 5;

/// Seconds a SERVFAIL or NOTIMP is kept (CoreDNS's `servfail` default; not clamped).
pub(crate) const SERVFAIL_TTL: u32 = 5;

/// The cacheable kinds of response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// NOERROR with answers.
    Answer,
    /// NOERROR, no answers, NS records and no SOA in the authority section.
    Referral,
    /// NXDOMAIN with an SOA in the authority section.
    NxDomain,
    /// NOERROR and no answers (with an SOA, or with nothing at all).
    NoData,
    /// SERVFAIL or NOTIMP: kept for [`SERVFAIL_TTL`] only.
    ServerError,
}

impl Kind {
    /// True for the `denial` class (which also holds server errors, as in CoreDNS).
    pub(crate) fn is_denial(self) -> bool {
        !matches!(self, Kind::Answer | Kind::Referral)
    }
}

/// The kind of `m`, or `None` when it must not be cached: truncated, not a QUERY, a zone
/// transfer, NXDOMAIN without SOA (RFC 2308 section 5), or any other error code.
pub(crate) fn classify(m: &Message) -> Option<Kind> {
    if m.metadata.truncation || m.metadata.op_code != OpCode::Query {
        return None;
    }
    if m.queries
        .first()
        .is_some_and(|q| matches!(q.query_type, RecordType::AXFR | RecordType::IXFR))
    {
        return None;
    }
    let has = |t: RecordType| m.authorities.iter().any(|r| r.record_type() == t);
    let soa = has(RecordType::SOA);
    match m.metadata.response_code {
        ResponseCode::NoError if !m.answers.is_empty() => Some(Kind::Answer),
        ResponseCode::NoError if !soa && has(RecordType::NS) => Some(Kind::Referral),
        ResponseCode::NoError => Some(Kind::NoData),
        ResponseCode::NXDomain if soa => Some(Kind::NxDomain),
        ResponseCode::ServFail | ResponseCode::NotImp => Some(Kind::ServerError),
        _ => None,
    }
}

/// The smallest TTL over every record of every section (OPT excluded), before clamping; for a
/// denial an SOA counts as `min(TTL, MINIMUM)`. `None` when there is no record.
pub(crate) fn record_ttl(m: &Message, denial: bool) -> Option<u32> {
    m.answers
        .iter()
        .chain(&m.authorities)
        .chain(&m.additionals)
        .filter(|r| r.record_type() != RecordType::OPT)
        .map(|r| ttl_of(r, denial))
        .min()
}

fn ttl_of(r: &Record, denial: bool) -> u32 {
    match &r.data {
        RData::SOA(soa) if denial => r.ttl.min(soa.minimum),
        _ => r.ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::rdata::{A, NS, SOA};
    use hickory_proto::rr::Name;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn a(ttl: u32) -> Record {
        Record::from_rdata(name("a.example.org."), ttl, RData::A(A::new(10, 0, 0, 1)))
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        let data = SOA::new(name("ns."), name("h."), 1, 2, 3, 4, minimum);
        Record::from_rdata(name("example.org."), ttl, RData::SOA(data))
    }

    fn ns(ttl: u32) -> Record {
        Record::from_rdata(name("example.org."), ttl, RData::NS(NS(name("ns."))))
    }

    fn msg(rcode: ResponseCode, answers: Vec<Record>, auth: Vec<Record>) -> Message {
        let mut m = Message::response(1, OpCode::Query);
        m.metadata.response_code = rcode;
        m.add_query(Query::query(name("a.example.org."), RecordType::A));
        m.answers = answers;
        m.authorities = auth;
        m
    }

    #[test]
    fn kinds() {
        use ResponseCode::*;
        let cases: Vec<(&str, Message, Option<Kind>)> = vec![
            (
                "answer",
                msg(NoError, vec![a(60)], vec![]),
                Some(Kind::Answer),
            ),
            (
                "referral",
                msg(NoError, vec![], vec![ns(60)]),
                Some(Kind::Referral),
            ),
            (
                "nodata+soa",
                msg(NoError, vec![], vec![soa(60, 5)]),
                Some(Kind::NoData),
            ),
            (
                "nodata+soa+ns",
                msg(NoError, vec![], vec![soa(60, 5), ns(9)]),
                Some(Kind::NoData),
            ),
            (
                "empty noerror",
                msg(NoError, vec![], vec![]),
                Some(Kind::NoData),
            ),
            (
                "nxdomain+soa",
                msg(NXDomain, vec![], vec![soa(60, 5)]),
                Some(Kind::NxDomain),
            ),
            ("nxdomain bare", msg(NXDomain, vec![], vec![]), None),
            (
                "servfail",
                msg(ServFail, vec![], vec![]),
                Some(Kind::ServerError),
            ),
            (
                "notimp",
                msg(NotImp, vec![], vec![]),
                Some(Kind::ServerError),
            ),
            ("refused", msg(Refused, vec![], vec![]), None),
            ("formerr", msg(FormErr, vec![], vec![]), None),
        ];
        for (what, m, want) in cases {
            assert_eq!(classify(&m), want, "{what}");
        }
    }

    #[test]
    fn not_cacheable() {
        let mut tc = msg(ResponseCode::NoError, vec![a(60)], vec![]);
        tc.metadata.truncation = true;
        assert_eq!(classify(&tc), None, "TC");

        let mut update = msg(ResponseCode::NoError, vec![a(60)], vec![]);
        update.metadata.op_code = OpCode::Update;
        assert_eq!(classify(&update), None, "UPDATE");

        let mut axfr = msg(ResponseCode::NoError, vec![a(60)], vec![]);
        axfr.queries[0].query_type = RecordType::AXFR;
        assert_eq!(classify(&axfr), None, "AXFR");
    }

    #[test]
    fn ttls() {
        let m = msg(ResponseCode::NoError, vec![a(300), a(60)], vec![ns(30)]);
        assert_eq!(
            record_ttl(&m, false),
            Some(30),
            "min over answer and authority"
        );
        let mut extra = msg(ResponseCode::NoError, vec![a(300)], vec![]);
        extra.additionals.push(a(7));
        assert_eq!(record_ttl(&extra, false), Some(7), "additional counts");

        let neg = msg(ResponseCode::NXDomain, vec![], vec![soa(3600, 60)]);
        assert_eq!(record_ttl(&neg, true), Some(60), "SOA MINIMUM below TTL");
        let neg = msg(ResponseCode::NXDomain, vec![], vec![soa(30, 300)]);
        assert_eq!(record_ttl(&neg, true), Some(30), "SOA TTL below MINIMUM");
        assert_eq!(record_ttl(&neg, false), Some(30), "success ignores MINIMUM");

        let empty = msg(ResponseCode::NoError, vec![], vec![]);
        assert_eq!(record_ttl(&empty, true), None);
    }
}
