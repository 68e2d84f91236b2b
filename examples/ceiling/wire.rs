//! The one answer the ceiling gives: the query's header and question sent back with QR and AA
//! set and one A record whose owner is the question name, by compression pointer `0xC00C`.
//! Pure: no sockets, no allocation, no lookup — the least work a UDP DNS server can do per
//! query. It does not look at the question's type: every query gets the same A record.

/// Length of the DNS header.
pub const HEADER: usize = 12;

/// Bytes the answer record adds after the question: owner pointer (2), type (2), class (2),
/// TTL (4), RDLENGTH (2), address (4).
pub const ANSWER_RR: usize = 16;

/// The fixed record every query is answered with.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub address: [u8; 4],
    pub ttl: u32,
}

/// Writes the response to `query` into `out` and returns its length; `None` (the query is
/// dropped) when `query` is shorter than a header, is itself a response, has other than one
/// question, has a compressed or truncated question name, or the response does not fit `out`.
///
/// Flags: QR and AA set; the opcode and RD copied; TC, RA, Z, AD, CD and the rcode clear.
/// Counts: one question, one answer, no authority, no additional (an EDNS OPT is not echoed).
pub fn respond(query: &[u8], answer: &Answer, out: &mut [u8]) -> Option<usize> {
    if query.len() < HEADER || query[2] & 0x80 != 0 || query[4..6] != [0, 1] {
        return None;
    }
    let mut pos = HEADER;
    loop {
        let len = usize::from(*query.get(pos)?);
        pos += 1;
        if len == 0 {
            break;
        }
        if len & 0xC0 != 0 {
            return None; // a pointer or an extended label type: not in a plain query
        }
        pos += len;
    }
    let question_end = pos + 4; // QTYPE, QCLASS
    if question_end > query.len() {
        return None;
    }
    let out = out.get_mut(..question_end + ANSWER_RR)?;
    out[..question_end].copy_from_slice(&query[..question_end]);
    out[2] = 0x80 | (query[2] & 0x79) | 0x04;
    out[3] = 0;
    out[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
    let record = &mut out[question_end..];
    record[..6].copy_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1]);
    record[6..10].copy_from_slice(&answer.ttl.to_be_bytes());
    record[10..12].copy_from_slice(&[0, 4]);
    record[12..16].copy_from_slice(&answer.address);
    Some(question_end + ANSWER_RR)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: Answer = Answer {
        address: [10, 0, 0, 1],
        ttl: 5,
    };

    /// `a.svc.` AAAA with ID 0x1234, RD set, and an EDNS OPT record in the additional section.
    fn query() -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
        q.extend_from_slice(&[1, b'a', 3, b's', b'v', b'c', 0, 0, 28, 0, 1]);
        q.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
        q
    }

    #[test]
    fn answers_with_the_question_and_one_record() {
        let mut out = [0u8; 512];
        let len = respond(&query(), &ANSWER, &mut out).unwrap();
        let mut want = vec![0x12, 0x34, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
        want.extend_from_slice(&[1, b'a', 3, b's', b'v', b'c', 0, 0, 28, 0, 1]);
        want.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1]);
        assert_eq!(&out[..len], &want[..]);
    }

    #[test]
    fn decodes_as_a_dns_response() {
        use hickory_proto::op::{Message, MessageType};
        use hickory_proto::rr::RData;
        let mut out = [0u8; 512];
        let len = respond(&query(), &ANSWER, &mut out).unwrap();
        let m = Message::from_vec(&out[..len]).unwrap();
        assert_eq!(m.metadata.id, 0x1234);
        assert_eq!(m.metadata.message_type, MessageType::Response);
        assert!(m.metadata.authoritative && m.metadata.recursion_desired);
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].name.to_ascii(), "a.svc.");
        assert!(
            matches!(&m.answers[0].data, RData::A(a) if a.0 == std::net::Ipv4Addr::new(10, 0, 0, 1))
        );
    }

    #[test]
    fn drops_what_is_not_one_plain_question() {
        let mut out = [0u8; 512];
        let q = query();
        let mut response = q.clone();
        response[2] |= 0x80;
        let mut two = q.clone();
        two[5] = 2;
        let mut pointer = q.clone();
        pointer[12] = 0xC0;
        let cases: [&[u8]; 5] = [&q[..11], &response, &two, &pointer, &q[..20]];
        for case in cases {
            assert_eq!(respond(case, &ANSWER, &mut out), None, "{case:?}");
        }
        assert_eq!(respond(&q, &ANSWER, &mut out[..30]), None, "does not fit");
    }
}
