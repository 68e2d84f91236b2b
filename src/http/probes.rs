//! The two probe states the DNS server hands to the HTTP listeners.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Readiness for `/ready`: a latch the server sets once it has something correct to serve
/// (for the `kubernetes` plugin: the first complete index, from the API or a restored
/// snapshot). Once set it stays set, as CoreDNS's `ready` does, until [`Readiness::shutting_down`].
/// Cloning shares the latch.
#[derive(Clone)]
pub struct Readiness(Arc<ReadyState>);

struct ReadyState {
    ready: AtomicBool,
    shutting_down: AtomicBool,
    /// What `/ready` names while not ready (CoreDNS prints the plugins it waits on).
    waiting_on: String,
}

impl Readiness {
    /// Not ready yet; `/ready` answers 503 with `waiting_on` (e.g. `kubernetes`) as its body.
    pub fn new(waiting_on: impl Into<String>) -> Self {
        Readiness(Arc::new(ReadyState {
            ready: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            waiting_on: waiting_on.into(),
        }))
    }

    /// Latch ready: `/ready` answers 200 `OK` from now on.
    pub fn set_ready(&self) {
        self.0.ready.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.0.ready.load(Ordering::Acquire) && !self.is_shutting_down()
    }

    /// Shutdown began (lameduck): `/ready` answers 503 `Shutting down` from now on, as
    /// CoreDNS's `ready` does once shutdown starts, so Services stop sending traffic while
    /// the listeners drain.
    pub fn shutting_down(&self) {
        self.0.shutting_down.store(true, Ordering::Release);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.0.shutting_down.load(Ordering::Acquire)
    }

    pub(crate) fn waiting_on(&self) -> &str {
        &self.0.waiting_on
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("ready", &self.is_ready())
            .field("shutting_down", &self.is_shutting_down())
            .field("waiting_on", &self.0.waiting_on)
            .finish()
    }
}

/// Liveness for `/health`: a check the server provides (it sends an internal DNS query through
/// its own listener). It must not depend on the Kubernetes API: three failed probes restart
/// the container. Run on the blocking pool, at most [`super::LIVENESS_TIMEOUT`] per probe.
/// Cloning shares the check (one check can back listeners on several addresses).
#[derive(Clone)]
pub struct Liveness(Arc<dyn Fn() -> bool + Send + Sync>);

impl Liveness {
    pub fn new(check: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Liveness(Arc::new(check))
    }

    /// A check that always passes: the process answering HTTP is the whole check (what
    /// CoreDNS's `health` reports).
    pub fn always() -> Self {
        Liveness::new(|| true)
    }

    pub fn check(&self) -> bool {
        (self.0)()
    }
}

impl fmt::Debug for Liveness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Liveness(..)")
    }
}
