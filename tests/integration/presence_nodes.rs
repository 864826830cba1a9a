//! Presence across gateway nodes (Postgres + Redis): a user on one node is
//! seen online and offline by watchers on another, through one message per
//! node; when a node is killed, its users go offline for watchers elsewhere
//! within the documented bound (three node heartbeats, one sweep, the
//! presence sweep), and coming back on another node shows them online
//! again.
//!
//! These need a shared Postgres and Redis; they are `#[ignore]`d on the
//! embedded pass and run on the Postgres pass, like `multinode.rs`.

use std::time::{Duration, Instant};

use passerelle_client::ws::SessionPresence;
use passerelle_test_support::TestServer;

use crate::common::*;
use crate::multinode::require_postgres;
use crate::presence::{befriend, expect_presence};

async fn node(first: Option<&TestServer>) -> TestServer {
    let mut b = builder()
        .env("PASSERELLE__ROOMS__HEARTBEAT_SECS", "1")
        .env("PASSERELLE__PRESENCE__OFFLINE_GRACE_MS", "500")
        .env("PASSERELLE__PRESENCE__SWEEP_INTERVAL_MS", "100");
    if let Some(first) = first {
        b = b.same_deployment_as(first);
    }
    b.spawn().await
}

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn watchers_on_another_node_see_transitions_and_a_killed_node_s_users_go_offline() {
    require_postgres();
    let mut a = node(None).await;
    let b = node(Some(&a)).await;
    let alice = register(&a, "pn_alice").await;
    let alice2 = login_ok(&a, "pn_alice").await;
    let bob = register(&b, "pn_bob").await;
    let bob2 = login_ok(&b, "pn_bob").await;
    befriend(&a, &alice, &bob).await;
    // Bob has one session on each node: each gets the frame once.
    let mut b1 = ws(&b, &bob).await;
    let mut b2 = ws(&a, &bob2).await;

    // Alice on node A, then her second device on node B.
    let mut a1 = ws(&a, &alice).await;
    expect_presence(&mut [&mut b1, &mut b2], &alice, "online").await;
    let mut a2 = ws(&b, &alice2).await;
    a1.set_presence(SessionPresence::Away).await.expect("away");
    a2.set_presence(SessionPresence::Away).await.expect("away");
    expect_presence(&mut [&mut b1, &mut b2], &alice, "away").await;
    a2.close().await.ok();
    quiet(&mut b1, 800).await;

    // Node A dies without a word with Alice's remaining session (and
    // Bob's second): Bob's session on node B sees her go offline through
    // the sweeps. With a 1 s heartbeat the bound is 3 + 1 s for the node,
    // plus the presence sweep: well under 10 s.
    let killed = Instant::now();
    a.kill().await;
    let offline = expect_presence(&mut [&mut b1], &alice, "offline").await;
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(10), "offline after {took:?}");
    assert!(offline[0].last_seen_at.is_some());
    quiet(&mut b1, 500).await;

    // She comes back on node B: online again.
    let _a3 = ws(&b, &alice).await;
    expect_presence(&mut [&mut b1], &alice, "online").await;
    drop(a1);
}
