//! Listeners and the query handler chain.
//!
//! `start` binds every listener of a [`Config`] (UDP and TCP on the same port; port 0 picks one
//! ephemeral port shared by UDP and TCP) and answers from the given cluster state.

use std::net::SocketAddr;

use crate::cluster::model::ClusterState;
use crate::config::model::Config;

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server whose sockets are bound and answering.
pub struct RunningServer {
    addrs: Vec<SocketAddr>,
}

impl RunningServer {
    /// One address per listener (UDP and TCP share it), in the order of the Corefile's blocks.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }
}

/// Binds every listener of `config` and starts answering from `state`.
pub fn start(config: Config, state: ClusterState) -> Result<RunningServer, ServerError> {
    let _ = (config, state);
    todo!("server::start is being written")
}
