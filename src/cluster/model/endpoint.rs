//! An EndpointSlice endpoint in 32 bytes.
//!
//! There are as many of these as pods behind Services (100k in the scale target), and nearly
//! all have exactly one address and, unless `endpoint_pod_names` is on, no name Cairn keeps. So
//! the first address and the readiness are inline and everything rarer (further addresses, a
//! hostname, a pod name) sits behind one optional box: 32 bytes instead of 72 for a plain
//! endpoint (−3.8 MiB at 100k endpoints). Encoded field by field like the plain struct it
//! replaced (addresses, hostname, ready, target_pod, and since format 4 the topology zone).

use std::net::IpAddr;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

/// Invariant: `first` is `None` only when the endpoint has no address at all (FQDN slices).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "Plain")]
pub struct Endpoint {
    first: Option<IpAddr>,
    /// `conditions.ready`; an unset condition is ready.
    pub ready: bool,
    rare: Option<Box<Rare>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rare {
    more: Box<[IpAddr]>,
    hostname: Option<Box<str>>,
    target_pod: Option<Box<str>>,
    /// The EndpointSlice's `zone` (topology zone): kept only when a block is `zonal`.
    zone: Option<Box<str>>,
}

impl Endpoint {
    /// `target_pod` is `targetRef.name` when `targetRef.kind` is `Pod`.
    pub fn new(
        addresses: impl IntoIterator<Item = IpAddr>,
        ready: bool,
        hostname: Option<Box<str>>,
        target_pod: Option<Box<str>>,
    ) -> Self {
        let mut addresses = addresses.into_iter();
        let first = addresses.next();
        let more: Box<[IpAddr]> = addresses.collect();
        let rare = (!more.is_empty() || hostname.is_some() || target_pod.is_some()).then(|| {
            Box::new(Rare {
                more,
                hostname,
                target_pod,
                zone: None,
            })
        });
        Endpoint { first, ready, rare }
    }

    pub fn addresses(&self) -> impl ExactSizeIterator<Item = IpAddr> + '_ {
        let more = self.rare.as_ref().map_or(&[][..], |r| &r.more[..]);
        let first = self.first.into_iter();
        // Exact size, so that the snapshot encoder knows the length up front.
        (0..first.len() + more.len()).map(move |i| match (self.first, i) {
            (Some(ip), 0) => ip,
            _ => more[i - 1],
        })
    }

    pub fn hostname(&self) -> Option<&str> {
        self.rare.as_ref()?.hostname.as_deref()
    }

    /// The Pod this endpoint is (`targetRef`), when the source kept it.
    pub fn target_pod(&self) -> Option<&str> {
        self.rare.as_ref()?.target_pod.as_deref()
    }

    /// Drops the pod name (only `endpoint_pod_names` needs it).
    pub fn forget_target_pod(&mut self) {
        if let Some(rare) = &mut self.rare {
            rare.target_pod = None;
        }
        self.shrink();
    }

    /// The endpoint with its topology zone (`endpoints[].zone`).
    pub fn with_zone(mut self, zone: Option<Box<str>>) -> Self {
        if zone.is_some() {
            self.rare.get_or_insert_with(Box::default).zone = zone;
        }
        self
    }

    /// Its topology zone, when the source kept it.
    pub fn zone(&self) -> Option<&str> {
        self.rare.as_ref()?.zone.as_deref()
    }

    /// Drops the topology zone (only `zonal` needs it).
    pub fn forget_zone(&mut self) {
        if let Some(rare) = &mut self.rare {
            rare.zone = None;
        }
        self.shrink();
    }

    fn shrink(&mut self) {
        if let Some(rare) = &self.rare {
            if rare.more.is_empty()
                && rare.hostname.is_none()
                && rare.target_pod.is_none()
                && rare.zone.is_none()
            {
                self.rare = None;
            }
        }
    }
}

/// The encoded form: the plain struct this one replaced.
#[derive(Deserialize)]
struct Plain {
    addresses: super::Addresses,
    hostname: Option<Box<str>>,
    ready: bool,
    target_pod: Option<Box<str>>,
    zone: Option<Box<str>>,
}

impl From<Plain> for Endpoint {
    fn from(p: Plain) -> Self {
        Endpoint::new(p.addresses, p.ready, p.hostname, p.target_pod).with_zone(p.zone)
    }
}

struct Addresses<'a>(&'a Endpoint);

impl Serialize for Addresses<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.addresses())
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Endpoint", 5)?;
        s.serialize_field("addresses", &Addresses(self))?;
        s.serialize_field("hostname", &self.hostname())?;
        s.serialize_field("ready", &self.ready)?;
        s.serialize_field("target_pod", &self.target_pod())?;
        s.serialize_field("zone", &self.zone())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::Endpoint;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn keeps_every_address_and_name() {
        let plain = Endpoint::new([ip("10.0.0.1")], true, None, None);
        assert_eq!(plain.addresses().collect::<Vec<_>>(), [ip("10.0.0.1")]);
        assert_eq!((plain.hostname(), plain.target_pod()), (None, None));
        assert_eq!(std::mem::size_of::<Endpoint>(), 32);

        let mut full = Endpoint::new(
            [ip("10.0.0.1"), ip("10.0.0.2")],
            false,
            Some("web-0".into()),
            Some("web-0-pod".into()),
        );
        assert_eq!(full.addresses().len(), 2);
        assert_eq!(full.addresses().nth(1), Some(ip("10.0.0.2")));
        assert_eq!(
            (full.hostname(), full.target_pod()),
            (Some("web-0"), Some("web-0-pod"))
        );
        full.forget_target_pod();
        assert_eq!((full.hostname(), full.target_pod()), (Some("web-0"), None));
        assert_eq!(full.addresses().len(), 2);

        let none = Endpoint::new([], true, Some("db".into()), None);
        assert_eq!(none.addresses().len(), 0);
    }

    /// The snapshot format is that of the plain struct this type replaced.
    #[test]
    fn encodes_like_the_plain_struct() {
        #[derive(serde::Serialize)]
        struct Plain {
            addresses: Vec<IpAddr>,
            hostname: Option<Box<str>>,
            ready: bool,
            target_pod: Option<Box<str>>,
            zone: Option<Box<str>>,
        }
        for (addresses, hostname, target_pod) in [
            (vec![ip("10.0.0.1")], None, None),
            (vec![ip("10.0.0.1"), ip("fd00::1")], Some("h"), Some("p")),
            (vec![], Some("db"), None),
        ] {
            let zone = hostname.map(|_| "zone-a");
            let ours = Endpoint::new(
                addresses.clone(),
                true,
                hostname.map(Into::into),
                target_pod.map(Into::into),
            )
            .with_zone(zone.map(Into::into));
            let plain = Plain {
                addresses,
                hostname: hostname.map(Into::into),
                ready: true,
                target_pod: target_pod.map(Into::into),
                zone: zone.map(Into::into),
            };
            let bytes = postcard::to_allocvec(&ours).expect("encode");
            assert_eq!(bytes, postcard::to_allocvec(&plain).expect("encode"));
            let back: Endpoint = postcard::from_bytes(&bytes).expect("decode");
            assert_eq!(back, ours);
        }
    }
}
