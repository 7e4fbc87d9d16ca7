//! A loopback HTTP relay in front of the local AWS endpoint that faults every request
//! signed for one region (HTTP 503, as a regional outage looks) or naming one API
//! action (no answer at all, as a hung endpoint behaves), and passes every other
//! request through unchanged. Also a server that accepts connections and never
//! answers: an endpoint that hangs for every call.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// Which requests the relay faults, and how.
#[derive(Clone)]
enum Fault {
    /// Requests signed for this region get HTTP 503.
    RegionDown(String),
    /// Requests for this action (`Action=NAME` in a query-protocol body) get no answer.
    ActionHangs(String),
}

pub struct RegionGate {
    pub port: u16,
    pub failed_requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl RegionGate {
    /// Relays to `upstream` (host:port); fails requests whose SigV4 scope names `region`.
    pub fn start(upstream: String, region: &str) -> RegionGate {
        RegionGate::relay(upstream, Fault::RegionDown(format!("/{region}/")))
    }

    /// Relays to `upstream`; never answers a request for `action` (e.g.
    /// `DescribeSecurityGroupRules`), holding its connection open.
    pub fn hang_action(upstream: String, action: &str) -> RegionGate {
        RegionGate::relay(upstream, Fault::ActionHangs(format!("Action={action}&")))
    }

    fn relay(upstream: String, fault: Fault) -> RegionGate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failed_requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (failed, stopped) = (failed_requests.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (upstream, fault, failed) = (upstream.clone(), fault.clone(), failed.clone());
                thread::spawn(move || {
                    let _ = relay(stream, &upstream, &fault, &failed);
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
    fault: &Fault,
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
            if let Fault::RegionDown(scope) = fault
                && lower.starts_with("authorization:")
                && line.contains(scope.as_str())
            {
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
        if let Fault::ActionHangs(action) = fault
            && String::from_utf8_lossy(&body).contains(action.as_str())
        {
            failed.fetch_add(1, Ordering::SeqCst);
            // Hold the connection without a word until the client gives up.
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            return Ok(());
        }
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

/// Accepts every connection and never answers: a hung endpoint. The connections it
/// holds are closed when it is dropped.
pub struct Silent {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counted, stopped) = (connections.clone(), stop.clone());
        thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Silent {
            port,
            connections,
            stop,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// How long a test waits for a process that must not hang before calling it hung.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);
