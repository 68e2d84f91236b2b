//! UDP listening: one SO_REUSEPORT socket per core, each served by its own thread that receives
//! every waiting query in one system call and sends their answers in one more ([`super::mmsg`];
//! the kernel spreads clients across sockets; no runtime, no locks). Forwarded queries are
//! answered later from the runtime, one `send_to` each.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::answer_cache::{AnswerCache, Served};
use super::handler::Handler;
use super::mmsg::Batch;

/// Forwarded queries one UDP socket may have waiting for upstreams; more are dropped (the
/// client retries), as a resolver under a flood must.
pub const MAX_PENDING: usize = 4096;

/// Binds a UDP socket with SO_REUSEPORT so several can share `addr`.
pub fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_port(true)?;
    socket.set_recv_buffer_size(4 << 20).ok();
    socket.set_send_buffer_size(4 << 20).ok();
    socket.bind(&addr.into())?;
    // Wake up now and then to notice a stop request.
    socket.set_read_timeout(Some(Duration::from_millis(250)))?;
    Ok(socket.into())
}

/// Takes `socket` out of its SO_REUSEPORT group for new queries, keeping what it has received:
/// once connected (to the discard port on loopback, which never sends), the kernel gives new
/// datagrams to the group's other sockets — a successor's — while the ones already queued are
/// still read and answered (`send_to` works on a connected UDP socket). Used when another
/// instance takes over the same addresses, so no query waits in a socket that is closing.
pub fn hand_over(socket: &UdpSocket) -> std::io::Result<()> {
    let nowhere: SocketAddr = match socket.local_addr()? {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::LOCALHOST, 9).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::LOCALHOST, 9).into(),
    };
    socket.connect(nowhere)
}

/// Serves `socket` on a new thread until `stop` is set; upstream work goes to `runtime`.
/// Returns the count of its queries waiting for upstreams (their permits out of
/// [`MAX_PENDING`]), so a shutdown can wait for them.
pub fn spawn(
    socket: Arc<UdpSocket>,
    handler: Arc<Handler>,
    generation: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
) -> std::io::Result<Arc<tokio::sync::Semaphore>> {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_PENDING));
    let waiting = in_flight.clone();
    let name = format!("cairn-udp-{}", socket.local_addr()?);
    std::thread::Builder::new().name(name).spawn(move || {
        let mut batch = Batch::new(&*socket);
        let mut cache = AnswerCache::default();
        while !stop.load(Ordering::Relaxed) {
            match batch.receive() {
                Ok(_) => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    cache.expire(generation.load(Ordering::Acquire));
                    continue;
                }
                Err(err) => {
                    tracing::warn!(%err, "UDP receive failed");
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            let generation = generation.load(Ordering::Acquire);
            let received = std::time::Instant::now();
            batch.answer(|query, peer, out| {
                match cache.respond(&handler, generation, query, peer, received, out) {
                    Served::Send => true,
                    Served::Nothing => false,
                    Served::Pending(pending) => {
                        // Bounded: a flood of forwarded names against a slow upstream must
                        // not spawn without limit (each exchange holds a socket for seconds).
                        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                            tracing::debug!(%peer, "too many queries waiting for upstreams; dropped");
                            return false;
                        };
                        let socket = socket.clone();
                        runtime.spawn(async move {
                            let mut out = Vec::new();
                            if pending.complete(&mut out).await {
                                send(&socket, &out, peer);
                            }
                            drop(permit);
                        });
                        false
                    }
                }
            });
            let failed = batch.send();
            if failed > 0 {
                tracing::debug!(failed, "UDP answers the kernel refused");
            }
        }
    })?;
    Ok(waiting)
}

fn send(socket: &UdpSocket, out: &[u8], peer: SocketAddr) {
    if let Err(err) = socket.send_to(out, peer) {
        tracing::debug!(%err, %peer, "UDP send failed");
    }
}
