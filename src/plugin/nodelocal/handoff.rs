//! How an instance knows it has a successor: abstract Unix socket names, which live in the
//! network namespace (every hostNetwork pod of a node shares it; each lab namespace has its
//! own) and vanish with the process that holds them, even on `kill -9`. No file, no volume.
//!
//! - `@cairn-nodelocal/IFACE/lock` is a mutex: whoever binds it sets up, repairs or tears
//!   down; the others wait.
//! - `@cairn-nodelocal/IFACE/instance/N` (N < [`SLOTS`]): every serving instance holds one,
//!   from the moment its listeners answer (an instance still starting does not count: one
//!   that stops meanwhile gives the node back to the Service path, and the starting one takes
//!   it again once it serves).
//!
//! At shutdown an instance, holding the mutex, gives up its own name and looks whether any
//! other is held. If one is, a successor runs (a DaemonSet update with `maxSurge`) and the
//! interface and rules stay for it; if none is, the last one out removes them. A successor that
//! starts meanwhile waits for the mutex and then sets everything up again.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Instances that can run at once on one node (two during an update; the rest is slack).
pub const SLOTS: usize = 64;

fn bind(iface: &str, what: &str) -> io::Result<UnixDatagram> {
    let name = format!("cairn-nodelocal/{iface}/{what}");
    let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    UnixDatagram::bind_addr(&addr)
}

fn taken(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::AddrInUse
}

/// The mutex, released when dropped.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] UnixDatagram);

/// Waits for the mutex, at most `limit` (a holder that hangs must not stop this instance:
/// after the limit it goes on without, and says so).
pub async fn lock(iface: &str, limit: Duration) -> Option<Lock> {
    let started = tokio::time::Instant::now();
    loop {
        match bind(iface, "lock") {
            Ok(socket) => return Some(Lock(socket)),
            Err(err) if taken(&err) && started.elapsed() < limit => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(err) => {
                tracing::warn!(%err, interface = iface, "nodelocal: could not take the node-local lock; going on without it");
                return None;
            }
        }
    }
}

/// This instance's name among the running ones.
#[derive(Debug)]
pub struct Registration {
    iface: String,
    slot: usize,
    _socket: UnixDatagram,
}

/// Takes the first free instance name (call with the [`Lock`] held).
pub fn register(iface: &str) -> io::Result<Registration> {
    for slot in 0..SLOTS {
        match bind(iface, &format!("instance/{slot}")) {
            Ok(socket) => {
                return Ok(Registration {
                    iface: iface.to_string(),
                    slot,
                    _socket: socket,
                })
            }
            Err(err) if taken(&err) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other(format!(
        "{SLOTS} node-local instances already run on this node"
    )))
}

impl Registration {
    /// How many other instances hold a name now (call with the [`Lock`] held, so none
    /// registers meanwhile).
    pub fn others(&self) -> usize {
        (0..SLOTS)
            .filter(|&slot| slot != self.slot)
            .filter(
                |slot| match bind(&self.iface, &format!("instance/{slot}")) {
                    Ok(_free) => false,
                    Err(err) => taken(&err),
                },
            )
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_instance_is_seen_until_it_leaves() {
        // A name of its own, so parallel tests do not see each other.
        let iface = format!("t{}-{}", std::process::id(), fastrand::u32(..));
        let lock_held = lock(&iface, Duration::from_secs(1)).await.expect("free");
        let first = register(&iface).expect("a slot");
        assert_eq!(first.others(), 0);
        let second = register(&iface).expect("another slot");
        assert_ne!(first.slot, second.slot);
        assert_eq!(first.others(), 1);
        assert_eq!(second.others(), 1);
        drop(second);
        assert_eq!(first.others(), 0, "a name is free once its holder is gone");
        drop(lock_held);
    }

    #[tokio::test]
    async fn the_lock_waits_for_its_holder() {
        let iface = format!("t{}-{}", std::process::id(), fastrand::u32(..));
        let held = lock(&iface, Duration::from_secs(1)).await.expect("free");
        let started = std::time::Instant::now();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(held);
        });
        let second = lock(&iface, Duration::from_secs(5)).await;
        assert!(second.is_some());
        assert!(started.elapsed() >= Duration::from_millis(90));
        release.await.expect("released");
    }
}
