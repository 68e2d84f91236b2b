//! Configuration: the CoreDNS Corefile, lexed and parsed by hand (no Rust crate reads Caddyfile
//! syntax) into the typed [`model::Config`].

pub mod model;
