//! Helpers of the tests that need Redis: the server's URL, a namespace per
//! test, a private `redis-server` that is always killed, and bounded waits.

#![allow(dead_code, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use passerelle_bus::FanoutEvent;
use tokio::sync::mpsc;
use uuid::Uuid;

/// The shared test Redis (`PASSERELLE_TEST_REDIS_URL`, default local).
pub fn redis_url() -> String {
    std::env::var("PASSERELLE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A namespace no other test (or run) uses.
pub fn namespace() -> String {
    format!("test-{}", Uuid::new_v4().simple())
}

/// A `redis-server` child on a loopback port, killed on drop (even when the
/// test panics).
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// A port that was free a moment ago.
    pub fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        listener.local_addr().expect("local addr").port()
    }

    /// Starts a server on `port` and waits (at most 5 s) until it accepts.
    pub fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be on PATH");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next event, or a panic after `within`.
pub async fn next_event(rx: &mut mpsc::Receiver<FanoutEvent>, within: Duration) -> FanoutEvent {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("no fan-out event in time")
        .expect("fan-out queue closed")
}

/// Waits (bounded) for a `Resync`, skipping deliveries.
pub async fn wait_resync(rx: &mut mpsc::Receiver<FanoutEvent>, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if next_event(rx, left).await == FanoutEvent::Resync {
            return;
        }
    }
}

/// Asserts that nothing arrives for `quiet`.
pub async fn expect_silence(rx: &mut mpsc::Receiver<FanoutEvent>, quiet: Duration) {
    if let Ok(event) = tokio::time::timeout(quiet, rx.recv()).await {
        panic!("expected no fan-out event, got {event:?}");
    }
}
