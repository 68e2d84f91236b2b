//! Opening a prepared server: the I/O runtime (`cairn-io`: TCP connections, upstream
//! exchanges, HTTP, plugins' background work), one UDP worker thread per core on each listening
//! address (`cairn-udp-ADDR`, SO_REUSEPORT sockets), a TCP accept loop per address, and the
//! `health`/`ready`/`prometheus` listeners. What each of those does is `server`'s and `http`'s;
//! this is where they are started.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

use crate::http::{Health, Liveness, Routes};
use crate::net::{loopback_client_for, loopback_of};
use crate::server::handler::Handler;
use crate::server::{
    bind_listener, start_chains, tcp, udp, HttpRole, Prepared, RunningServer, ServerError,
};

/// Threads of the I/O runtime.
const IO_THREADS: usize = 2;

/// Binds every listener of `prepared` and starts answering.
pub fn listen(prepared: Prepared) -> Result<RunningServer, ServerError> {
    let Prepared {
        publisher,
        http,
        readiness,
        status,
        lameduck,
        ready_at_start,
        lameduck_after,
        listeners,
        metrics,
        shared_ports,
    } = prepared;
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(IO_THREADS)
        .thread_name("cairn-io")
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let configured: Vec<(IpAddr, u16)> = listeners.iter().map(|(k, _)| *k).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut addrs = Vec::new();
    let mut handlers = Vec::new();
    let mut udp_sockets = Vec::new();
    for (key, blocks) in listeners {
        let requested = SocketAddr::new(key.0, key.1);
        let (sockets, tcp_listener, addr) = match bind_listener(requested, workers, shared_ports) {
            Ok(bound) => bound,
            Err(source) if key.0 == IpAddr::V6(Ipv6Addr::UNSPECIFIED) => {
                tracing::warn!(addr = %requested, %source, "IPv6 wildcard unavailable; serving IPv4 only");
                continue;
            }
            Err(source) => {
                return Err(ServerError::Bind {
                    addr: requested,
                    source,
                })
            }
        };
        let handler = Arc::new(Handler::new(blocks));
        handlers.push((key, addr, handler.clone()));
        for socket in sockets {
            let socket = Arc::new(socket);
            let waiting = udp::spawn(
                socket.clone(),
                handler.clone(),
                publisher.generation(),
                stop.clone(),
                runtime.handle().clone(),
            )
            .map_err(|source| ServerError::Bind { addr, source })?;
            udp_sockets.push((socket, waiting));
        }
        start_chains(runtime.handle(), &handler, addr);
        {
            let _entered = runtime.enter();
            match tokio::net::TcpListener::from_std(tcp_listener) {
                Ok(l) => {
                    runtime.spawn(tcp::serve(l, handler));
                }
                Err(err) => tracing::error!(%err, "cannot serve TCP"),
            }
        }
        tracing::info!(%addr, "listening on UDP and TCP");
        addrs.push(addr);
    }
    let dns_addr = addrs.first().copied().map(loopback_of);
    let liveness = Liveness::new(move || dns_addr.is_some_and(answers_dns));
    let routes = http.iter().map(|(addr, role)| {
        let routes = match role {
            HttpRole::Health => Routes {
                health: Some(Health {
                    liveness: liveness.clone(),
                    lameduck: lameduck.clone(),
                    status: status.clone(),
                }),
                ..Routes::default()
            },
            HttpRole::Ready => Routes {
                ready: Some(readiness.clone()),
                ..Routes::default()
            },
            HttpRole::Metrics => Routes {
                metrics: Some(metrics.clone()),
                ..Routes::default()
            },
        };
        (*addr, routes)
    });
    let mut bound_http = Vec::new();
    for (addr, routes) in crate::http::group_by_addr(routes) {
        let roles: Vec<HttpRole> = http
            .iter()
            .filter(|(a, _)| *a == addr)
            .map(|(_, r)| *r)
            .collect();
        // Bound on the server's runtime; waited for with a plain channel, since `listen` may
        // itself be called from inside another runtime.
        let (tx, rx) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let _ = tx.send(crate::http::serve_shared(addr, routes, shared_ports).await);
        });
        let bound = rx
            .recv()
            .map_err(|_| std::io::Error::other("the HTTP listener task ended"))
            .and_then(|r| r)
            .map_err(|source| ServerError::Bind { addr, source })?;
        tracing::info!(addr = %bound.addr, ?roles, "serving HTTP");
        bound_http.push((roles, bound));
    }
    if ready_at_start {
        readiness.set_ready();
    }
    Ok(RunningServer {
        addrs,
        http: bound_http,
        readiness,
        lameduck,
        lameduck_after,
        handlers,
        configured,
        publisher,
        stop,
        metrics,
        udp_sockets,
        runtime: Some(runtime),
    })
}

/// Liveness: Cairn answers a DNS query itself (any answer will do: the process can serve).
/// Never depends on the API or the upstream.
fn answers_dns(addr: SocketAddr) -> bool {
    let Ok(socket) = std::net::UdpSocket::bind(loopback_client_for(addr)) else {
        return false;
    };
    if socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .is_err()
    {
        return false;
    }
    // `. SOA` with a random ID: answered (REFUSED or not) by any running server.
    let id = fastrand::u16(..);
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::root(), RecordType::SOA));
    let Ok(packet) = query.to_vec() else {
        return false;
    };
    if socket.send_to(&packet, addr).is_err() {
        return false;
    }
    let mut buf = [0u8; 1500];
    matches!(socket.recv_from(&mut buf), Ok((n, _)) if n >= 12 && buf[..2] == id.to_be_bytes())
}
