//! The cluster: the slim model of API objects, the state sources fill, and the immutable answer
//! index built from it.

pub mod model;
