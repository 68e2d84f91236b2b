//! Label sets and label values exactly as CoreDNS spells them.

use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use prometheus_client::encoding::EncodeLabelSet;

/// A shared label value: cloning a label set on the slow path never copies strings.
pub type Value = Arc<str>;

/// Query types CoreDNS's `vars.monitorType` keeps; everything else is `other`.
pub const QTYPES: [(u16, &str); 18] = [
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (12, "PTR"),
    (15, "MX"),
    (16, "TXT"),
    (28, "AAAA"),
    (33, "SRV"),
    (43, "DS"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (65, "HTTPS"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "ANY"),
];
/// Number of `type` label values, `other` included.
pub const N_QTYPES: usize = QTYPES.len() + 1;

/// Index of the `type` label value for `qtype` (the last index is `other`).
pub fn qtype_index(qtype: RecordType) -> usize {
    let code = u16::from(qtype);
    QTYPES
        .iter()
        .position(|&(c, _)| c == code)
        .unwrap_or(QTYPES.len())
}

pub fn qtype_name(index: usize) -> &'static str {
    QTYPES.get(index).map_or("other", |&(_, name)| name)
}

/// miekg/dns `RcodeToString` for 0..=23 (16 is `BADSIG`, as in Go); others are the decimal code.
const RCODES: [&str; 24] = [
    "NOERROR",
    "FORMERR",
    "SERVFAIL",
    "NXDOMAIN",
    "NOTIMP",
    "REFUSED",
    "YXDOMAIN",
    "YXRRSET",
    "NXRRSET",
    "NOTAUTH",
    "NOTZONE",
    "11",
    "12",
    "13",
    "14",
    "15",
    "BADSIG",
    "BADKEY",
    "BADTIME",
    "BADMODE",
    "BADNAME",
    "BADALG",
    "BADTRUNC",
    "BADCOOKIE",
];
/// Rcodes with a pre-resolved slot.
pub const N_RCODES: usize = RCODES.len();

/// The numeric rcode and, when it has a slot, its index.
pub fn rcode_index(rcode: ResponseCode) -> (u16, Option<usize>) {
    let code = u16::from(rcode);
    let index = usize::from(code);
    (code, (index < N_RCODES).then_some(index))
}

pub fn rcode_name(code: u16) -> Value {
    match RCODES.get(usize::from(code)) {
        Some(name) => (*name).into(),
        None => code.to_string().into(),
    }
}

pub fn proto_name(udp: bool) -> &'static str {
    if udp {
        "udp"
    } else {
        "tcp"
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Requests {
    pub server: Value,
    pub zone: Value,
    pub view: Value,
    pub proto: &'static str,
    pub family: &'static str,
    pub r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Responses {
    pub server: Value,
    pub zone: Value,
    pub view: Value,
    pub rcode: Value,
    pub plugin: Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Duration {
    pub server: Value,
    pub zone: Value,
    pub view: Value,
    pub r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Size {
    pub server: Value,
    pub zone: Value,
    pub view: Value,
    pub proto: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildInfo {
    pub version: &'static str,
    pub revision: &'static str,
    pub goversion: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginEnabled {
    pub server: Value,
    pub zone: Value,
    pub view: Value,
    pub name: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommon_types_fold_into_other() {
        let cases = [
            (RecordType::A, "A"),
            (RecordType::AAAA, "AAAA"),
            (RecordType::SRV, "SRV"),
            (RecordType::HTTPS, "HTTPS"),
            (RecordType::ANY, "ANY"),
            (RecordType::CAA, "other"),
            (RecordType::SVCB, "other"),
            (RecordType::NAPTR, "other"),
        ];
        for (t, name) in cases {
            assert_eq!(qtype_name(qtype_index(t)), name, "{t:?}");
        }
    }

    #[test]
    fn rcodes_are_named_like_miekg_dns() {
        assert_eq!(&*rcode_name(0), "NOERROR");
        assert_eq!(&*rcode_name(3), "NXDOMAIN");
        assert_eq!(&*rcode_name(16), "BADSIG");
        assert_eq!(&*rcode_name(4000), "4000");
        assert_eq!(rcode_index(ResponseCode::ServFail), (2, Some(2)));
    }
}
