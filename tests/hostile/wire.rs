//! A raw HTTP/1.1 client: hostile requests are bytes on a socket, answers are parsed by hand.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct RawAnswer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl RawAnswer {
    pub fn parse(bytes: &[u8]) -> Option<RawAnswer> {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.lines();
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let body = match headers.get("transfer-encoding") {
            Some(te) if te.contains("chunked") => dechunk(body),
            _ => body.to_string(),
        };
        Some(RawAnswer {
            status,
            headers,
            body,
        })
    }
}

pub fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Sends `bytes` and reads until ponte closes the connection (requests say `Connection: close`).
pub async fn exchange(addr: &str, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A peer that stops reading early (431 on a huge head) may reset the rest of the write.
    let _ = stream.write_all(bytes).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "ponte neither answered nor closed in 10 s");
    out
}

pub async fn exchange_or_nothing(addr: &str) -> Vec<u8> {
    match TcpStream::connect(addr).await {
        Ok(_) => exchange(addr, &get("/_ponte/health")).await,
        Err(_) => Vec::new(),
    }
}

pub fn request(method: &str, target: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub fn get(target: &str) -> Vec<u8> {
    request("GET", target, &[], b"")
}

pub fn json(body: &[u8]) -> Vec<u8> {
    post("application/json", body)
}

pub fn post(content_type: &str, body: &[u8]) -> Vec<u8> {
    request(
        "POST",
        "/shop/echo",
        &[("Content-Type", content_type.to_string())],
        body,
    )
}

pub fn with_headers(target: &str, headers: Vec<(&'static str, String)>) -> Vec<u8> {
    request("GET", target, &headers, b"")
}

pub fn many_headers(n: usize) -> Vec<(&'static str, String)> {
    (0..n).map(|_| ("X-Filler", "y".repeat(20))).collect()
}

pub fn nested(depth: usize) -> Vec<u8> {
    format!("{{\"name\": {}1{}}}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}
