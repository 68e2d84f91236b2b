//! The machine's ceiling for UDP DNS (`bench/ceiling.sh` runs it): a responder that answers
//! every query with the same A record and does no lookup at all, so its queries per second are
//! what the kernel's UDP path and the load generator allow on this machine. A server that
//! looks answers up can approach it, not pass it.
//!
//! Built on Cairn's own UDP side — its socket setup (`server::udp::bind`: one `SO_REUSEPORT`
//! socket and thread per core, 4 MiB buffers) and its `recvmmsg`/`sendmmsg` batching
//! (`server::mmsg`) — with a fixed answer ([`wire`]) in place of the lookup: the query's ID and
//! question copied, QR and AA set, one A record pointing at the question name (`0xC00C`). Any
//! question type gets that A record. So the ratio to Cairn measures exactly what answering
//! costs. Loopback by default.
//!
//! ```sh
//! cargo run --release --example ceiling -- --listen 127.0.0.1:15358
//! ```

mod wire;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

use cairn::server::mmsg::Batch;
use cairn::server::udp::bind;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "A minimal UDP DNS responder: one fixed A record, no lookup")]
struct Args {
    /// Address to answer on.
    #[arg(long, default_value = "127.0.0.1:15358")]
    listen: SocketAddr,
    /// Sockets and threads (default: one per core, as Cairn).
    #[arg(long)]
    threads: Option<usize>,
    /// The address of the A record every query gets.
    #[arg(long, default_value = "10.0.0.1")]
    address: Ipv4Addr,
    /// The record's TTL.
    #[arg(long, default_value_t = 5)]
    ttl: u32,
}

/// Answers on `socket` until the process ends.
fn serve(socket: UdpSocket, answer: wire::Answer) {
    let mut batch = Batch::new(&socket);
    loop {
        match batch.receive() {
            Ok(_) => {}
            // `bind` sets a receive timeout (Cairn wakes to notice a stop request).
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::Interrupted
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(err) => {
                eprintln!("ceiling: receive failed: {err}");
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        }
        batch.answer(|query, _peer, out| {
            out.resize(query.len() + wire::ANSWER_RR, 0);
            match wire::respond(query, &answer, out) {
                Some(len) => {
                    out.truncate(len);
                    true
                }
                None => false,
            }
        });
        batch.send();
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let answer = wire::Answer {
        address: args.address.octets(),
        ttl: args.ttl,
    };
    // Bind every socket before serving any, so a port in use fails at once.
    let sockets: Result<Vec<_>, _> = (0..threads).map(|_| bind(args.listen)).collect();
    let sockets = match sockets {
        Ok(sockets) => sockets,
        Err(err) => {
            eprintln!("ceiling: cannot bind {}: {err}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!(
        "ceiling: {threads} sockets on {}, answering A {} to every query",
        args.listen, args.address
    );
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|socket| std::thread::spawn(move || serve(socket, answer)))
        .collect();
    for handle in handles {
        let _ = handle.join();
    }
    std::process::ExitCode::SUCCESS
}
