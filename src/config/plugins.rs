//! The names of every CoreDNS plugin (CoreDNS's `plugin.cfg`, plus the `import` directive), so a
//! Corefile written for CoreDNS gets "not supported yet" rather than "unknown plugin" for the
//! plugins Cairn does not implement. Which plugins Cairn does implement is decided in `block`.

/// Every plugin name CoreDNS knows, in `plugin.cfg` order, then older or external names that
/// Corefiles in the wild still use.
const COREDNS_PLUGINS: &[&str] = &[
    "root",
    "metadata",
    "geoip",
    "cancel",
    "tls",
    "timeouts",
    "multisocket",
    "reload",
    "nsid",
    "bufsize",
    "bind",
    "debug",
    "trace",
    "ready",
    "health",
    "pprof",
    "prometheus",
    "errors",
    "log",
    "dnstap",
    "local",
    "dns64",
    "acl",
    "any",
    "chaos",
    "loadbalance",
    "tsig",
    "cache",
    "rewrite",
    "header",
    "dnssec",
    "autopath",
    "minimal",
    "template",
    "transfer",
    "hosts",
    "route53",
    "azure",
    "clouddns",
    "k8s_external",
    "kubernetes",
    "file",
    "auto",
    "secondary",
    "etcd",
    "loop",
    "forward",
    "grpc",
    "erratic",
    "whoami",
    "on",
    "sign",
    "view",
    "nomad",
    "import",
    "grpc_server",
    "quic",
    "https",
    "https3",
    "federation",
    "proxy",
];

/// True when `name` is a CoreDNS plugin (or the `import` directive).
pub fn is_coredns_plugin(name: &str) -> bool {
    COREDNS_PLUGINS.contains(&name)
}

/// CoreDNS's plugin names in `plugin.cfg` order (the order its chains run in).
pub fn coredns_plugin_order() -> &'static [&'static str] {
    let end = COREDNS_PLUGINS
        .iter()
        .position(|n| *n == "import")
        .unwrap_or(COREDNS_PLUGINS.len());
    &COREDNS_PLUGINS[..end]
}
