//! The cluster: the slim model of API objects, the immutable answer index built from it, and
//! answering queries from that index.

pub mod answer;
pub mod index;
pub mod model;
pub mod names;
pub mod publish;
pub mod shards;
pub mod synthetic;
