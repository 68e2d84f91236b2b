//! Batched UDP I/O with `recvmmsg`/`sendmmsg`: one system call receives up to [`BATCH`]
//! queries that are already waiting, one sends their answers. Under load the two system calls
//! per query were a third of the answer path's cost (`bench/ceiling.sh`: the no-lookup responder
//! that batches was 1.4 × Cairn's unbatched loop on cluster names).
//!
//! Written by hand because no maintained crate offers batched send and receive on a std socket
//! without an async runtime; every `unsafe` of the UDP path is here. The kernel headers'
//! pointers are written afresh from the buffers' base pointers before each call and not used
//! after it returns, so no pointer outlives the call that reads it or aliases a reference.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::ptr;

/// Datagrams per system call.
pub const BATCH: usize = 32;

/// Receive buffer per datagram. A longer query arrives truncated (`MSG_TRUNC`) and is dropped:
/// queries carry one question and a few EDNS options, far below this.
pub const MAX_QUERY: usize = 4096;

/// Buffers and headers for one batch of queries and their answers, on one socket.
pub struct Batch {
    fd: RawFd,
    queries: Vec<[u8; MAX_QUERY]>,
    /// One answer buffer per query slot; grown as answers need, kept between batches.
    answers: Vec<Vec<u8>>,
    peers: Vec<libc::sockaddr_storage>,
    recv_iov: Vec<libc::iovec>,
    recv_hdr: Vec<libc::mmsghdr>,
    send_iov: Vec<libc::iovec>,
    send_hdr: Vec<libc::mmsghdr>,
    /// The query slots answered in this batch, in order.
    answered: Vec<usize>,
    received: usize,
}

/// C structs made only of integers, raw pointers and padding: all-zero bytes are a valid value
/// (null pointers, zero lengths).
trait Zeroable: Copy {}
impl Zeroable for libc::iovec {}
impl Zeroable for libc::mmsghdr {}
impl Zeroable for libc::sockaddr_storage {}

/// The all-zero value of `T`.
fn zeroed<T: Zeroable>() -> T {
    // SAFETY: `T: Zeroable`, implemented only for types whose all-zero bytes are valid.
    unsafe { std::mem::zeroed() }
}

