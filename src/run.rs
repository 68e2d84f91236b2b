//! Running Cairn: how the parts are wired for each way of getting cluster state. `main.rs`
//! parses the command line and calls in here; the parts themselves (server, sources,
//! snapshot, failover) know nothing of each other.

pub mod api;
pub mod dump;
pub mod keeper;
