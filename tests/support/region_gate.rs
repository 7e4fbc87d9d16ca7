//! A loopback HTTP relay in front of the local AWS endpoint that fails every request
//! signed for one region (HTTP 503, as a regional outage looks), and passes every
//! other request through unchanged. It stands for "one region's endpoint is down".
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

pub struct RegionGate {
    pub port: u16,
    pub failed_requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl RegionGate {
    /// Relays to `upstream` (host:port); fails requests whose SigV4 scope names `region`.
    pub fn start(upstream: String, region: &str) -> RegionGate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failed_requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let scope = format!("/{region}/");
        let (failed, stopped) = (failed_requests.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (upstream, scope, failed) = (upstream.clone(), scope.clone(), failed.clone());
                thread::spawn(move || {
                    let _ = relay(stream, &upstream, &scope, &failed);
                });
            }
        });
        RegionGate {
            port,
            failed_requests,
            stop,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for RegionGate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Handles requests on one client connection until it closes.
fn relay(
    client: TcpStream,
    upstream: &str,
    scope: &str,
    failed: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    loop {
        let mut head = Vec::new();
        let mut content_length = 0usize;
        let mut fail = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                content_length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("authorization:") && line.contains(scope) {
                fail = true;
            }
            let end = line == "\r\n";
            head.extend_from_slice(line.as_bytes());
            if end {
                break;
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        if fail {
            failed.fetch_add(1, Ordering::SeqCst);
            let message = b"<Response><Errors><Error><Code>ServiceUnavailable</Code><Message>region down</Message></Error></Errors></Response>";
            write!(
                client,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                message.len()
            )?;
            client.write_all(message)?;
            continue;
        }
        // One upstream connection per request, closed by the upstream after answering.
        let mut up = TcpStream::connect(upstream)?;
        let head: String = String::from_utf8_lossy(&head)
            .split_inclusive("\r\n")
            .filter(|line| !line.to_ascii_lowercase().starts_with("connection:") && *line != "\r\n")
            .collect();
        up.write_all(head.as_bytes())?;
        up.write_all(b"Connection: close\r\n\r\n")?;
        up.write_all(&body)?;
        let mut response = Vec::new();
        up.read_to_end(&mut response)?;
        client.write_all(&response)?;
    }
}
