//! Small answer transforms and logs of the handler chain: `loadbalance` (shuffle address
//! records, CNAMEs first), `log` (CoreDNS's query log line) and `errors` (one line per failed
//! answer).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Record, RecordType};

use crate::config::model::LogConfig;
use crate::dns::request::Request;

/// `loadbalance`: address records in random order, after everything else (so a CNAME still
/// precedes its target's addresses), as CoreDNS's round_robin policy does.
pub fn shuffle_addresses(answers: &mut Vec<Record>) {
    let is_address = |r: &Record| matches!(r.record_type(), RecordType::A | RecordType::AAAA);
    if answers.iter().filter(|r| is_address(r)).count() < 2 {
        return;
    }
    let (mut addresses, others): (Vec<Record>, Vec<Record>) =
        answers.drain(..).partition(is_address);
    fastrand::shuffle(&mut addresses);
    answers.extend(others);
    answers.extend(addresses);
}

/// Whether `log` records a query answered with `rcode` (`class` filters: all, success, denial,
/// error), and for which names.
pub fn log_wanted(config: &LogConfig, request: &Request, rcode: ResponseCode) -> bool {
    let qname = request.query().name();
    let name_ok = config.names.is_empty()
        || config
            .names
            .iter()
            .any(|n| hickory_proto::rr::Name::from_ascii(n).is_ok_and(|zone| zone.zone_of(qname)));
    let class_ok = config.classes.is_empty()
        || config.classes.iter().any(|c| match c.as_str() {
            "all" => true,
            "success" => rcode == ResponseCode::NoError,
            "denial" => rcode == ResponseCode::NXDomain,
            "error" => !matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain),
            _ => false,
        });
    name_ok && class_ok
}

/// CoreDNS's common log format:
/// `CLIENT - ID "TYPE CLASS NAME PROTO SIZE DO BUFSIZE" RCODE FLAGS RSIZE DURATION`.
pub fn log_line(
    client: SocketAddr,
    request: &Request,
    tcp: bool,
    request_size: usize,
    rcode: ResponseCode,
    response: &[u8],
    duration: Duration,
) -> String {
    let q = request.query();
    let edns = request.edns();
    let flags = response_flags(response);
    format!(
        "{client} - {} \"{} {} {} {} {request_size} {} {}\" {} {flags} {} {:.9}s",
        request.message.metadata.id,
        q.query_type(),
        q.query_class(),
        q.name(),
        if tcp { "tcp" } else { "udp" },
        edns.is_some_and(|e| e.flags().dnssec_ok),
        edns.map_or(512, |e| e.max_payload()),
        rcode.to_str(),
        response.len(),
        duration.as_secs_f64()
    )
}

/// The header flags of an encoded response as dig and CoreDNS print them (`qr,aa,rd,ra`).
fn response_flags(response: &[u8]) -> String {
    let (Some(&hi), Some(&lo)) = (response.get(2), response.get(3)) else {
        return String::new();
    };
    let names = [
        (hi & 0x80 != 0, "qr"),
        (hi & 0x04 != 0, "aa"),
        (hi & 0x02 != 0, "tc"),
        (hi & 0x01 != 0, "rd"),
        (lo & 0x80 != 0, "ra"),
        (lo & 0x20 != 0, "ad"),
        (lo & 0x10 != 0, "cd"),
    ];
    names
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, CNAME};
    use hickory_proto::rr::{Name, RData};

    #[test]
    fn loadbalance_keeps_cnames_first_and_every_address() {
        let name = Name::from_ascii("x.example.").unwrap();
        let mut answers = vec![Record::from_rdata(
            name.clone(),
            5,
            RData::CNAME(CNAME(Name::from_ascii("y.example.").unwrap())),
        )];
        for i in 1..=8 {
            answers.push(Record::from_rdata(
                name.clone(),
                5,
                RData::A(A::new(10, 0, 0, i)),
            ));
        }
        let mut orders = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut shuffled = answers.clone();
            shuffle_addresses(&mut shuffled);
            assert_eq!(shuffled[0].record_type(), RecordType::CNAME);
            let mut sorted: Vec<String> =
                shuffled[1..].iter().map(|r| r.data.to_string()).collect();
            orders.insert(sorted.join(","));
            sorted.sort();
            assert_eq!(sorted.len(), 8);
        }
        assert!(orders.len() > 1, "the order changes between answers");
    }
}
