//! Link rooms across gateway nodes (Postgres + Redis): participants on
//! different nodes see each other and each other's messages; a killed
//! node's participants are taken out of their rooms by the others'
//! heartbeat sweep (and a room left empty is deleted); a node stopped with
//! SIGTERM takes its participants out at once as its sessions close.
//!
//! These need a shared Postgres and Redis; they are `#[ignore]`d on the
//! embedded pass and run on the Postgres pass, like `multinode.rs`.

use std::time::Duration;

use passerelle_client::ws::{ClientFrame, EnterRoom, FrameErrorCode, RoomChange, ServerFrame};
use reqwest::{Method, StatusCode};

use crate::common::*;
use crate::link_rooms::{enter, expect_room, leave, new_room, next_error};
use crate::multinode::require_postgres;

/// Waits until `path` answers 404 to `d` on `s` (within 10 s).
async fn until_gone(s: &passerelle_test_support::TestServer, d: &Device, path: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let resp = call(s, d, Method::GET, path, None).await;
        if resp.status() == StatusCode::NOT_FOUND {
            return;
        }
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(tokio::time::Instant::now() < deadline, "{path} still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn participants_on_two_nodes_meet_and_a_killed_node_s_leave_through_the_sweep() {
    require_postgres();
    let mut a = builder()
        .env("PASSERELLE__ROOMS__HEARTBEAT_SECS", "1")
        .spawn()
        .await;
    let b = builder()
        .same_deployment_as(&a)
        .env("PASSERELLE__ROOMS__HEARTBEAT_SECS", "1")
        .spawn()
        .await;
    let alice = register(&a, "ln_alice").await;
    let bob = register(&b, "ln_bob").await;
    let carol = register(&a, "ln_carol").await;
    let (link, id, _) = new_room(&a, &alice).await;
    let (lonely, lonely_id, _) = new_room(&b, &carol).await;
    let (mut ca, _) = ws_resumed(&a, &alice, None).await;
    let (mut cb, _) = ws_resumed(&b, &bob, None).await;
    let (mut cc, _) = ws_resumed(&a, &carol, None).await;

    // Alice on node A, bob on node B: each sees the other arrive.
    enter(&mut ca, link).await;
    expect_room(&mut [&mut ca], &id, RoomChange::Joined, &alice.user_id).await;
    let entered = enter(&mut cb, link).await;
    assert_eq!(entered.participants.len(), 2);
    expect_room(
        &mut [&mut ca, &mut cb],
        &id,
        RoomChange::Joined,
        &bob.user_id,
    )
    .await;
    // Messages cross the nodes both ways.
    let m = message_in(&id);
    ca.send_message(m.clone()).await.unwrap();
    assert!(matches!(next(&mut ca).await, ServerFrame::Sent { .. }));
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Message { payload, .. } if payload.message_id == m.message_id)
    );
    let m = message_in(&id);
    cb.send_message(m.clone()).await.unwrap();
    assert!(matches!(next(&mut cb).await, ServerFrame::Sent { .. }));
    assert!(
        matches!(next(&mut ca).await, ServerFrame::Message { payload, .. } if payload.message_id == m.message_id)
    );
    // Carol is alone in another room, on node A.
    enter(&mut cc, lonely).await;

    // Node A dies without a word. Node B's sweep notices (three missed
    // heartbeats), takes alice out and tells bob, and deletes carol's room.
    a.kill().await;
    expect_room(&mut [&mut cb], &id, RoomChange::Left, &alice.user_id).await;
    assert_eq!(member_ids(&b, &bob, &id).await, vec![bob.user_id.clone()]);
    until_gone(&b, &carol, &format!("/v1/conversations/{lonely_id}")).await;
    cb.send(
        &ClientFrame::EnterRoom(EnterRoom { link: lonely }),
        Some("gone"),
    )
    .await
    .unwrap();
    assert_eq!(next_error(&mut cb, "gone").await, FrameErrorCode::NotFound);
    assert!(
        metric(
            &b,
            "passerelle_link_rooms_deleted_total{reason=\"node_lost\"}"
        )
        .await
            >= 1.0
    );
    assert!(metric(&b, "passerelle_room_presence_swept_total").await >= 2.0);

    // Alice reconnects to node B and enters again; bob then leaves, and
    // alice, last, closes the room.
    let (mut ca, _) = ws_resumed(&b, &alice, None).await;
    let entered = enter(&mut ca, link).await;
    assert_eq!(entered.participants.len(), 2);
    expect_room(
        &mut [&mut ca, &mut cb],
        &id,
        RoomChange::Joined,
        &alice.user_id,
    )
    .await;
    assert!(!leave(&mut cb, &id).await.closed);
    expect_room(&mut [&mut ca, &mut cb], &id, RoomChange::Left, &bob.user_id).await;
    assert!(leave(&mut ca, &id).await.closed);
    until_gone(&b, &alice, &format!("/v1/conversations/{id}")).await;
}

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn a_stopping_node_takes_its_participants_out_at_once() {
    require_postgres();
    let mut a = builder()
        .env("PASSERELLE__SERVER__SHUTDOWN_TIMEOUT_SECS", "5")
        .spawn()
        .await;
    let b = builder().same_deployment_as(&a).spawn().await;
    let alice = register(&a, "ls_alice").await;
    let bob = register(&b, "ls_bob").await;
    let carol = register(&a, "ls_carol").await;
    let (link, id, _) = new_room(&a, &alice).await;
    let (lonely, lonely_id, _) = new_room(&a, &carol).await;
    let (mut ca, _) = ws_resumed(&a, &alice, None).await;
    let (mut cb, _) = ws_resumed(&b, &bob, None).await;
    let (mut cc, _) = ws_resumed(&a, &carol, None).await;
    enter(&mut ca, link).await;
    enter(&mut cb, link).await;
    expect_room(&mut [&mut cb], &id, RoomChange::Joined, &bob.user_id).await;
    enter(&mut cc, lonely).await;

    let started = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &a.pid().expect("pid").to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        closed_with(&mut ca).await,
        passerelle_client::ws::close::RESTART
    );
    assert_eq!(
        closed_with(&mut cc).await,
        passerelle_client::ws::close::RESTART
    );
    // Long before the heartbeat sweep could (three 5 s intervals).
    expect_room(&mut [&mut cb], &id, RoomChange::Left, &alice.user_id).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        a.wait(Duration::from_secs(10)).await,
        Some(true),
        "exits cleanly"
    );
    for (d, path) in [
        (&carol, format!("/v1/conversations/{lonely_id}")),
        (&alice, format!("/v1/conversations/{id}")),
    ] {
        let resp = call(&b, d, Method::GET, &path, None).await;
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_eq!(member_ids(&b, &bob, &id).await, vec![bob.user_id.clone()]);
}
