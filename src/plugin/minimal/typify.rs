//! What kind of response an answer is, as CoreDNS's `response.Typify` tells them apart (the
//! part `minimal` needs: is it a plain success). Pure: the query, the answer and a clock
//! reading in, a [`Type`] out.
//!
//! CoreDNS also types UPDATE and NOTIFY messages; Cairn answers those NOTIMP before any plugin,
//! so they never reach here.

use std::time::{SystemTime, UNIX_EPOCH};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, Record, RecordType};

use crate::dns::response::Sections;
use crate::plugin::Query;

/// The kinds of response (CoreDNS's names), as far as `minimal` tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// A positive answer: NOERROR with records, or NOERROR with neither SOA nor NS in authority.
    NoError,
    /// NXDOMAIN.
    NameError,
    /// SERVFAIL or NOTIMP.
    ServerError,
    /// NOERROR, no answers, an SOA in authority.
    NoData,
    /// NOERROR, no answers, NS records and no SOA in authority.
    Delegation,
    /// A zone transfer (AXFR, IXFR).
    Meta,
    /// Anything else: another rcode, NXDOMAIN with answers, an expired signature asked for.
    OtherError,
}

/// The type of `answer` to `query`, at `now` (for signatures' validity).
pub fn typify(query: &Query, answer: &Sections, now: SystemTime) -> Type {
    if matches!(query.qtype(), RecordType::AXFR | RecordType::IXFR) {
        return Type::Meta;
    }
    let dnssec_ok = query
        .request
        .edns()
        .is_some_and(|e| e.flags().dnssec_ok);
    if dnssec_ok && has_expired_signature(answer, now) {
        return Type::OtherError;
    }
    let rcode = answer.rcode;
    if !answer.answers.is_empty() {
        return match rcode {
            ResponseCode::NoError => Type::NoError,
            _ => Type::OtherError,
        };
    }
    let has = |t| answer.authorities.iter().any(|r| r.record_type() == t);
    match rcode {
        ResponseCode::NoError if has(RecordType::SOA) => Type::NoData,
        ResponseCode::NXDomain => Type::NameError,
        ResponseCode::ServFail | ResponseCode::NotImp => Type::ServerError,
        ResponseCode::NoError if has(RecordType::NS) => Type::Delegation,
        ResponseCode::NoError => Type::NoError,
        _ => Type::OtherError,
    }
}

/// Whether any RRSIG of the answer is outside its validity period at `now`.
fn has_expired_signature(answer: &Sections, now: SystemTime) -> bool {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    answer
        .answers
        .iter()
        .chain(&answer.authorities)
        .chain(&answer.additionals)
        .filter_map(validity)
        .any(|(inception, expiration)| !valid_at(inception, expiration, now))
}

/// An RRSIG's (inception, expiration), read from its RDATA: type covered (2 bytes), algorithm
/// (1), labels (1), original TTL (4), expiration (4), inception (4), ... (RFC 4034 3.1).
fn validity(r: &Record) -> Option<(u32, u32)> {
    let RData::Unknown { code, rdata } = &r.data else {
        return None;
    };
    if *code != RecordType::RRSIG {
        return None;
    }
    let field = |at: usize| {
        let bytes = rdata.anything.get(at..at + 4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    };
    Some((field(12)?, field(8)?))
}

/// Whether `now` (Unix seconds) is within a signature's validity period, its 32-bit times
/// taken modulo 2^32 (RFC 4034 3.1.5), computed as miekg/dns's `ValidityPeriod` does.
pub(super) fn valid_at(inception: u32, expiration: u32, now: i64) -> bool {
    const YEAR68: i64 = 1 << 31;
    let near = |t: u32| {
        let t = i64::from(t);
        t + (t - now) / YEAR68 * YEAR68
    };
    near(inception) <= now && now <= near(expiration)
}
