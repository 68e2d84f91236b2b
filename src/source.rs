//! Where cluster state comes from.
//!
//! `convert` turns full Kubernetes API objects (k8s-openapi types) into the slim records of
//! `cluster::model`; every source goes through it. `file` reads a cluster dump
//! (`kubectl get ... -o yaml|json`) into a whole `ClusterState` (`cairn serve --from FILE`).

pub mod convert;
pub mod file;
