//! Pure DNS wire helpers on hickory-proto: no sockets, no runtime, so they can be fuzzed and
//! tested alone. `request` classifies and parses an incoming packet; `response` encodes an answer
//! for a given size limit; `transport` names UDP and TCP.

pub mod names;
pub mod request;
pub mod response;
pub mod transport;

pub use transport::Transport;
