//! The `autopath` plugin: CoreDNS's server-side search path completion. A query that is a
//! client's first search try (`name.<ns>.svc.cluster.local.` from a pod of namespace `ns`) is
//! answered with the first answer that is not NXDOMAIN among `name` completed with each search
//! domain in turn, then `name` alone, as a CNAME from the name asked to the name found plus
//! the found records; when every try fails, the first try's answer goes back as it was. Doc
//! page: `README.md` in its folder.
//!
//! The search path is `@kubernetes`'s (per client: the namespace of the pod whose address
//! asked, found in the block's `kubernetes` index, which has pod addresses only with `pods
//! verified`; then `svc.<zone>`, `<zone>` and the host's `/etc/resolv.conf` search list) or a
//! resolv.conf file's (the same for every client). [`search`] decides what a query is;
//! [`walk`] asks the plugins after `autopath` (`kubernetes`, `forward`) each try, on the I/O
//! runtime once a try needed the upstream.
//!
//! Reuse and caching. An answer that depends on who asked is never reused by the listener
//! (`Reusable::Never`): every answer to a first search try but a first try that succeeded,
//! which is what any client gets. CoreDNS's `cache`, before `autopath`, keys entries by the
//! question alone, so one pod's completed answer can be served to a client of another
//! namespace asking the same name; Cairn's `cache` adds to its key whether `autopath` would
//! walk the search path for this client ([`Walks`], which `autopath` provides to it), so pods
//! of the namespace share entries and nobody else gets them.

mod search;
mod walk;

use std::sync::Arc;

use hickory_proto::rr::Name;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::corefile::args::{count, err, names, no_block};
use crate::corefile::{ConfigError, Directive};
use crate::metrics::{view, PluginMetrics, Value};
use crate::plugin::kubernetes::publish::IndexCell;
use crate::plugin::kubernetes::PodMode;
use crate::plugin::{BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query};
use search::{Plan, Search};

pub use search::search_list;

#[cfg(test)]
mod tests;

/// `autopath [ZONE...] RESOLV-CONF`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutopathConfig {
    /// The zones it acts in (its arguments, else the block's).
    pub zones: Vec<Name>,
    pub source: SearchSource,
}

/// Where the search path comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchSource {
    /// `@kubernetes`: from the client's pod; `host` is the search list of the machine's
    /// `/etc/resolv.conf` (empty when it has none or cannot be read), tried last.
    Kubernetes { host: Vec<Name> },
    /// A resolv.conf file's `search` (or `domain`) list.
    File { path: String, search: Vec<Name> },
}

const USAGE: &str = "autopath [ZONE...] RESOLV-CONF";

impl Configure for AutopathConfig {
    const NAME: &'static str = "autopath";

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        no_block(d, "the server block")?;
        count(d, 1, usize::MAX, USAGE)?;
        let texts = d.arg_texts();
        let (resolv, zone_texts) = match texts.split_last() {
            Some(split) => split,
            None => return Err(err(d, format!("no RESOLV-CONF: expected `{USAGE}`"))),
        };
        let zones = if zone_texts.is_empty() {
            block
                .zones
                .iter()
                .map(|z| crate::corefile::args::name(d, z, "autopath zone"))
                .collect::<Result<_, _>>()?
        } else {
            names(d, zone_texts, "autopath zone")?
        };
        let source = if let Some(plugin) = resolv.strip_prefix('@') {
            if plugin != "kubernetes" {
                return Err(err(
                    d,
                    format!("autopath: `@{plugin}` gives no search path: only `@kubernetes` does"),
                ));
            }
            let host = block
                .files
                .read_to_string(std::path::Path::new("/etc/resolv.conf"))
                .map(|text| search_list(&text))
                .unwrap_or_default();
            SearchSource::Kubernetes { host }
        } else {
            let text = block
                .files
                .read_to_string(std::path::Path::new(resolv))
                .map_err(|e| err(d, format!("autopath: cannot read `{resolv}`: {e}")))?;
            SearchSource::File {
                path: (*resolv).to_string(),
                search: search_list(&text),
            }
        };
        Ok(AutopathConfig { zones, source })
    }

    fn summary(&self) -> String {
        match &self.source {
            SearchSource::Kubernetes { .. } => "@kubernetes".to_string(),
            SearchSource::File { path, .. } => path.clone(),
        }
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let search = match &self.source {
            SearchSource::File { search, .. } if search.is_empty() => return Ok(None),
            SearchSource::File { search, .. } => Search::Fixed(search.clone()),
            SearchSource::Kubernetes { host } => {
                // As CoreDNS: no `kubernetes` in the block, or its pods not verified, and
                // `autopath` does nothing.
                let Some(cell) = env.provided::<Arc<IndexCell>>() else {
                    return Ok(None);
                };
                if cell.config().pods != PodMode::Verified {
                    return Ok(None);
                }
                Search::kubernetes(cell, host.clone())
            }
        };
        let search = Arc::new(search);
        let walks = Walks {
            zones: self.zones.clone(),
            search: search.clone(),
        };
        env.provide(walks.clone());
        let success = env
            .metrics
            .plugin::<AutopathMetrics>()
            .success(env.server_label);
        Ok(Some(Arc::new(Autopath { walks, success })))
    }
}

/// Whether `autopath` walks the search path for a query: given to `cache`, which keeps the
/// answers of such queries apart (they depend on who asked).
#[derive(Clone)]
pub struct Walks {
    zones: Vec<Name>,
    search: Arc<Search>,
}

impl Walks {
    /// The query's plan, `Pass` outside the zones.
    fn plan(&self, query: &Query) -> Plan {
        let name = query.name();
        if !self.zones.iter().any(|z| z.zone_of(name)) {
            return Plan::Pass;
        }
        self.search.plan(name, query.client.ip())
    }

    /// `Some` when the answer to `query` depends on who asks it, with whether it is a search
    /// completed for this client; `None` when every client gets the same answer.
    pub fn for_client(&self, query: &Query) -> Option<bool> {
        let name = query.name();
        if !self.zones.iter().any(|z| z.zone_of(name)) {
            return None;
        }
        self.search.for_client(name, query.client.ip())
    }
}

struct Autopath {
    walks: Walks,
    success: Counter,
}

impl Plugin for Autopath {
    fn kind(&self) -> Kind {
        Kind::Autopath
    }

    fn serve(&self, query: &mut Query, next: &Next<'_>) -> Flow {
        match self.walks.plan(query) {
            Plan::Pass => Flow::Next,
            Plan::Plain => walk::plain(query, next),
            Plan::Walk(tries) => walk::Walk::new(query, tries, self.success.clone()).run(query, next),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Served {
    server: Value,
    view: Value,
}

/// `coredns_autopath_success_total{server,view}`.
#[derive(Debug, Default)]
pub struct AutopathMetrics {
    success: Family<Served, Counter>,
}

impl PluginMetrics for AutopathMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = AutopathMetrics::default();
        // Registered without `_total`: the encoder appends it.
        registry.register(
            "coredns_autopath_success",
            "Counter of requests that did autopath",
            m.success.clone(),
        );
        m
    }
}

impl AutopathMetrics {
    /// The success counter of `server` (resolved once, when a chain is built).
    fn success(&self, server: &str) -> Counter {
        let labels = Served {
            server: server.into(),
            view: view(),
        };
        self.success.get_or_create(&labels).clone()
    }
}
