//! The plugins Cairn implements, in the order they run: CoreDNS's `plugin.cfg` order, which
//! decides a chain whatever order a Corefile writes its plugins in. Adding a plugin is one line
//! here (its [`Kind`] and its options type) and its folder under `plugin/`.

use super::registry::plugins;
use super::*;

plugins! {
    Reload => reload::ReloadConfig,
    Ready => ready::ReadyConfig,
    Health => health::HealthConfig,
    Prometheus => prometheus::PrometheusConfig,
    Errors => errors::ErrorsConfig,
    Log => log::LogConfig,
    Loadbalance => loadbalance::LoadbalanceConfig,
    Cache => cache::CacheConfig,
    Hosts => hosts::HostsConfig,
    Kubernetes => kubernetes::KubernetesConfig,
    Loop => loop_detect::LoopConfig,
    Forward => forward::ForwardConfig,
    Nodelocal => nodelocal::NodeLocalConfig,
}
