//! A deliberately dumb HTTP/1.1 client over `std::net` for the apisim tests: it sees exactly
//! the bytes the server writes, so it can tell a clean end of a chunked watch from an abort.

#![allow(dead_code)] // each test crate uses a different part of the harness

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use apisim::ApiServer;
use serde_json::{json, Value};

/// Upper bound for anything that must happen.
pub const TIMEOUT: Duration = Duration::from_secs(5);

pub fn server() -> ApiServer {
    ApiServer::start_background("127.0.0.1:0".parse().unwrap()).expect("start apisim")
}

pub fn service(ns: &str, name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    })
}

fn connect(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').expect("header");
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    (status, headers)
}

/// One request; returns the status and the JSON body.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut reader = BufReader::new(connect(addr, method, path, body));
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut bytes = Vec::new();
    if chunked {
        let mut decoder = Chunks { reader };
        while let Chunk::Data(data) = decoder.next_chunk() {
            bytes.extend(data);
        }
    } else {
        reader.read_to_end(&mut bytes).expect("body");
    }
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

pub fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    request(addr, "GET", path, None)
}

enum Chunk {
    Data(Vec<u8>),
    /// The terminating zero-length chunk.
    End,
    /// The connection closed before the terminating chunk.
    Aborted,
    Timeout,
}

struct Chunks {
    reader: BufReader<TcpStream>,
}

impl Chunks {
    fn next_chunk(&mut self) -> Chunk {
        let mut size_line = String::new();
        match self.reader.read_line(&mut size_line) {
            Ok(0) => return Chunk::Aborted,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Chunk::Timeout
            }
            Err(_) => return Chunk::Aborted,
        }
        let size = usize::from_str_radix(size_line.trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
        let mut data = vec![0; size + 2];
        if self.reader.read_exact(&mut data).is_err() {
            return Chunk::Aborted;
        }
        data.truncate(size);
        if size == 0 {
            Chunk::End
        } else {
            Chunk::Data(data)
        }
    }
}

/// What a watch stream produced next.
#[derive(Debug, PartialEq)]
pub enum Next {
    Event(Value),
    /// Clean end: the terminating chunk arrived.
    End,
    /// The connection closed without the terminating chunk.
    Aborted,
    Timeout,
}

/// A watch response read event by event.
pub struct Watch {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    chunks: Chunks,
    pending: Vec<u8>,
}

impl Watch {
    pub fn open(addr: SocketAddr, path: &str) -> Watch {
        let mut reader = BufReader::new(connect(addr, "GET", path, None));
        let (status, headers) = read_head(&mut reader);
        Watch {
            status,
            headers,
            chunks: Chunks { reader },
            pending: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The next event, or how the stream ended, waiting at most `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                let value = serde_json::from_slice(&line).unwrap_or_else(|e| {
                    panic!(
                        "watch line is not JSON ({e}): {}",
                        String::from_utf8_lossy(&line)
                    )
                });
                return Next::Event(value);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::Timeout;
            }
            let socket = self.chunks.reader.get_ref();
            socket.set_read_timeout(Some(left)).unwrap();
            match self.chunks.next_chunk() {
                Chunk::Data(data) => self.pending.extend(data),
                Chunk::End => return Next::End,
                Chunk::Aborted => return Next::Aborted,
                Chunk::Timeout => return Next::Timeout,
            }
        }
    }

    /// The next event that is not a BOOKMARK.
    pub fn next_change(&mut self, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Next::Event(e) if e["type"] == "BOOKMARK" => continue,
                other => return other,
            }
        }
    }

    /// The next event, which must be one (not an end or a timeout).
    pub fn event(&mut self) -> Value {
        match self.next_change(TIMEOUT) {
            Next::Event(e) => e,
            other => panic!("expected a watch event, got {other:?}"),
        }
    }
}

/// `(type, namespace/name)` of a watch event, for compact assertions.
pub fn summary(event: &Value) -> (String, String) {
    let meta = &event["object"]["metadata"];
    let name = match meta["namespace"].as_str() {
        Some(ns) => format!("{ns}/{}", meta["name"].as_str().unwrap_or("")),
        None => meta["name"].as_str().unwrap_or("").to_string(),
    };
    (event["type"].as_str().unwrap_or("").to_string(), name)
}

pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["metadata"]["namespace"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}
