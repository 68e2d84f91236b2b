//! Command-line forms the `cairn` binary accepts besides its own commands (which clap reads in
//! `main.rs`): CoreDNS's flags ([`coredns`]).

pub mod coredns;
