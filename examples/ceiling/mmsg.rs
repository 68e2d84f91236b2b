//! Batched UDP I/O with `recvmmsg`/`sendmmsg`: one system call receives up to [`BATCH`]
//! datagrams, one sends their answers. Owns the buffers and the kernel message headers; every
//! `unsafe` of the ceiling is here. The headers' pointers are written afresh from the vectors'
//! base pointers before each call and not used after it returns, so no pointer outlives the
//! call that reads it or aliases a reference.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, RawFd};
use std::ptr;

/// Datagrams per system call.
pub const BATCH: usize = 64;

/// Receive buffer per datagram: bigger queries arrive truncated (`MSG_TRUNC`) and are dropped.
pub const MAX_QUERY: usize = 512;

/// Answer buffer per datagram: the query's header and question plus one record.
pub const MAX_ANSWER: usize = MAX_QUERY + 64;

/// Buffers and headers for one batch of queries and their answers, on one socket.
pub struct Batch {
    fd: RawFd,
    queries: Vec<[u8; MAX_QUERY]>,
    answers: Vec<[u8; MAX_ANSWER]>,
    peers: Vec<libc::sockaddr_storage>,
    recv_iov: Vec<libc::iovec>,
    recv_hdr: Vec<libc::mmsghdr>,
    send_iov: Vec<libc::iovec>,
    send_hdr: Vec<libc::mmsghdr>,
    /// For each answer of the current batch: the query (and so the peer) it answers.
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

impl Batch {
    /// Buffers for `socket`, which must outlive the batch.
    pub fn new(socket: &impl AsRawFd) -> Batch {
        Batch {
            fd: socket.as_raw_fd(),
            queries: vec![[0; MAX_QUERY]; BATCH],
            answers: vec![[0; MAX_ANSWER]; BATCH],
            peers: vec![zeroed(); BATCH],
            recv_iov: vec![zeroed(); BATCH],
            recv_hdr: vec![zeroed(); BATCH],
            send_iov: vec![zeroed(); BATCH],
            send_hdr: vec![zeroed(); BATCH],
            answered: Vec::with_capacity(BATCH),
            received: 0,
        }
    }

    /// Blocks until at least one datagram arrives, then takes whatever else is queued, up to
    /// [`BATCH`] (`MSG_WAITFORONE`). Returns how many were received.
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
        // those lengths and into the headers. A null timeout blocks. `self.fd` is open: the
        // socket outlives the batch (see `new`).
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

    /// Calls `respond(query, answer_buffer)` for each datagram received; an answer of
    /// `Some(len)` is queued for [`send`](Self::send), `None` drops the query. Truncated
    /// datagrams are dropped unseen. Returns how many answers were queued.
    pub fn answer(&mut self, mut respond: impl FnMut(&[u8], &mut [u8]) -> Option<usize>) -> usize {
        for i in 0..self.received {
            let h = &self.recv_hdr[i];
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            let len = (h.msg_len as usize).min(MAX_QUERY);
            let k = self.answered.len();
            if let Some(out) = respond(&self.queries[i][..len], &mut self.answers[k]) {
                self.send_iov[k].iov_len = out;
                self.answered.push(i);
            }
        }
        self.answered.len()
    }

    /// Sends the queued answers, each to the peer its query came from, in as few `sendmmsg`
    /// calls as the kernel allows. A datagram the kernel refuses is skipped (counted in the
    /// returned number of failures), as a server under load drops.
    pub fn send(&mut self) -> usize {
        let count = self.answered.len();
        let answers = self.answers.as_mut_ptr();
        let peers = self.peers.as_mut_ptr();
        let iov = self.send_iov.as_mut_ptr();
        let hdr = self.send_hdr.as_mut_ptr();
        for (k, &i) in self.answered.iter().enumerate() {
            let name_len = self.recv_hdr[i].msg_hdr.msg_namelen;
            // SAFETY: `k < count <= BATCH` and `i < self.received <= BATCH`, inside every
            // vector; plain `Copy` writes through pointers from `as_mut_ptr`, with no
            // reference to those elements alive (`send_iov[k].iov_len` was set by `answer`
            // and is read here through the same pointer).
            unsafe {
                let len = (*iov.add(k)).iov_len;
                iov.add(k).write(libc::iovec {
                    iov_base: answers.add(k).cast(),
                    iov_len: len,
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
        failed
    }
}
