//! Table-driven DNS cases: a query, the expected rcode / flags, and the expected sections as
//! zone-file lines. Every case runs over UDP and over TCP against one server per table; all
//! mismatches of a table are collected and reported together.

use hickory_proto::op::{MessageType, OpCode, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{exchange, query, render_all, soa, start, Transport, TRANSPORTS};

/// One acceptable response.
#[derive(Clone, Debug)]
pub struct Expected {
    pub rcode: ResponseCode,
    pub answer: Vec<String>,
    pub authority: Vec<String>,
    pub additional: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub qname: String,
    pub qtype: RecordType,
    /// `Some(b)`: the AA flag must be `b`; `None`: not checked.
    pub aa: Option<bool>,
    /// The answer section must come in this order (CNAME before its target), not just as a set.
    pub ordered: bool,
    /// The response must match one of these (almost always exactly one).
    pub expected: Vec<Expected>,
    /// Why the case exists (checklist item); printed on failure.
    pub why: &'static str,
}

impl Case {
    pub fn additional<S: AsRef<str>>(&mut self, lines: &[S]) -> &mut Self {
        for e in &mut self.expected {
            e.additional = lines.iter().map(|s| s.as_ref().to_string()).collect();
        }
        self
    }

    pub fn ordered(&mut self) -> &mut Self {
        self.ordered = true;
        self
    }

    pub fn why(&mut self, why: &'static str) -> &mut Self {
        self.why = why;
        self
    }
}

/// The cases of one Corefile.
pub struct Table {
    pub name: &'static str,
    pub corefile: String,
    /// The `ttl` option of the kubernetes block (negative answers' SOA depends on it).
    pub ttl: u32,
    /// The zones the kubernetes block serves, lower-case with trailing dot (to find the SOA owner
    /// of a negative answer).
    pub zones: Vec<&'static str>,
    pub cases: Vec<Case>,
}

impl Table {
    pub fn new(name: &'static str, corefile: &str, ttl: u32, zones: &[&'static str]) -> Self {
        Table {
            name,
            corefile: corefile.to_string(),
            ttl,
            zones: zones.to_vec(),
            cases: Vec::new(),
        }
    }

    fn push(&mut self, qname: &str, qtype: RecordType, aa: Option<bool>, e: Expected) -> &mut Case {
        self.cases.push(Case {
            qname: qname.to_string(),
            qtype,
            aa,
            ordered: false,
            expected: vec![e],
            why: "",
        });
        self.cases.last_mut().unwrap()
    }

    /// The zone `qname` falls in, spelled as in `qname` (checklist C.2/C.11: the SOA owner keeps
    /// the query's spelling).
    pub fn zone_of(&self, qname: &str) -> String {
        let lower = qname.to_ascii_lowercase();
        let zone = self
            .zones
            .iter()
            .filter(|z| lower == **z || lower.ends_with(&format!(".{z}")))
            .max_by_key(|z| z.len())
            .unwrap_or_else(|| panic!("test bug: {qname} is in none of {:?}", self.zones));
        qname[qname.len() - zone.len()..].to_string()
    }

    fn negative(&self, qname: &str, rcode: ResponseCode) -> Expected {
        Expected {
            rcode,
            answer: vec![],
            authority: vec![soa(&self.zone_of(qname), self.ttl)],
            additional: vec![],
        }
    }

    /// NOERROR, AA, exactly these answer records, empty authority and additional.
    pub fn ok<S: AsRef<str>>(&mut self, qname: &str, qtype: RecordType, answer: &[S]) -> &mut Case {
        let e = Expected {
            rcode: ResponseCode::NoError,
            answer: answer.iter().map(|s| s.as_ref().to_string()).collect(),
            authority: vec![],
            additional: vec![],
        };
        self.push(qname, qtype, Some(true), e)
    }

    /// NXDOMAIN, AA, no answer, the zone's SOA in authority.
    pub fn nx(&mut self, qname: &str, qtype: RecordType) -> &mut Case {
        let e = self.negative(qname, ResponseCode::NXDomain);
        self.push(qname, qtype, Some(true), e)
    }

    /// NODATA: NOERROR, AA, no answer, the zone's SOA in authority.
    pub fn nodata(&mut self, qname: &str, qtype: RecordType) -> &mut Case {
        let e = self.negative(qname, ResponseCode::NoError);
        self.push(qname, qtype, Some(true), e)
    }

    /// No record for this name: NXDOMAIN or NODATA both accepted (used only where the checklist
    /// says "produces no record" without choosing).
    pub fn no_records(&mut self, qname: &str, qtype: RecordType) -> &mut Case {
        let nx = self.negative(qname, ResponseCode::NXDomain);
        let nodata = self.negative(qname, ResponseCode::NoError);
        let c = self.push(qname, qtype, Some(true), nx);
        c.expected.push(nodata);
        c
    }

    /// REFUSED with empty sections; AA not checked.
    pub fn refused(&mut self, qname: &str, qtype: RecordType) -> &mut Case {
        let e = Expected {
            rcode: ResponseCode::Refused,
            answer: vec![],
            authority: vec![],
            additional: vec![],
        };
        self.push(qname, qtype, None, e)
    }

    /// Starts a server for this table, runs every case over UDP and TCP and panics with the
    /// list of all mismatches.
    pub fn run(&self) {
        assert!(!self.cases.is_empty(), "table {} has no cases", self.name);
        let server = start(&self.corefile);
        let mut failures = Vec::new();
        for case in &self.cases {
            for t in TRANSPORTS {
                if let Err(msg) = check(server.addr, t, case) {
                    failures.push(format!(
                        "[{}] {} {} over {t:?}{}\n{msg}",
                        self.name,
                        case.qname,
                        case.qtype,
                        if case.why.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", case.why)
                        }
                    ));
                }
            }
        }
        eprintln!(
            "table {}: {} cases, {} of {} exchanges failed",
            self.name,
            self.cases.len(),
            failures.len(),
            self.cases.len() * TRANSPORTS.len()
        );
        if !failures.is_empty() {
            panic!(
                "{} of {} exchanges failed in table {}:\n\n{}",
                failures.len(),
                self.cases.len() * TRANSPORTS.len(),
                self.name,
                failures.join("\n\n")
            );
        }
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn show(lines: &[String]) -> String {
    if lines.is_empty() {
        "      (empty)".to_string()
    } else {
        lines
            .iter()
            .map(|l| format!("      {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Runs one case over one transport.
pub fn check(addr: std::net::SocketAddr, t: Transport, case: &Case) -> Result<(), String> {
    // Queries advertise EDNS 1232 as dig does, so the answers here are never truncated.
    let q = query(&case.qname, case.qtype, Some(1232));
    let r = exchange(addr, t, &q)?;
    let mut problems = Vec::new();
    if r.metadata.id != q.metadata.id {
        problems.push(format!(
            "id {} != query id {}",
            r.metadata.id, q.metadata.id
        ));
    }
    if r.metadata.message_type != MessageType::Response {
        problems.push("QR not set".to_string());
    }
    if r.metadata.op_code != OpCode::Query {
        problems.push(format!("opcode {:?}", r.metadata.op_code));
    }
    match r.queries.as_slice() {
        [rq] if rq.name().eq_case(q.queries[0].name()) && rq.query_type() == case.qtype => {}
        other => problems.push(format!(
            "question not echoed: {:?}",
            other
                .iter()
                .map(|q| format!("{} {}", q.name(), q.query_type()))
                .collect::<Vec<_>>()
        )),
    }
    if let Some(aa) = case.aa {
        if r.metadata.authoritative != aa {
            problems.push(format!("AA is {}, expected {aa}", r.metadata.authoritative));
        }
    }
    if r.metadata.truncation {
        problems.push("TC set on an answer that fits".to_string());
    }
    if r.metadata.recursion_available {
        problems.push("RA set (Cairn does not offer recursion)".to_string());
    }

    let answer = render_all(&r.answers);
    let authority = sorted(render_all(&r.authorities));
    let additional = sorted(render_all(&r.additionals));
    let matches = |e: &Expected| {
        let answer_ok = if case.ordered {
            answer == e.answer
        } else {
            sorted(answer.clone()) == sorted(e.answer.clone())
        };
        r.metadata.response_code == e.rcode
            && answer_ok
            && authority == sorted(e.authority.clone())
            && additional == sorted(e.additional.clone())
    };
    if !case.expected.iter().any(matches) {
        let mut s = String::new();
        for (i, e) in case.expected.iter().enumerate() {
            if i > 0 {
                s.push_str("  --- or ---\n");
            }
            s.push_str(&format!(
                "  expected {:?}{}\n    answer:\n{}\n    authority:\n{}\n    additional:\n{}\n",
                e.rcode,
                if case.ordered {
                    " (answer in order)"
                } else {
                    ""
                },
                show(&e.answer),
                show(&sorted(e.authority.clone())),
                show(&sorted(e.additional.clone())),
            ));
        }
        s.push_str(&format!(
            "  got {:?}\n    answer:\n{}\n    authority:\n{}\n    additional:\n{}",
            r.metadata.response_code,
            show(&answer),
            show(&authority),
            show(&additional),
        ));
        problems.push(s);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
