//! Cairn: a cluster DNS server for Kubernetes.
//!
//! Data flows one way: a source (`source`) fills the cluster state (`cluster::model`), an
//! immutable index is built from it and swapped in atomically (`plugin::kubernetes::index`), and listeners
//! (`server`) answer queries from the current index using the wire helpers in `dns`.
//! Configuration is a CoreDNS Corefile (`config`). `doctor` checks a cluster's DNS path from
//! the outside (`cairn doctor`); `validate` checks a Corefile without serving (`cairn validate`).

pub mod cli;
pub mod cluster;
pub mod config;
pub mod corefile;
pub mod dns;
pub mod doctor;
pub mod http;
pub mod metrics;
pub mod net;
pub mod plugin;
pub mod run;
pub mod server;
pub mod snapshot;
pub mod source;
pub mod status;
pub mod validate;
