//! One exchange with one upstream over UDP or TCP: a fresh random ID per exchange, responses
//! that do not match the query (ID, QR, question) ignored, and a small pool of idle TCP
//! connections per upstream.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

use super::policy::random_u16;
use super::ForwardError;

/// How to reach the upstream for one query.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mode {
    /// Ask over TCP.
    pub tcp: bool,
    /// Re-ask over TCP when the UDP answer is truncated.
    pub retry_tc: bool,
    /// The UDP receive buffer (the query's EDNS payload size; raised to a safe minimum).
    pub udp_buffer: usize,
}

/// The smallest UDP receive buffer; larger when the query advertises a larger EDNS size.
const MIN_UDP_BUFFER: usize = 4096;
/// Idle TCP connections kept per upstream.
const MAX_IDLE: usize = 16;

/// `wire` (an encoded query) with `id` written into its header.
fn with_id(wire: &[u8], id: u16) -> Vec<u8> {
    let mut out = wire.to_vec();
    out[..2].copy_from_slice(&id.to_be_bytes());
    out
}

/// Why a received message is not the response to our query.
fn mismatch(response: &Message, id: u16, question: &Query) -> Option<&'static str> {
    if response.metadata.id != id {
        return Some("wrong ID");
    }
    if response.metadata.message_type != MessageType::Response {
        return Some("not a response");
    }
    match response.queries.first() {
        Some(q) => {
            let same = q.name() == question.name() // hickory compares names case-insensitively
                && q.query_type() == question.query_type()
                && q.query_class() == question.query_class();
            (!same || response.queries.len() != 1).then_some("question differs from the query")
        }
        // Some servers drop the question from error answers (FORMERR, NOTIMP); a success must echo it.
        None if response.metadata.response_code == ResponseCode::NoError => {
            Some("no question in a NOERROR answer")
        }
        None => None,
    }
}

fn io(addr: SocketAddr) -> impl Fn(std::io::Error) -> ForwardError {
    move |source| ForwardError::Io { addr, source }
}

/// Sends `wire` over UDP from a fresh socket (a random source port) and waits until `until` for
/// a matching response; anything else arriving meanwhile is ignored.
pub(super) async fn udp(
    addr: SocketAddr,
    wire: &[u8],
    question: &Query,
    receive_buffer: usize,
    until: Instant,
) -> Result<Message, ForwardError> {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io(addr))?;
    socket.connect(addr).await.map_err(io(addr))?;
    let id = random_u16();
    socket.send(&with_id(wire, id)).await.map_err(io(addr))?;
    let mut buf = vec![0u8; receive_buffer.max(MIN_UDP_BUFFER)];
    loop {
        let n = match timeout_at(until, socket.recv(&mut buf)).await {
            Err(_) => return Err(ForwardError::Timeout(addr)),
            Ok(result) => result.map_err(io(addr))?,
        };
        match Message::from_vec(&buf[..n]) {
            Ok(m) => match mismatch(&m, id, question) {
                None => return Ok(m),
                Some(why) => tracing::debug!(upstream = %addr, why, "ignoring UDP message"),
            },
            Err(e) => {
                tracing::debug!(upstream = %addr, error = %e, "ignoring undecodable UDP message")
            }
        }
    }
}

/// Idle TCP connections to one upstream, closed once idle for `expire`.
#[derive(Debug)]
pub(super) struct Pool {
    idle: Mutex<Vec<(TcpStream, Instant)>>,
    expire: Duration,
}

impl Pool {
    pub(super) fn new(expire: Duration) -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
            expire,
        }
    }

    /// The most recently used connection that has not expired.
    fn take(&self) -> Option<TcpStream> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let (conn, since) = idle.pop()?;
        if since.elapsed() < self.expire {
            return Some(conn);
        }
        idle.clear(); // the newest has expired, so have all the others
        None
    }

    fn put(&self, conn: TcpStream) {
        if self.expire.is_zero() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
    }

    /// Closes the connections idle for `expire`.
    pub(super) fn sweep(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|(_, since)| since.elapsed() < self.expire);
    }
}

/// Limits for one TCP exchange.
#[derive(Clone, Copy, Debug)]
pub(super) struct TcpLimits {
    pub connect: Duration,
    pub read: Duration,
    pub deadline: Instant,
}

/// Sends `wire` over TCP, on a pooled connection when `pool` has one (a fresh one if that turns
/// out to be closed), and returns the connection to the pool after a good exchange.
pub(super) async fn tcp(
    addr: SocketAddr,
    pool: Option<&Pool>,
    wire: &[u8],
    question: &Query,
    limits: TcpLimits,
) -> Result<Message, ForwardError> {
    let mut framed = Vec::with_capacity(wire.len() + 2);
    framed.extend_from_slice(&(wire.len() as u16).to_be_bytes());
    framed.extend_from_slice(wire);
    if let Some(conn) = pool.and_then(Pool::take) {
        match tcp_on(addr, conn, &mut framed, question, limits).await {
            Ok((response, conn)) => {
                if let Some(p) = pool {
                    p.put(conn);
                }
                return Ok(response);
            }
            // The upstream closed the idle connection: retry on a fresh one.
            Err(ForwardError::Io { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let until = (Instant::now() + limits.connect).min(limits.deadline);
    let conn = match timeout_at(until, TcpStream::connect(addr)).await {
        Err(_) => return Err(ForwardError::Timeout(addr)),
        Ok(result) => result.map_err(io(addr))?,
    };
    let _ = conn.set_nodelay(true);
    let (response, conn) = tcp_on(addr, conn, &mut framed, question, limits).await?;
    if let Some(p) = pool {
        p.put(conn);
    }
    Ok(response)
}

/// One exchange on `conn`; `framed` is the length-prefixed query (its ID is overwritten).
async fn tcp_on(
    addr: SocketAddr,
    mut conn: TcpStream,
    framed: &mut [u8],
    question: &Query,
    limits: TcpLimits,
) -> Result<(Message, TcpStream), ForwardError> {
    let id = random_u16();
    framed[2..4].copy_from_slice(&id.to_be_bytes());
    let until = (Instant::now() + limits.read).min(limits.deadline);
    let exchange = async {
        conn.write_all(framed).await?;
        loop {
            let len = conn.read_u16().await?;
            let mut buf = vec![0u8; usize::from(len)];
            conn.read_exact(&mut buf).await?;
            match Message::from_vec(&buf) {
                Ok(m) => match mismatch(&m, id, question) {
                    None => return Ok(m),
                    Some(why) => tracing::debug!(upstream = %addr, why, "ignoring TCP message"),
                },
                Err(e) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("undecodable response: {e}"),
                    ))
                }
            }
        }
    };
    match timeout_at(until, exchange).await {
        Err(_) => Err(ForwardError::Timeout(addr)),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            Err(ForwardError::BadResponse {
                addr,
                reason: e.to_string(),
            })
        }
        Ok(Err(source)) => Err(ForwardError::Io { addr, source }),
        Ok(Ok(m)) => Ok((m, conn)),
    }
}
