//! Asking the cluster DNS server one name, as a stub resolver does: an A query over UDP, sent
//! again once if nothing came back by half the timeout, then over TCP if the answer is
//! truncated. The outcome tells a timeout, a refusal (ICMP port unreachable: nothing listens),
//! SERVFAIL, NXDOMAIN and an empty answer apart. Responses that do not match the query (ID,
//! question) are ignored.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

/// What a query found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsOutcome {
    /// NOERROR with at least one answer.
    Ok,
    /// NOERROR without answers.
    NoData,
    Nxdomain,
    Servfail,
    /// Another rcode (REFUSED, NOTIMP, FORMERR, ...).
    OtherRcode,
    /// No answer within the timeout.
    Timeout,
    /// ICMP port unreachable or a refused TCP connection: nothing listens there.
    Refused,
    Error,
}

/// One name, asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DnsCheck {
    pub name: String,
    pub outcome: DnsOutcome,
    /// The response code, when an answer came (`NOERROR`, `SERVFAIL`, ...).
    pub rcode: Option<String>,
    /// The answer records' data (`10.96.0.1`; other types as `TYPE data`).
    pub answers: Vec<String>,
    /// `udp` or `tcp`: how the answer came.
    pub transport: Option<String>,
    pub error: Option<String>,
    pub latency_ms: f64,
}

impl DnsCheck {
    pub fn ok(&self) -> bool {
        self.outcome == DnsOutcome::Ok
    }

    /// What happened, as the end of a sentence ("… answers SERVFAIL for NAME").
    pub fn phrase(&self) -> String {
        let name = self.name.trim_end_matches('.');
        match self.outcome {
            DnsOutcome::Ok => format!("answers {name} with {}", self.answers.join(", ")),
            DnsOutcome::NoData => format!("answers {name} with no address (NOERROR, empty)"),
            DnsOutcome::Nxdomain => format!("answers NXDOMAIN for {name}"),
            DnsOutcome::Servfail => format!("answers SERVFAIL for {name}"),
            DnsOutcome::OtherRcode => format!(
                "answers {} for {name}",
                self.rcode.as_deref().unwrap_or("an error")
            ),
            DnsOutcome::Timeout => format!("does not answer (timed out asking {name})"),
            DnsOutcome::Refused => "refuses the query (ICMP port unreachable)".into(),
            DnsOutcome::Error => format!(
                "cannot be asked ({})",
                self.error.as_deref().unwrap_or("unknown error")
            ),
        }
    }
}

/// The query for `name` A, with a random ID.
pub fn query(name: &Name) -> Message {
    let mut m = Message::new(fastrand::u16(..), MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(name.clone(), RecordType::A));
    m
}

/// The outcome, rcode and answers of a response.
pub fn classify(response: &Message) -> (DnsOutcome, String, Vec<String>) {
    let rcode = response.metadata.response_code;
    let answers: Vec<String> = response
        .answers
        .iter()
        .map(|r| match r.record_type() {
            RecordType::A | RecordType::AAAA => r.data.to_string(),
            t => format!("{t} {}", r.data),
        })
        .collect();
    let outcome = match rcode {
        ResponseCode::NoError if answers.is_empty() => DnsOutcome::NoData,
        ResponseCode::NoError => DnsOutcome::Ok,
        ResponseCode::NXDomain => DnsOutcome::Nxdomain,
        ResponseCode::ServFail => DnsOutcome::Servfail,
        _ => DnsOutcome::OtherRcode,
    };
    (outcome, mnemonic(rcode), answers)
}

/// The rcode as dig prints it (`NOERROR`, `SERVFAIL`, `NXDOMAIN`, ...).
pub fn mnemonic(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::Unknown(n) => format!("RCODE{n}"),
        known => format!("{known:?}").to_ascii_uppercase(),
    }
}

/// `response` answers `sent` (same ID, a response, the same question).
fn matches(response: &Message, sent: &Message) -> bool {
    response.metadata.id == sent.metadata.id
        && response.metadata.message_type == MessageType::Response
        && (response.queries.is_empty() || response.queries == sent.queries)
}

