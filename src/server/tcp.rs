//! TCP listening (RFC 7766): length-prefixed messages, several queries pipelined on one
//! connection, answered in order (an answer may be several messages: a zone transfer); a
//! bounded number of connections, closed when idle.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::handler::{Handled, Handler};
use crate::dns::Transport;

/// Connections served at once; further clients wait in the accept backlog.
pub const MAX_CONNECTIONS: usize = 1024;
/// Forwarded queries one connection may have waiting for upstreams at once; reading pauses
/// beyond that.
pub const MAX_PIPELINED: usize = 32;
/// A connection with no complete query for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Answers one connection: queries are read in order; answers from local data are written in
/// order, forwarded ones when the upstream answers (RFC 7766 allows any order, the IDs match
/// them up), so a slow upstream does not hold back the queries behind it. One writer task owns
/// the write half; at most [`MAX_PIPELINED`] forwarded queries wait at once per connection.
async fn connection(stream: TcpStream, handler: &Handler) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let peer = stream.peer_addr()?;
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    let writing = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            // A client that never reads must not hold its connection slot forever.
            match tokio::time::timeout(IDLE_TIMEOUT, writer.write_all(&frame)).await {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
    });
    let result = read_queries(&mut reader, handler, peer, &tx).await;
    drop(tx); // the writer ends once the forwarded answers still due are written
    let _ = writing.await;
    result
}

async fn read_queries(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    handler: &Handler,
    peer: std::net::SocketAddr,
    tx: &tokio::sync::mpsc::Sender<Vec<u8>>,
) -> std::io::Result<()> {
    let mut packet = vec![0u8; 65535];
    let mut out = Vec::with_capacity(4096);
    let waiting = Arc::new(Semaphore::new(MAX_PIPELINED));
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(IDLE_TIMEOUT, reader.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(err)) => return Err(err),
            Err(_) => return Ok(()),
        }
        let len = usize::from(u16::from_be_bytes(len));
        let body = &mut packet[..len];
        match tokio::time::timeout(IDLE_TIMEOUT, reader.read_exact(body)).await {
            Ok(result) => result?,
            Err(_) => return Ok(()),
        };
        match handler.handle(body, peer, Transport::Tcp, &mut out) {
            Handled::Reply { .. } => {
                if let Some(frame) = frame(&out) {
                    if tx.send(frame).await.is_err() {
                        return Ok(()); // the writer gave up on this client
                    }
                }
            }
            Handled::Stream(messages) => {
                for message in messages {
                    let Some(frame) = frame(&message) else {
                        break;
                    };
                    if tx.send(frame).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Handled::Drop => {}
            Handled::Pending(pending) => {
                let Ok(permit) = waiting.clone().acquire_owned().await else {
                    return Ok(());
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut out = Vec::new();
                    if pending.complete(&mut out).await {
                        if let Some(frame) = frame(&out) {
                            let _ = tx.send(frame).await;
                        }
                    }
                    drop(permit);
                });
            }
        }
    }
}

/// A message with its 2-byte length prefix; `None` if it is too long for TCP framing.
fn frame(message: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(message.len()).ok()?;
    let mut frame = Vec::with_capacity(message.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    Some(frame)
}
