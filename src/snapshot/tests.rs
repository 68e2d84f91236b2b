use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use tokio::time::Instant;

use super::format::{HEADER_LEN, MAGIC};
use super::*;

mod store;
use crate::cluster::model::{
    AddressType, ClusterState, Endpoint, EndpointSlice, ExternalAddress, Labels, Namespace, Pod,
    PodPhase, Port, Service, ServiceKind,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn port(name: &str, protocol: &str, port: u16) -> Port {
    Port {
        name: name.into(),
        protocol: protocol.into(),
        port,
    }
}

fn add_service(state: &mut ClusterState, ns: &str, name: &str, kind: ServiceKind) {
    state.services.insert(
        (ns.into(), name.into()),
        Service {
            namespace: ns.into(),
            name: name.into(),
            kind,
            ports: vec![port("http", "TCP", 80), port("", "UDP", 53)].into(),
            publish_not_ready: name == "db",
            labels: labels(&[("app", name)]),
            external: match name {
                "web" => vec![
                    ExternalAddress::Ip(ip("192.0.2.1")),
                    ExternalAddress::Hostname("lb.example.com".into()),
                ],
                _ => Vec::new(),
            },
        },
    );
}

/// A small cluster with every kind of object and field the model has.
fn varied_state() -> ClusterState {
    let mut state = ClusterState::default();
    for (name, l) in [
        ("default", labels(&[])),
        (
            "kube-system",
            labels(&[("kubernetes.io/metadata.name", "kube-system")]),
        ),
        ("shop", labels(&[("team", "payments"), ("env", "prod")])),
    ] {
        state.namespaces.insert(
            name.into(),
            Namespace {
                name: name.into(),
                labels: l,
            },
        );
    }
    add_service(
        &mut state,
        "default",
        "kubernetes",
        ServiceKind::ClusterIp(vec![ip("10.96.0.1")]),
    );
    add_service(
        &mut state,
        "shop",
        "web",
        ServiceKind::ClusterIp(vec![ip("10.96.12.7"), ip("fd00:10:96::c07")]),
    );
    add_service(&mut state, "shop", "db", ServiceKind::Headless);
    add_service(
        &mut state,
        "shop",
        "payments",
        ServiceKind::ExternalName("pay.example.com".into()),
    );

    let endpoint = |addr: &str, hostname: Option<&str>, ready: bool, pod: Option<&str>| {
        Endpoint::new(
            [ip(addr)],
            ready,
            hostname.map(Into::into),
            pod.map(Into::into),
        )
    };
    let slices = [
        (
            "shop",
            "db-v4",
            Some("db"),
            AddressType::IPv4,
            vec![
                endpoint("10.244.1.5", Some("db-0"), true, Some("db-0")),
                endpoint("10.244.2.9", Some("db-1"), false, Some("db-1")),
            ],
        ),
        (
            "shop",
            "db-v6",
            Some("db"),
            AddressType::IPv6,
            vec![endpoint(
                "fd00:10:244:1::5",
                Some("db-0"),
                true,
                Some("db-0"),
            )],
        ),
        (
            "shop",
            "web-abcde",
            Some("web"),
            AddressType::IPv4,
            vec![Endpoint::new([ip("10.244.3.3")], true, None, None)],
        ),
        ("shop", "orphan", None, AddressType::Fqdn, vec![]),
    ];
    for (ns, name, service, address_type, endpoints) in slices {
        state.endpoint_slices.insert(
            (ns.into(), name.into()),
            EndpointSlice {
                namespace: ns.into(),
                name: name.into(),
                service: service.map(Into::into),
                address_type,
                endpoints,
                ports: vec![port("pg", "TCP", 5432)].into(),
                multicluster: None,
            },
        );
    }

    let pods = [
        (
            "db-0",
            vec![ip("10.244.1.5"), ip("fd00:10:244:1::5")],
            PodPhase::Running,
            false,
        ),
        ("db-1", vec![ip("10.244.2.9")], PodPhase::Pending, false),
        ("old", vec![], PodPhase::Failed, true),
        ("done", vec![ip("10.244.2.10")], PodPhase::Succeeded, false),
        ("lost", vec![ip("10.244.2.11")], PodPhase::Unknown, true),
    ];
    for (name, ips, phase, deleting) in pods {
        state.pods.insert(
            ("shop".into(), name.into()),
            Pod {
                namespace: "shop".into(),
                name: name.into(),
                ips,
                phase,
                deleting,
            },
        );
    }
    state
}

fn varied_snapshot() -> Snapshot {
    Snapshot {
        written_at_unix_ms: 1_790_000_000_123,
        api_endpoints: vec!["192.168.1.10:6443".into(), "[fd00::10]:6443".into()],
        state: varied_state(),
    }
}

/// A header for `payload` as the format describes it, valid CRC included.
fn with_header(version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(version.to_le_bytes());
    out.extend(crc32fast::hash(payload).to_le_bytes());
    out.extend((payload.len() as u64).to_le_bytes());
    out.extend(payload);
    out
}

#[test]
fn round_trip_keeps_every_object_and_field() {
    let snapshot = varied_snapshot();
    let bytes = encode(&snapshot.as_ref());
    assert_eq!(decode(&bytes), Ok(snapshot));
}

#[test]
fn borrowed_and_owned_snapshots_encode_the_same() {
    let snapshot = varied_snapshot();
    let borrowed = SnapshotRef {
        written_at_unix_ms: snapshot.written_at_unix_ms,
        api_endpoints: &snapshot.api_endpoints,
        state: &snapshot.state,
    };
    let owned = postcard::to_allocvec(&snapshot).unwrap();
    assert_eq!(&encode(&borrowed)[HEADER_LEN..], owned.as_slice());
}

/// Pins the encoding. If this fails, the bytes on disk changed: bump `FORMAT_VERSION` (a Cairn
/// reading an old file must report it incompatible, not misread it), then update the bytes here.
#[test]
fn encoding_is_pinned_to_the_format_version() {
    let mut state = ClusterState::default();
    add_service(&mut state, "ns", "db", ServiceKind::Headless);
    state.endpoint_slices.insert(
        ("ns".into(), "db-1".into()),
        EndpointSlice {
            namespace: "ns".into(),
            name: "db-1".into(),
            service: Some("db".into()),
            address_type: AddressType::IPv6,
            endpoints: vec![Endpoint::new([ip("::1")], true, Some("h".into()), None)
                .with_zone(Some("z".into()))],
            ports: vec![].into(),
            multicluster: Some(crate::cluster::model::MultiClusterSlice {
                service: "db".into(),
                cluster: "east".into(),
            }),
        },
    );
    state.pods.insert(
        ("ns".into(), "p".into()),
        Pod {
            namespace: "ns".into(),
            name: "p".into(),
            ips: vec![ip("10.0.0.1")],
            phase: PodPhase::Running,
            deleting: false,
        },
    );
    state.service_imports.insert(
        ("ns".into(), "db".into()),
        crate::cluster::model::ServiceImport {
            namespace: "ns".into(),
            name: "db".into(),
            kind: crate::cluster::model::ImportKind::ClusterSetIp(vec![ip("10.1.0.1")]),
            ports: vec![port("pg", "TCP", 5432)].into(),
        },
    );
    let snapshot = Snapshot {
        written_at_unix_ms: 300,
        api_endpoints: vec!["a:1".into()],
        state,
    };
    let hex: String = encode(&snapshot.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(FORMAT_VERSION, 5);
    let (header, payload) = hex.split_at(HEADER_LEN * 2);
    // Magic, version 5, CRC, payload length 157 (all little endian). Version 2 dropped the
    // endpoint's zone (DNS never used it); version 3 added the Service's external addresses;
    // version 4 brought the endpoint's zone back (`zonal` answers with it); version 5 added
    // the EndpointSlice's multicluster labels and the ServiceImports (`multicluster`).
    assert_eq!(
        header,
        "434149524e534e50_0500_a8cd6a42_9d00000000000000".replace('_', "")
    );
    assert_eq!(
        payload,
        "ac020103613a310001026e73026462026e730264620102046874747003544350500003554450350101036170\
         700264620001026e730464622d31026e730464622d3101026462010101010000000000000000000000000000\
         0001010168010001017a0001026462046561737401026e730170026e73017001000a000001010001026e7302\
         6462026e730264620001000a0100010102706703544350b82a"
    );
}

#[test]
fn ten_thousand_services_and_a_hundred_thousand_endpoints_fit_in_8_mb() {
    let state = crate::cluster::synthetic::cluster(10_000, 10, 100);
    let endpoints: usize = state
        .endpoint_slices
        .values()
        .map(|s| s.endpoints.len())
        .sum();
    assert_eq!((state.services.len(), endpoints), (10_000, 100_000));
    let api_endpoints = vec!["192.168.1.10:6443".to_string()];
    let snapshot = SnapshotRef {
        written_at_unix_ms: 1,
        api_endpoints: &api_endpoints,
        state: &state,
    };

    let started = Instant::now();
    let bytes = encode(&snapshot);
    let encoded_in = started.elapsed();
    let started = Instant::now();
    let decoded = decode(&bytes).unwrap();
    let decoded_in = started.elapsed();

    eprintln!(
        "10k services / 100k endpoints: {} bytes ({:.2} MB), encode {encoded_in:?}, decode \
         {decoded_in:?}",
        bytes.len(),
        bytes.len() as f64 / 1e6
    );
    assert!(bytes.len() < 8_000_000, "{} bytes", bytes.len());
    assert_eq!(decoded.state.endpoint_slices.len(), 10_000);
}

#[test]
fn each_kind_of_bad_bytes_is_reported_as_such() {
    let good = encode(&varied_snapshot().as_ref());
    let total = good.len() as u64;
    let flipped = {
        let mut b = good.clone();
        b[HEADER_LEN + 40] ^= 0x01;
        b
    };
    let other_version = {
        let mut b = good.clone();
        b[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        b
    };
    let other_magic = {
        let mut b = good.clone();
        b[..8].copy_from_slice(b"CAIRNSNQ");
        b
    };
    let garbage = with_header(FORMAT_VERSION, &[0xff; 32]);
    let left_over = {
        let mut payload = good[HEADER_LEN..].to_vec();
        payload.push(0);
        with_header(FORMAT_VERSION, &payload)
    };
    let longer = {
        let mut b = good.clone();
        b.extend([0, 0, 0]);
        b
    };

    let cases: Vec<(&str, &[u8], FormatError)> = vec![
        (
            "flipped payload bit",
            &flipped,
            FormatError::ChecksumMismatch {
                stored: u32::from_le_bytes(good[10..14].try_into().unwrap()),
                computed: crc32fast::hash(&flipped[HEADER_LEN..]),
            },
        ),
        (
            "cut in the payload",
            &good[..good.len() - 10],
            FormatError::Truncated {
                expected: total,
                found: total - 10,
            },
        ),
        (
            "cut in the header",
            &good[..15],
            FormatError::Truncated {
                expected: HEADER_LEN as u64,
                found: 15,
            },
        ),
        (
            "cut in the magic",
            &good[..5],
            FormatError::Truncated {
                expected: HEADER_LEN as u64,
                found: 5,
            },
        ),
        (
            "empty file",
            &[],
            FormatError::Truncated {
                expected: HEADER_LEN as u64,
                found: 0,
            },
        ),
        (
            "other version",
            &other_version,
            FormatError::IncompatibleVersion {
                found: FORMAT_VERSION + 1,
                expected: FORMAT_VERSION,
            },
        ),
        ("other magic", &other_magic, FormatError::NotASnapshot),
        (
            "some other file",
            b"apiVersion: v1\nkind: List\n",
            FormatError::NotASnapshot,
        ),
        (
            "garbage with a valid header",
            &garbage,
            FormatError::Undecodable(
                "Found a varint that didn't terminate. Is the usize too big for this platform?"
                    .into(),
            ),
        ),
        (
            "payload longer than a snapshot",
            &left_over,
            FormatError::Undecodable("1 byte left over after the snapshot".into()),
        ),
        (
            "bytes after the payload",
            &longer,
            FormatError::TrailingBytes {
                expected: total,
                extra: 3,
            },
        ),
    ];
    for (what, bytes, expected) in cases {
        assert_eq!(decode(bytes), Err(expected), "{what}");
    }
}

#[test]
fn format_errors_read_plainly() {
    let cases = [
        (
            FormatError::IncompatibleVersion {
                found: 7,
                expected: 1,
            },
            "incompatible snapshot format version 7: this Cairn reads version 1",
        ),
        (
            FormatError::Truncated {
                expected: 4096,
                found: 100,
            },
            "truncated snapshot: expected 4096 bytes, found 100",
        ),
        (
            FormatError::ChecksumMismatch {
                stored: 0xdeadbeef,
                computed: 0x1,
            },
            "corrupt snapshot: the payload's checksum is 00000001, the header says deadbeef",
        ),
        (
            FormatError::NotASnapshot,
            "not a Cairn snapshot: the file does not start with \"CAIRNSNP\"",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}
