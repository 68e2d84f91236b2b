//! The snapshot's bytes: a fixed header followed by a postcard payload.
//!
//! It owns the layout and its checks, and nothing else: no files, no clocks, no logging.
//!
//! ```text
//! offset  size  field
//!      0     8  magic, b"CAIRNSNP"
//!      8     2  format version, u16 little endian (FORMAT_VERSION)
//!     10     4  CRC-32 (IEEE) of the payload, u32 little endian
//!     14     8  payload length in bytes, u64 little endian
//!     22     n  payload: a `Snapshot` in postcard (serde, varint integers)
//! ```
//!
//! The version is read right after the magic, before anything else in the header, so a later
//! format may change the rest of the header and still be reported as "incompatible" here.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cluster::model::ClusterState;

/// The first bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"CAIRNSNP";

/// The version this build writes and the only one it reads. Bump it whenever the encoding of
/// [`Snapshot`] changes, which includes any field or variant change in `cluster::model`.
pub const FORMAT_VERSION: u16 = 5;

/// Bytes before the payload: magic, version, CRC, length.
pub const HEADER_LEN: usize = 8 + 2 + 4 + 8;

const VERSION_AT: usize = 8;
const CRC_AT: usize = 10;
const LEN_AT: usize = 14;

/// What a snapshot holds: the cluster state and the API server addresses Cairn had learned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the snapshot was encoded, in milliseconds since the Unix epoch.
    pub written_at_unix_ms: u64,
    /// API server addresses as `host:port` (e.g. `192.168.1.10:6443`), kept as given.
    pub api_endpoints: Vec<String>,
    pub state: ClusterState,
}

impl Snapshot {
    /// Borrows this snapshot for [`encode`].
    pub fn as_ref(&self) -> SnapshotRef<'_> {
        SnapshotRef {
            written_at_unix_ms: self.written_at_unix_ms,
            api_endpoints: &self.api_endpoints,
            state: &self.state,
        }
    }
}

/// A [`Snapshot`] made of borrowed parts, so that encoding a large state does not clone it.
/// It serializes to exactly the same bytes as the owned `Snapshot` with the same contents.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SnapshotRef<'a> {
    pub written_at_unix_ms: u64,
    pub api_endpoints: &'a [String],
    pub state: &'a ClusterState,
}

/// Why bytes are not a snapshot this build can use. The messages are shown to operators (logs,
/// `/status`); the caller adds the file's path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    #[error("not a Cairn snapshot: the file does not start with \"CAIRNSNP\"")]
    NotASnapshot,
    #[error("incompatible snapshot format version {found}: this Cairn reads version {expected}")]
    IncompatibleVersion { found: u16, expected: u16 },
    #[error("truncated snapshot: expected {expected} bytes, found {found}")]
    Truncated { expected: u64, found: u64 },
    #[error(
        "corrupt snapshot: the payload's checksum is {computed:08x}, the header says {stored:08x}"
    )]
    ChecksumMismatch { stored: u32, computed: u32 },
    #[error("corrupt snapshot: the payload does not decode: {0}")]
    Undecodable(String),
    #[error(
        "corrupt snapshot: {extra} unexpected bytes after the payload (expected {expected} bytes \
         in all)"
    )]
    TrailingBytes { expected: u64, extra: u64 },
}

/// The snapshot's bytes, header included, ready to be written to a file.
pub fn encode(snapshot: &SnapshotRef<'_>) -> Vec<u8> {
    let out = vec![0; HEADER_LEN];
    // postcard fails only for sequences of unknown length, `collect_str` errors and custom
    // `Serialize` errors, and a `Vec` never runs out of room. The payload is plain derived structs,
    // `BTreeMap`s, `Vec`s, strings and `IpAddr`s, so none of those can happen.
    let mut out =
        postcard::to_extend(snapshot, out).expect("postcard cannot fail on the snapshot types");
    let payload_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    out[..VERSION_AT].copy_from_slice(&MAGIC);
    out[VERSION_AT..CRC_AT].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[CRC_AT..LEN_AT].copy_from_slice(&crc.to_le_bytes());
    out[LEN_AT..HEADER_LEN].copy_from_slice(&payload_len.to_le_bytes());
    out
}

/// Checks the header and the checksum, then decodes the payload.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, FormatError> {
    let found = bytes.len() as u64;
    let truncated = |expected: u64| FormatError::Truncated { expected, found };

    // A file cut inside the magic is truncated; anything else that does not start with it is
    // not ours.
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(FormatError::NotASnapshot);
    }
    let Some(version) = bytes.get(VERSION_AT..CRC_AT) else {
        return Err(truncated(HEADER_LEN as u64));
    };
    let version = u16::from_le_bytes([version[0], version[1]]);
    if version != FORMAT_VERSION {
        return Err(FormatError::IncompatibleVersion {
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(truncated(HEADER_LEN as u64));
    };
    let stored_crc = u32::from_le_bytes(le_array(&header[CRC_AT..LEN_AT]));
    let payload_len = u64::from_le_bytes(le_array(&header[LEN_AT..HEADER_LEN]));
    let expected = payload_len.saturating_add(HEADER_LEN as u64);
    if found < expected {
        return Err(truncated(expected));
    }
    if found > expected {
        return Err(FormatError::TrailingBytes {
            expected,
            extra: found - expected,
        });
    }

    let payload = &bytes[HEADER_LEN..];
    let computed = crc32fast::hash(payload);
    if computed != stored_crc {
        return Err(FormatError::ChecksumMismatch {
            stored: stored_crc,
            computed,
        });
    }
    match postcard::take_from_bytes::<Snapshot>(payload) {
        Ok((snapshot, [])) => Ok(snapshot),
        Ok((_, [_])) => Err(FormatError::Undecodable(
            "1 byte left over after the snapshot".into(),
        )),
        Ok((_, rest)) => Err(FormatError::Undecodable(format!(
            "{} bytes left over after the snapshot",
            rest.len()
        ))),
        Err(e) => Err(FormatError::Undecodable(e.to_string())),
    }
}

/// Copies a header field (its length is fixed by the offsets above) into an array.
fn le_array<const N: usize>(field: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(field);
    out
}
