//! Corefile plugins: the contract every plugin keeps, the order they run in, and one folder per
//! plugin.
//!
//! A plugin is one folder here (`cache/`, `forward/`, `kubernetes/`, …) holding everything about
//! it: its Corefile options parsed into typed values (`setup`), what it does to a query (its
//! [`Plugin`] implementation), its metrics, and its `README.md` (the doc page, in CoreDNS's
//! shape). It is known to the rest of Cairn through one line of the list below, in CoreDNS's
//! `plugin.cfg` order: that line declares its module and names its options type and its
//! [`Kind`], and decides where it sits in every chain whatever order a Corefile writes it in.
//!
//! A query runs down a block's [`chain::Chain`] in that order. Each plugin sees it
//! ([`Plugin::serve`]) and either answers ([`Flow::Answer`]), passes it on ([`Flow::Next`],
//! CoreDNS's fallthrough, possibly after rewriting the request in the [`query::Query`]), or
//! hands work to the async side ([`Flow::Upstream`]: forwarding, chasing a CNAME). The answer
//! then goes back out through the plugins before the one that answered
//! ([`Plugin::respond`]: `loadbalance`, `cache` storing it, `minimal`, …), is encoded, and
//! each of them sees the bytes sent ([`Plugin::sent`]: `log`).
//!
//! Plugins that act outside the query path (`health`, `ready`, `prometheus`, `reload`,
//! `nodelocal`) have a setup and no place in the chain: their options are read where those
//! listeners and tasks are started (`run/`).

pub mod chain;
pub mod contract;
pub mod describe;
pub mod query;
pub mod registry;
#[cfg(test)]
pub mod test_support;

pub use chain::{Chain, Next, Rest};
pub use contract::{Answer, Flow, Job, Plugin, Reusable, Started};
pub use query::Query;
pub use registry::{BlockContext, BuildEnv, Configure};

// The plugins, in the order they run (CoreDNS's `plugin.cfg`, then Cairn's own):
// `module::OptionsType => Kind`. Adding a plugin is its folder and one line here.
registry::plugins! {
    reload::ReloadConfig => Reload,
    nsid::NsidConfig => Nsid,
    bufsize::BufsizeConfig => Bufsize,
    ready::ReadyConfig => Ready,
    health::HealthConfig => Health,
    prometheus::PrometheusConfig => Prometheus,
    errors::ErrorsConfig => Errors,
    log::LogConfig => Log,
    local::LocalConfig => Local,
    acl::AclConfig => Acl,
    any::AnyConfig => Any,
    chaos::ChaosConfig => Chaos,
    loadbalance::LoadbalanceConfig => Loadbalance,
    cache::CacheConfig => Cache,
    rewrite::RewriteConfig => Rewrite,
    autopath::AutopathConfig => Autopath,
    minimal::MinimalConfig => Minimal,
    template::TemplateConfig => Template,
    transfer::TransferConfig => Transfer,
    hosts::HostsConfig => Hosts,
    k8s_external::K8sExternalConfig => K8sExternal,
    kubernetes::KubernetesConfig => Kubernetes,
    file::FileConfig => File,
    loop_detect::LoopConfig => Loop,
    forward::ForwardConfig => Forward,
    whoami::WhoamiConfig => Whoami,
    nodelocal::NodeLocalConfig => Nodelocal,
}
