//! Two gateway nodes on one Postgres and one Redis: fan-out across nodes,
//! Redis flushed and restarted mid-traffic, a node killed mid-traffic. In
//! every case each device ends with every message exactly once, in order.
//!
//! These need Postgres and Redis (a multi-node deployment); they are
//! `#[ignore]`d on the embedded pass and run on the Postgres pass.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use passerelle_client::ws::ServerFrame;
use passerelle_client::{ClientError, Connection};
use passerelle_test_support::{Backend, TestServer};

use crate::common::*;

pub(crate) fn require_postgres() {
    assert_eq!(
        Backend::from_env(),
        Backend::Postgres,
        "multi-node tests need a shared Postgres: run with PASSERELLE_TEST_BACKEND=postgres"
    );
}

/// A `redis-server` of the test's own on a free loopback port; killed on drop.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = OwnRedis { port, child: None };
        r.restart();
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn flush(&self) {
        let ok = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "FLUSHALL"])
            .status()
            .expect("redis-cli");
        assert!(ok.success());
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A receiving device that keeps reading, acks, and can move to another
/// node: every message it received, by sequence, and the sequences of its
/// other stream events (e.g. `devices` when its user signed in another
/// device).
struct Receiver {
    device: Device,
    conn: Option<Connection>,
    got: BTreeMap<u64, uuid::Uuid>,
    others: std::collections::BTreeSet<u64>,
    duplicates: usize,
}

impl Receiver {
    async fn connect(s: &TestServer, device: Device) -> Receiver {
        let (conn, replayed) = ws_resumed(s, &device, Some(0)).await;
        let mut r = Receiver {
            device,
            conn: Some(conn),
            got: BTreeMap::new(),
            others: std::collections::BTreeSet::new(),
            duplicates: 0,
        };
        for f in replayed {
            r.take(f);
        }
        r
    }

    fn take(&mut self, frame: ServerFrame) {
        let duplicate = match frame {
            ServerFrame::Message { seq, payload } => {
                self.got.insert(seq, payload.message_id).is_some()
            }
            other => other.seq().is_some_and(|seq| !self.others.insert(seq)),
        };
        if duplicate {
            self.duplicates += 1;
        }
    }

    fn last(&self) -> u64 {
        let messages = self.got.keys().next_back().copied().unwrap_or(0);
        let others = self.others.iter().next_back().copied().unwrap_or(0);
        messages.max(others)
    }

    /// Reads for up to `d`; returns false when the connection ended.
    async fn pump(&mut self, d: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                let last = self.last();
                if let Some(conn) = self.conn.as_mut() {
                    let _ = conn.ack(last).await;
                }
                return true;
            }
            let Some(conn) = self.conn.as_mut() else {
                return false;
            };
            match conn.next_timeout(left).await {
                Ok(Some(frame)) => self.take(frame),
                Ok(None) => {}
                Err(ClientError::Closed { .. })
                | Err(ClientError::Io(_))
                | Err(ClientError::Protocol(_)) => {
                    self.conn = None;
                    return false;
                }
                Err(e) => panic!("receiver: {e}"),
            }
        }
    }

    /// Reconnects to `s` and resumes after the last sequence received.
    async fn resume_on(&mut self, s: &TestServer) {
        let (conn, replayed) = ws_resumed(s, &self.device, Some(self.last())).await;
        self.conn = Some(conn);
        for f in replayed {
            self.take(f);
        }
    }

    /// Asserts it holds exactly `expected` (in send order), once each, with
    /// contiguous sequences.
    fn check(&self, expected: &[uuid::Uuid]) {
        assert_eq!(self.duplicates, 0, "no duplicates");
        let mut seqs: Vec<u64> = self.got.keys().copied().collect();
        seqs.extend(self.others.iter().copied());
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=(expected.len() + self.others.len()) as u64).collect::<Vec<_>>(),
            "every sequence, no gap"
        );
        let ids: Vec<uuid::Uuid> = self.got.values().copied().collect();
        assert_eq!(ids, expected, "every message, in send order");
    }
}

