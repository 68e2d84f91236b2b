//! A port's protocol without an allocation per port.
//!
//! The API allows `TCP`, `UDP` and `SCTP`; anything else (a hand-written dump) is kept as
//! written. Encoded as the protocol's text, so the snapshot format is that of the `String` it
//! replaces.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    Other(Box<str>),
}

impl Protocol {
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Other(text) => text,
        }
    }

    /// Protocols compare case-insensitively (`_tcp` in an SRV name matches `TCP`).
    pub fn eq_ignore_ascii_case(&self, other: &str) -> bool {
        self.as_str().eq_ignore_ascii_case(other)
    }
}

/// The API's spelling; other case variants of the three are the same protocol.
impl From<&str> for Protocol {
    fn from(text: &str) -> Self {
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
            .into_iter()
            .find(|p| p.eq_ignore_ascii_case(text))
            .unwrap_or_else(|| Protocol::Other(text.into()))
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Protocol::from(text.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Protocol;

    #[test]
    fn known_protocols_are_recognised_in_any_case_and_others_kept() {
        assert_eq!(Protocol::from("TCP"), Protocol::Tcp);
        assert_eq!(Protocol::from("udp"), Protocol::Udp);
        assert_eq!(Protocol::from("Sctp"), Protocol::Sctp);
        assert_eq!(Protocol::from("QUIC").as_str(), "QUIC");
        assert!(Protocol::Tcp.eq_ignore_ascii_case("tcp"));
    }

    #[test]
    fn encodes_as_its_text() {
        let bytes = postcard::to_allocvec(&Protocol::Udp).expect("encode");
        assert_eq!(bytes, postcard::to_allocvec("UDP").expect("encode"));
        let back: Protocol = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(back, Protocol::Udp);
    }
}
