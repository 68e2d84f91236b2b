//! The signals that stop Cairn.

/// SIGTERM and SIGINT, caught from the first moment of `serve`: kubelet may stop a pod while it
/// starts, and a node-local instance must then still give the node back.
pub struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub fn new(runtime: &tokio::runtime::Runtime) -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        let _entered = runtime.enter();
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Until either arrives (or has arrived since this was made).
    pub async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