/// Sends `n` messages to `to` from `conn`, each waiting for its `sent`
/// (a node may refuse while a dependency is down: the same frame is then
/// sent again, which the idempotent send path answers once).
async fn send_all(conn: &mut Connection, to: &str, n: usize, pause: Duration) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let m = message_to(to);
        conn.send_message(m.clone()).await.unwrap();
        loop {
            match next(conn).await {
                ServerFrame::Sent { payload, .. } if payload.message_id == m.message_id => break,
                ServerFrame::Error { payload, .. } => {
                    assert_eq!(
                        payload.code,
                        passerelle_client::ws::FrameErrorCode::Unavailable,
                        "{}",
                        payload.message
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    conn.send_message(m.clone()).await.unwrap();
                }
                // Receipts and duplicate `sent`s of earlier resends.
                _ => {}
            }
        }
        ids.push(m.message_id);
        tokio::time::sleep(pause).await;
    }
    ids
}

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn a_user_on_one_node_receives_on_every_device_what_a_user_on_the_other_sent() {
    require_postgres();
    let a = server().await;
    let b = builder().same_deployment_as(&a).spawn().await;
    let alice1 = register(&a, "mn_alice").await;
    let alice2 = login_ok(&b, "mn_alice").await;
    let bob1 = register(&b, "mn_bob").await;
    let bob2 = login_ok(&a, "mn_bob").await;
    // alice1 on A, alice2 on B; bob1 on B, bob2 on A.
    let (mut ca1, _) = ws_resumed(&a, &alice1, None).await;
    let (mut ca2, _) = ws_resumed(&b, &alice2, None).await;
    let (mut cb1, _) = ws_resumed(&b, &bob1, None).await;
    let (mut cb2, _) = ws_resumed(&a, &bob2, None).await;
    let ids = send_all(&mut ca1, &bob1.user_id, 20, Duration::ZERO).await;
    for conn in [&mut cb1, &mut cb2, &mut ca2] {
        let mut got = Vec::new();
        while got.len() < ids.len() {
            if let ServerFrame::Message { payload, .. } = next(conn).await {
                got.push(payload.message_id);
            }
        }
        assert_eq!(got, ids);
        quiet(conn, 300).await;
    }
    // And back the other way, bob on B to alice.
    let back = send_all(&mut cb1, &alice1.user_id, 5, Duration::ZERO).await;
    for conn in [&mut ca1, &mut ca2] {
        let mut got = Vec::new();
        while got.len() < back.len() {
            if let ServerFrame::Message { payload, .. } = next(conn).await {
                got.push(payload.message_id);
            }
        }
        assert_eq!(got, back);
    }
    // Revoking alice2 through node A closes its session on node B at once.
    let started = std::time::Instant::now();
    let path = format!("/v1/devices/{}", alice2.device_id);
    let resp = authed(&a, reqwest::Method::DELETE, &path, &alice1.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        closed_with(&mut ca2).await,
        passerelle_client::ws::close::REVOKED
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn redis_flushed_and_restarted_mid_traffic_loses_nothing() {
    require_postgres();
    let mut redis = OwnRedis::start();
    let a = builder().env("REDIS_URL", redis.url()).spawn().await;
    let b = builder()
        .same_deployment_as(&a)
        .env("REDIS_URL", redis.url())
        .spawn()
        .await;
    let alice = register(&a, "rr_alice").await;
    let bob1 = register(&b, "rr_bob").await;
    let bob2 = login_ok(&b, "rr_bob").await;
    let (mut sender, _) = ws_resumed(&a, &alice, None).await;
    let mut r1 = Receiver::connect(&b, bob1.clone()).await;
    let mut r2 = Receiver::connect(&a, bob2.clone()).await;

    let mut ids = send_all(&mut sender, &bob1.user_id, 40, Duration::from_millis(5)).await;
    redis.flush();
    ids.extend(send_all(&mut sender, &bob1.user_id, 40, Duration::from_millis(5)).await);
    for r in [&mut r1, &mut r2] {
        r.pump(Duration::from_millis(200)).await;
    }
    redis.stop();
    // Sending goes on while Redis is down: Postgres is the record.
    ids.extend(send_all(&mut sender, &bob1.user_id, 40, Duration::from_millis(5)).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.restart();
    ids.extend(send_all(&mut sender, &bob1.user_id, 40, Duration::from_millis(5)).await);
    // Nodes resubscribe by themselves and sessions catch up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for r in [&mut r1, &mut r2] {
        while r.got.len() < ids.len() && tokio::time::Instant::now() < deadline {
            assert!(
                r.pump(Duration::from_millis(200)).await,
                "the session survived the Redis restart"
            );
        }
        r.check(&ids);
    }
    // Both nodes noticed the lost link, re-made their subscriptions and told
    // their sessions to resync (within a bound).
    for node in [&a, &b] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let resyncs = metric(node, "passerelle_fanout_resyncs_total").await;
            if resyncs >= 1.0 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no resync on {}",
                node.addr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // And live delivery works again through the restarted Redis.
    let after = send_all(&mut sender, &bob1.user_id, 5, Duration::ZERO).await;
    ids.extend(after);
    for r in [&mut r1, &mut r2] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while r.got.len() < ids.len() && tokio::time::Instant::now() < deadline {
            assert!(r.pump(Duration::from_millis(100)).await);
        }
        r.check(&ids);
    }
}

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn a_killed_node_s_clients_resume_on_the_other_node_with_nothing_lost() {
    require_postgres();
    let mut a = server().await;
    let b = builder().same_deployment_as(&a).spawn().await;
    let alice = register(&b, "nk_alice").await;
    let bob1 = register(&a, "nk_bob").await;
    let bob2 = login_ok(&a, "nk_bob").await;
    let (mut sender, _) = ws_resumed(&b, &alice, None).await;
    let mut r1 = Receiver::connect(&a, bob1.clone()).await;
    let mut r2 = Receiver::connect(&a, bob2.clone()).await;

    let to = bob1.user_id.clone();
    let sending = tokio::spawn(async move {
        let ids = send_all(&mut sender, &to, 150, Duration::from_millis(10)).await;
        (sender, ids)
    });
    for r in [&mut r1, &mut r2] {
        r.pump(Duration::from_millis(300)).await;
    }
    a.kill().await;
    // The clients notice and move to the surviving node.
    for r in [&mut r1, &mut r2] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while r.pump(Duration::from_millis(100)).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the dead node's session must end"
            );
        }
        r.resume_on(&b).await;
    }
    let (_sender, ids) = sending.await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for r in [&mut r1, &mut r2] {
        while r.got.len() < ids.len() && tokio::time::Instant::now() < deadline {
            assert!(r.pump(Duration::from_millis(200)).await);
        }
        r.check(&ids);
    }
}