/// The socket address the kernel wrote into `storage`, if it is IPv4 or IPv6.
fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the kernel wrote a `sockaddr_in` at the start of the
            // storage, which is larger and at least as aligned; it is read by value.
            let a: libc::sockaddr_in =
                unsafe { ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for a `sockaddr_in6`.
            let a: libc::sockaddr_in6 =
                unsafe { ptr::read((storage as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

impl Batch {
    /// Buffers for `socket`, which must outlive the batch.
    pub fn new(socket: &impl AsRawFd) -> Batch {
        Batch {
            fd: socket.as_raw_fd(),
            queries: vec![[0; MAX_QUERY]; BATCH],
            answers: (0..BATCH).map(|_| Vec::with_capacity(512)).collect(),
            peers: vec![zeroed(); BATCH],
            recv_iov: vec![zeroed(); BATCH],
            recv_hdr: vec![zeroed(); BATCH],
            send_iov: vec![zeroed(); BATCH],
            send_hdr: vec![zeroed(); BATCH],
            answered: Vec::with_capacity(BATCH),
            received: 0,
        }
    }

    /// Blocks until at least one datagram arrives (or the socket's receive timeout passes),
    /// then takes whatever else is queued, up to [`BATCH`] (`MSG_WAITFORONE`). Returns how
    /// many were received.
    pub fn receive(&mut self) -> io::Result<usize> {
        self.received = 0;
        self.answered.clear();
        let queries = self.queries.as_mut_ptr();
        let peers = self.peers.as_mut_ptr();
        let iov = self.recv_iov.as_mut_ptr();
        let hdr = self.recv_hdr.as_mut_ptr();
        for i in 0..BATCH {
            // SAFETY: `i < BATCH`, the length of every vector, so each `add(i)` stays inside
            // its allocation; the writes are of plain `Copy` values through pointers taken
            // above from `as_mut_ptr`, with no reference to the same element alive.
            unsafe {
                iov.add(i).write(libc::iovec {
                    iov_base: queries.add(i).cast(),
                    iov_len: MAX_QUERY,
                });
                let mut h: libc::mmsghdr = zeroed();
                h.msg_hdr.msg_name = peers.add(i).cast();
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_hdr.msg_iov = iov.add(i);
                h.msg_hdr.msg_iovlen = 1;
                hdr.add(i).write(h);
            }
        }
        // SAFETY: `hdr` points at `BATCH` initialised headers whose name and iovec pointers
        // point at live, writable buffers of the stated lengths (`peers`, `queries`), owned by
        // `self` and not otherwise borrowed during the call; the kernel writes only within
        // those lengths and into the headers. A null timeout leaves the socket's own receive
        // timeout in charge. `self.fd` is open: the socket outlives the batch (see `new`).
        let n = unsafe {
            libc::recvmmsg(
                self.fd,
                hdr,
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.received = n as usize;
        Ok(self.received)
    }

    /// Calls `respond(query, peer, answer)` for each datagram received; when it returns true
    /// the answer it wrote is queued for [`send`](Self::send). Truncated datagrams and those
    /// from an address family other than IP are dropped unseen.
    pub fn answer(&mut self, mut respond: impl FnMut(&[u8], SocketAddr, &mut Vec<u8>) -> bool) {
        for i in 0..self.received {
            let h = &self.recv_hdr[i];
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            let Some(peer) = socket_addr(&self.peers[i]) else {
                continue;
            };
            let len = (h.msg_len as usize).min(MAX_QUERY);
            let out = &mut self.answers[i];
            out.clear();
            if respond(&self.queries[i][..len], peer, out) && !out.is_empty() {
                self.answered.push(i);
            }
        }
    }

    /// Sends the queued answers, each to the peer its query came from, in as few `sendmmsg`
    /// calls as the kernel allows. A datagram the kernel refuses is skipped, as a server under
    /// load drops; returns how many were.
    pub fn send(&mut self) -> usize {
        let count = self.answered.len();
        let peers = self.peers.as_mut_ptr();
        let iov = self.send_iov.as_mut_ptr();
        let hdr = self.send_hdr.as_mut_ptr();
        for (k, &i) in self.answered.iter().enumerate() {
            let name_len = self.recv_hdr[i].msg_hdr.msg_namelen;
            let answer = &mut self.answers[i];
            // SAFETY: `k < count <= BATCH` and `i < self.received <= BATCH`, inside every
            // vector; plain `Copy` writes through pointers from `as_mut_ptr`, with no
            // reference to those elements alive. The iovec points at the answer's own
            // initialised bytes, which are not touched again until the send below returns.
            unsafe {
                iov.add(k).write(libc::iovec {
                    iov_base: answer.as_mut_ptr().cast(),
                    iov_len: answer.len(),
                });
                let mut h: libc::mmsghdr = zeroed();
                h.msg_hdr.msg_name = peers.add(i).cast();
                h.msg_hdr.msg_namelen = name_len;
                h.msg_hdr.msg_iov = iov.add(k);
                h.msg_hdr.msg_iovlen = 1;
                hdr.add(k).write(h);
            }
        }
        let mut sent = 0;
        let mut failed = 0;
        while sent < count {
            // SAFETY: `hdr.add(sent)` starts `count - sent` initialised headers inside
            // `send_hdr`; their pointers point at live buffers owned by `self` (answers of the
            // stated lengths, peer addresses filled by `recvmmsg` with the stated lengths),
            // which the kernel only reads. `self.fd` is open (see `new`).
            let n = unsafe {
                libc::sendmmsg(self.fd, hdr.add(sent), (count - sent) as libc::c_uint, 0)
            };
            if n > 0 {
                sent += n as usize;
            } else if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            } else {
                // The first remaining datagram failed (e.g. the peer's buffer is full): skip it.
                sent += 1;
                failed += 1;
            }
        }
        self.answered.clear();
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_answers_every_waiting_query_to_its_own_peer() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let clients: Vec<_> = (0..5)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        for (n, c) in clients.iter().enumerate() {
            c.send_to(&[n as u8; 3], addr).unwrap();
        }
        let mut batch = Batch::new(&server);
        let mut got = 0;
        while got < clients.len() {
            got += batch.receive().unwrap();
            batch.answer(|query, peer, out| {
                // Echo the query and who sent it; drop the query from client 2.
                if query[0] == 2 {
                    return false;
                }
                out.extend_from_slice(query);
                out.extend_from_slice(&peer.port().to_be_bytes());
                true
            });
            assert_eq!(batch.send(), 0);
        }
        for (n, c) in clients.iter().enumerate() {
            c.set_read_timeout(Some(std::time::Duration::from_millis(200)))
                .unwrap();
            let mut buf = [0u8; 16];
            let port = c.local_addr().unwrap().port().to_be_bytes();
            match c.recv(&mut buf) {
                Ok(len) if n != 2 => {
                    assert_eq!(&buf[..len], &[n as u8, n as u8, n as u8, port[0], port[1]])
                }
                Ok(len) => panic!("client 2 was answered: {:?}", &buf[..len]),
                Err(_) => assert_eq!(n, 2, "client {n} got no answer"),
            }
        }
    }
}
