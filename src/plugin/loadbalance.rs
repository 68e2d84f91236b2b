//! The `loadbalance` plugin: `loadbalance [round_robin]` — address records of an answer in
//! random order on the way out, after everything else (so a CNAME still precedes its target's
//! addresses), as CoreDNS's round_robin policy does. Doc page: `README.md` in its folder.

use std::sync::Arc;

use hickory_proto::rr::{Record, RecordType};

use crate::corefile::args::{count, err, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::{Answer, BlockContext, BuildEnv, Configure, Kind, Plugin, Query, Reusable};

/// `loadbalance [round_robin]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadbalanceConfig;

impl Configure for LoadbalanceConfig {
    const NAME: &'static str = "loadbalance";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 0, 1, "loadbalance [round_robin]")?;
        match d.args.first().map(|a| a.text.as_str()) {
            None | Some("round_robin") => Ok(LoadbalanceConfig),
            Some("weighted") => Err(err(d, "loadbalance policy `weighted` is not supported yet")),
            Some(other) => Err(err(
                d,
                format!("unknown loadbalance policy `{other}`: expected `round_robin`"),
            )),
        }
    }

    fn build(&self, _env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        Ok(Some(Arc::new(Loadbalance)))
    }
}

struct Loadbalance;

impl Plugin for Loadbalance {
    fn kind(&self) -> Kind {
        Kind::Loadbalance
    }

    fn respond(&self, query: &Query, answer: &mut Answer) {
        // A zone transfer's records keep their order (SOA first and last), as CoreDNS's.
        if matches!(query.qtype(), RecordType::AXFR | RecordType::IXFR) {
            return;
        }
        if answer.sections.answers.len() > 1 {
            shuffle_addresses(&mut answer.sections.answers);
            // Each answer is shuffled anew: an encoded copy would repeat one order.
            answer.limit_reuse(Reusable::Never);
        }
    }
}

/// Address records in random order, after everything else.
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
