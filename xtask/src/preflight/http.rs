//! A few lines of HTTP/1.0 over a `TcpStream`, for the one thing xtask asks a plain-HTTP
//! registry directly (`credentials`): a GET with an optional `Authorization`, bounded in time
//! and size. No TLS: xtask's dependencies have no TLS client, and HTTPS registries are left to
//! docker.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// An HTTP answer: status, headers (names lower-cased), body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// The most of an answer read (a `/v2/` answer or a token is a few KB).
const MAX_ANSWER: u64 = 256 * 1024;

/// `GET path` on plain-HTTP `host` within `deadline`. HTTP/1.0, so the answer is never
/// chunked and ends when the server closes.
pub fn get(
    host: &str,
    path: &str,
    auth: Option<&str>,
    deadline: Duration,
) -> Result<Response, String> {
    let started = Instant::now();
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} does not resolve"))?;
    let left = || {
        deadline
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1))
    };
    let mut s = TcpStream::connect_timeout(&addr, left())
        .map_err(|e| format!("cannot connect to {host}: {e}"))?;
    let _ = s.set_read_timeout(Some(left()));
    let _ = s.set_write_timeout(Some(left()));
    let mut req = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: xtask\r\n");
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .map_err(|e| format!("{host}: {e}"))?;
    let mut raw = Vec::new();
    s.take(MAX_ANSWER)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{host} did not answer in time: {e}"))?;
    parse(&String::from_utf8_lossy(&raw)).ok_or_else(|| format!("{host} did not answer HTTP"))
}

fn parse(text: &str) -> Option<Response> {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: body.to_string(),
    })
}
