//! TCP listening (RFC 7766): length-prefixed messages, several queries pipelined on one
//! connection, answered in order; a bounded number of connections, closed when idle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::handler::{Handled, Handler, Transport};

/// Connections served at once; further clients wait in the accept backlog.
pub const MAX_CONNECTIONS: usize = 1024;
/// A connection with no complete query for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds a TCP listener on `addr` (must be called inside the runtime).
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Accepts connections forever.
pub async fn serve(listener: TcpListener, handler: Arc<Handler>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            if let Err(err) = connection(stream, &handler).await {
                tracing::debug!(%err, %peer, "TCP connection ended");
            }
            drop(permit);
        });
    }
}

async fn connection(mut stream: TcpStream, handler: &Handler) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let peer = stream.peer_addr()?;
    let mut packet = vec![0u8; 65535];
    let mut out = Vec::with_capacity(4096);
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(err)) => return Err(err),
            Err(_) => return Ok(()),
        }
        let len = usize::from(u16::from_be_bytes(len));
        let body = &mut packet[..len];
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read_exact(body)).await {
            Ok(result) => result?,
            Err(_) => return Ok(()),
        };
        match handler.handle(body, peer, Transport::Tcp, &mut out) {
            Handled::Reply { .. } => {}
            Handled::Drop => continue,
            Handled::Pending(pending) => {
                if !pending.complete(&mut out).await {
                    continue;
                }
            }
        }
        let Ok(out_len) = u16::try_from(out.len()) else {
            continue;
        };
        let mut frame = Vec::with_capacity(out.len() + 2);
        frame.extend_from_slice(&out_len.to_be_bytes());
        frame.extend_from_slice(&out);
        // A client that never reads must not hold its connection slot forever.
        match tokio::time::timeout(IDLE_TIMEOUT, stream.write_all(&frame)).await {
            Ok(result) => result?,
            Err(_) => return Ok(()),
        }
    }
}
