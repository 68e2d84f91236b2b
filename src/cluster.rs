//! The cluster as the sources see it: the slim model of the API objects DNS needs
//! (`model`), filled by a source and read by the `kubernetes` plugin's index
//! (`plugin::kubernetes::index`), and a synthetic cluster of any size for benchmarks.

pub mod model;
pub mod synthetic;
