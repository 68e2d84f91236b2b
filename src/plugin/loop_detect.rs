//! The `loop` plugin (`loop`): finds a forwarding loop with a probe query sent to the block's
//! own listener at start ([`guard`]) and, once one is found, answers SERVFAIL for the names the
//! block's `forward` would send upstream, while the cluster zone keeps being answered. Doc
//! page: `README.md` in its folder.

pub mod guard;

use std::sync::Arc;

use crate::corefile::args::{count, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::plugin::forward::Forwarder;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Started,
};
use guard::LoopGuard;

/// `loop` (no options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopConfig;

impl Configure for LoopConfig {
    const NAME: &'static str = "loop";

    fn parse(d: &Directive, _block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 0, 0, "loop")?;
        Ok(LoopConfig)
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let Some(zone) = env.zones.first() else {
            return Ok(None);
        };
        Ok(LoopGuard::new(zone, env.metrics).map(|guard| {
            Arc::new(Loop {
                guard: Arc::new(guard),
                forward: env.provided::<Arc<Forwarder>>(),
            }) as Arc<dyn Plugin>
        }))
    }
}

/// One block's loop detection.
struct Loop {
    guard: Arc<LoopGuard>,
    /// The block's `forward`, whose names stop being forwarded once a loop is found.
    forward: Option<Arc<Forwarder>>,
}

impl Plugin for Loop {
    fn kind(&self) -> Kind {
        Kind::Loop
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let probe = self.guard.observe(query.name(), query.qtype());
        let forwarded = self
            .forward
            .as_ref()
            .is_some_and(|f| f.handles(query.name()));
        if (probe || forwarded) && self.guard.looping() {
            return Flow::Answer(Answer::servfail());
        }
        Flow::Next
    }

    fn start(&self, started: &Started<'_>) {
        if self.forward.is_none() {
            return; // nothing is forwarded: nothing can loop
        }
        let guard = self.guard.clone();
        let target = crate::net::loopback_of(started.listener);
        started
            .runtime
            .spawn(async move { guard.probe(target).await });
    }
}
