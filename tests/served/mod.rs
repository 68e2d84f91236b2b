//! A `cairn serve` process a test starts and learns the DNS address of from its log: the
//! spawn-and-wait the command-line and image tests share.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A started server, killed on drop.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (a `cairn serve`), echoes its log to the test's stderr prefixed with `tag`,
/// and waits for its `serving addr=` line to learn the DNS address.
pub fn start(mut command: Command, tag: &'static str) -> Served {
    let mut child = command
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{tag}: {line}");
            if let Some(addr) = line.split(" serving addr=").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("cairn logs the address it serves on");
    Served {
        child,
        addr: addr.parse().expect("a socket address"),
    }
}