/// Asks `server` for `name` A within `timeout` (plus a TCP retry of at most `timeout` when the
/// UDP answer is truncated).
pub async fn check(server: SocketAddr, name: &str, timeout: Duration) -> DnsCheck {
    let started = Instant::now();
    let mut result = DnsCheck {
        name: name.to_string(),
        outcome: DnsOutcome::Error,
        rcode: None,
        answers: Vec::new(),
        transport: None,
        error: None,
        latency_ms: 0.0,
    };
    let exchanged = match Name::from_ascii(name) {
        Ok(n) => exchange(server, &query(&n), timeout).await,
        Err(e) => Err((
            DnsOutcome::Error,
            format!("`{name}` is not a DNS name: {e}"),
        )),
    };
    match exchanged {
        Ok((response, transport)) => {
            let (outcome, rcode, answers) = classify(&response);
            result.outcome = outcome;
            result.rcode = Some(rcode);
            result.answers = answers;
            result.transport = Some(transport.to_string());
        }
        Err((outcome, error)) => {
            result.outcome = outcome;
            result.error = Some(error);
        }
    }
    result.latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    result
}

type Failure = (DnsOutcome, String);

async fn exchange(
    server: SocketAddr,
    query: &Message,
    timeout: Duration,
) -> Result<(Message, &'static str), Failure> {
    let wire = query
        .to_vec()
        .map_err(|e| (DnsOutcome::Error, format!("cannot encode the query: {e}")))?;
    let response = udp(server, query, &wire, timeout).await?;
    if !response.metadata.truncation {
        return Ok((response, "udp"));
    }
    tcp(server, query, &wire, timeout).await.map(|m| (m, "tcp"))
}

fn io_failure(what: &str, server: SocketAddr, e: std::io::Error) -> Failure {
    let outcome = if e.kind() == std::io::ErrorKind::ConnectionRefused {
        DnsOutcome::Refused
    } else {
        DnsOutcome::Error
    };
    (outcome, format!("{what} {server}: {e}"))
}

async fn udp(
    server: SocketAddr,
    query: &Message,
    wire: &[u8],
    timeout: Duration,
) -> Result<Message, Failure> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| io_failure("UDP socket for", server, e))?;
    // Connected, so an ICMP port unreachable comes back as ConnectionRefused.
    socket
        .connect(server)
        .await
        .map_err(|e| io_failure("UDP to", server, e))?;
    let started = Instant::now();
    let deadline = started + timeout;
    let mut resend_at = Some(started + timeout / 2);
    socket
        .send(wire)
        .await
        .map_err(|e| io_failure("UDP to", server, e))?;
    let mut buf = vec![0u8; 65535];
    loop {
        match timeout_at(resend_at.unwrap_or(deadline), socket.recv(&mut buf)).await {
            Err(_) if resend_at.is_some() => {
                resend_at = None;
                socket
                    .send(wire)
                    .await
                    .map_err(|e| io_failure("UDP to", server, e))?;
            }
            Err(_) => {
                return Err((
                    DnsOutcome::Timeout,
                    format!("no answer from {server} over UDP within {timeout:?} (asked twice)"),
                ))
            }
            Ok(Err(e)) => return Err(io_failure("UDP from", server, e)),
            Ok(Ok(n)) => {
                let Some(packet) = buf.get(..n) else { continue };
                match Message::from_vec(packet) {
                    Ok(m) if matches(&m, query) => return Ok(m),
                    _ => continue,
                }
            }
        }
    }
}

async fn tcp(
    server: SocketAddr,
    query: &Message,
    wire: &[u8],
    timeout: Duration,
) -> Result<Message, Failure> {
    let deadline = Instant::now() + timeout;
    let late = || {
        (
            DnsOutcome::Timeout,
            format!("no answer from {server} over TCP within {timeout:?}"),
        )
    };
    let mut stream = timeout_at(deadline, TcpStream::connect(server))
        .await
        .map_err(|_| late())?
        .map_err(|e| io_failure("TCP to", server, e))?;
    let len = u16::try_from(wire.len())
        .map_err(|_| (DnsOutcome::Error, "the query is too long".to_string()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(wire);
    let io = |e: std::io::Error| io_failure("TCP with", server, e);
    let answer = async {
        stream.write_all(&framed).await.map_err(io)?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(io)?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await.map_err(io)?;
        Ok::<_, Failure>(buf)
    };
    let buf = timeout_at(deadline, answer).await.map_err(|_| late())??;
    match Message::from_vec(&buf) {
        Ok(m) if matches(&m, query) => Ok(m),
        Ok(_) => Err((
            DnsOutcome::Error,
            format!("{server} answered over TCP with a response to another query"),
        )),
        Err(e) => Err((
            DnsOutcome::Error,
            format!("{server} answered over TCP with a malformed message: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests;
