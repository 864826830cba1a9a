//! Typing indicators on one node: `started` and `stopped` reach the other
//! members' sessions and the typer's other sessions, never the session
//! that typed; one `started` per interval per conversation; blocks silence
//! typing both ways (and a requester's typing stays out of the addressee's
//! request until it is accepted); outsiders and unknown conversations get
//! `not_found` and relay nothing; big groups relay nothing; malformed
//! frames are `invalid_payload`; nothing typing-related is ever replayed.
//! Across nodes: `typing_nodes.rs`.

use std::time::Duration;

use passerelle_client::Connection;
use passerelle_client::ws::{
    ClientFrame, FrameErrorCode, ServerFrame, Typing, TypingEvent, TypingState,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

/// The direct conversation of `a` and `b` (created by `a` when missing).
pub async fn direct(s: &passerelle_test_support::TestServer, a: &Device, b: &Device) -> String {
    let resp = call(
        s,
        a,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": b.user_id})),
    )
    .await;
    assert!(
        resp.status() == StatusCode::CREATED || resp.status() == StatusCode::OK,
        "{}",
        resp.status()
    );
    json(resp).await["id"].as_str().expect("id").to_owned()
}

/// Sends `typing` (with the correlation id `id`, when given).
pub async fn typing(
    conn: &mut Connection,
    conversation: &str,
    state: TypingState,
    id: Option<&str>,
) {
    let frame = ClientFrame::Typing(Typing {
        conversation_id: conversation.parse().expect("uuid"),
        state,
    });
    conn.send(&frame, id).await.expect("send typing");
}

/// Asserts that each connection's next frame is the `typing` event `state`
/// of `who` (device included) in `conversation`.
pub async fn expect_typing(
    conns: &mut [&mut Connection],
    conversation: &str,
    who: &Device,
    state: TypingState,
) -> Vec<TypingEvent> {
    let mut out = Vec::new();
    for (i, conn) in conns.iter_mut().enumerate() {
        match next(conn).await {
            ServerFrame::Typing { payload } => {
                assert_eq!(payload.conversation_id.to_string(), conversation, "{i}");
                assert_eq!(payload.user_id.to_string(), who.user_id, "{i}");
                assert_eq!(payload.device_id.to_string(), who.device_id, "{i}");
                assert_eq!(payload.state, state, "{i}");
                out.push(payload);
            }
            other => panic!("connection {i}: expected typing, got {other:?}"),
        }
    }
    out
}

/// The next frame is an `error` with `code` and the correlation id `id`.
async fn expect_refused(conn: &mut Connection, code: FrameErrorCode, id: &str) -> String {
    match next(conn).await {
        ServerFrame::Error { id: got, payload } => {
            assert_eq!(payload.code, code, "{payload:?}");
            assert_eq!(got.as_deref(), Some(id));
            payload.message
        }
        other => panic!("expected error {code:?}, got {other:?}"),
    }
}

async fn all_quiet(conns: &mut [&mut Connection], ms: u64) {
    for conn in conns.iter_mut() {
        quiet(conn, ms).await;
    }
}

#[tokio::test]
async fn started_and_stopped_reach_every_other_session_but_never_echo() {
    let s = server().await;
    let alice = register(&s, "ty_alice").await;
    let alice2 = login_ok(&s, "ty_alice").await;
    let bob = register(&s, "ty_bob").await;
    let bob2 = login_ok(&s, "ty_bob").await;
    let conv = direct(&s, &alice, &bob).await;
    let mut a1 = ws(&s, &alice).await;
    let mut a2 = ws(&s, &alice2).await;
    let mut b1 = ws(&s, &bob).await;
    let mut b2 = ws(&s, &bob2).await;

    typing(&mut a1, &conv, TypingState::Started, None).await;
    let events = expect_typing(
        &mut [&mut b1, &mut b2, &mut a2],
        &conv,
        &alice,
        TypingState::Started,
    )
    .await;
    for e in events {
        assert_eq!(e.expires_in_ms, Some(6000), "typing.ttl_ms");
    }
    quiet(&mut a1, 300).await;

    typing(&mut a1, &conv, TypingState::Stopped, None).await;
    let events = expect_typing(
        &mut [&mut b1, &mut b2, &mut a2],
        &conv,
        &alice,
        TypingState::Stopped,
    )
    .await;
    assert!(events.iter().all(|e| e.expires_in_ms.is_none()));
    quiet(&mut a1, 300).await;

    // The other way round, from Bob's second device; in a group too.
    typing(&mut b2, &conv, TypingState::Started, Some("t1")).await;
    expect_typing(
        &mut [&mut a1, &mut a2, &mut b1],
        &conv,
        &bob2,
        TypingState::Started,
    )
    .await;
    quiet(&mut b2, 300).await;
    let carol = register(&s, "ty_carol").await;
    let group = group_with(&s, &alice, "ty_group", &[&bob, &carol]).await;
    let mut c1 = ws(&s, &carol).await;
    typing(&mut c1, &group, TypingState::Started, None).await;
    expect_typing(
        &mut [&mut a1, &mut a2, &mut b1, &mut b2],
        &group,
        &carol,
        TypingState::Started,
    )
    .await;
    all_quiet(&mut [&mut c1, &mut a1, &mut b1], 300).await;
}

#[tokio::test]
async fn one_started_per_interval_and_stopped_always_goes_through() {
    let s = server().await;
    let alice = register(&s, "ti_alice").await;
    let bob = register(&s, "ti_bob").await;
    let conv = direct(&s, &alice, &bob).await;
    let carol = register(&s, "ti_carol").await;
    let group = group_with(&s, &alice, "ti_group", &[&bob, &carol]).await;
    let mut a = ws(&s, &alice).await;
    let mut b = ws(&s, &bob).await;

    let first = tokio::time::Instant::now();
    typing(&mut a, &conv, TypingState::Started, None).await;
    expect_typing(&mut [&mut b], &conv, &alice, TypingState::Started).await;
    // Too soon: dropped silently (no error to the typer either).
    typing(&mut a, &conv, TypingState::Started, Some("again")).await;
    quiet(&mut b, 300).await;
    quiet(&mut a, 10).await;
    // Another conversation has its own interval.
    typing(&mut a, &group, TypingState::Started, None).await;
    expect_typing(&mut [&mut b], &group, &alice, TypingState::Started).await;
    // `stopped` is never held back.
    typing(&mut a, &conv, TypingState::Stopped, None).await;
    expect_typing(&mut [&mut b], &conv, &alice, TypingState::Stopped).await;
    // Still within the interval: `started` is dropped even after `stopped`.
    assert!(first.elapsed() < Duration::from_millis(900));
    typing(&mut a, &conv, TypingState::Started, None).await;
    quiet(&mut b, 200).await;
    // Once the interval has passed, the refresh is relayed.
    tokio::time::sleep_until(first + Duration::from_millis(1100)).await;
    typing(&mut a, &conv, TypingState::Started, None).await;
    expect_typing(&mut [&mut b], &conv, &alice, TypingState::Started).await;
    quiet(&mut a, 200).await;
}

#[tokio::test]
async fn blocks_silence_typing_both_ways() {
    let s = server().await;
    let alice = register(&s, "tb_alice").await;
    let alice2 = login_ok(&s, "tb_alice").await;
    let bob = register(&s, "tb_bob").await;
    let carol = register(&s, "tb_carol").await;
    let dm = direct(&s, &alice, &bob).await;
    let group = group_with(&s, &carol, "tb_group", &[&alice, &bob]).await;
    let mut a1 = ws(&s, &alice).await;
    let mut a2 = ws(&s, &alice2).await;
    let mut b = ws(&s, &bob).await;
    let mut c = ws(&s, &carol).await;

    // Bob blocks Alice: her typing never reaches him, in the direct
    // conversation or the group; her other device and Carol still hear it.
    let resp = set_block(&s, &bob, &alice.user_id, true).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    typing(&mut a1, &dm, TypingState::Started, None).await;
    expect_typing(&mut [&mut a2], &dm, &alice, TypingState::Started).await;
    typing(&mut a1, &group, TypingState::Started, None).await;
    expect_typing(&mut [&mut a2, &mut c], &group, &alice, TypingState::Started).await;
    typing(&mut a1, &group, TypingState::Stopped, None).await;
    expect_typing(&mut [&mut a2, &mut c], &group, &alice, TypingState::Stopped).await;
    quiet(&mut b, 400).await;

    // The reverse: Bob typing never reaches Alice (whom he blocks).
    typing(&mut b, &group, TypingState::Started, None).await;
    expect_typing(&mut [&mut c], &group, &bob, TypingState::Started).await;
    typing(&mut b, &dm, TypingState::Started, None).await;
    all_quiet(&mut [&mut a1, &mut a2, &mut b], 400).await;

    // Unblocked: heard again at once (nothing cached). The wait is only
    // for Bob's own `started` interval in this conversation.
    let resp = set_block(&s, &bob, &alice.user_id, false).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    tokio::time::sleep(Duration::from_millis(1050)).await;
    typing(&mut b, &dm, TypingState::Started, None).await;
    expect_typing(&mut [&mut a1, &mut a2], &dm, &bob, TypingState::Started).await;

    // Alice blocks Carol: neither hears the other in the group.
    let resp = set_block(&s, &alice, &carol.user_id, true).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    typing(&mut c, &group, TypingState::Started, None).await;
    expect_typing(&mut [&mut b], &group, &carol, TypingState::Started).await;
    typing(&mut a2, &group, TypingState::Started, None).await;
    expect_typing(
        &mut [&mut a1, &mut b],
        &group,
        &alice2,
        TypingState::Started,
    )
    .await;
    all_quiet(&mut [&mut a1, &mut a2, &mut c], 400).await;
}

#[tokio::test]
async fn a_requester_typing_stays_out_of_the_request_until_accepted() {
    let s = server().await;
    let x = register(&s, "tr_x").await;
    let y = register(&s, "tr_y").await;
    let resp = patch_me(&s, &y, json!({"messagePolicy": "contacts"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let conv = direct(&s, &x, &y).await;
    let mut cx = ws(&s, &x).await;
    let mut cy = ws(&s, &y).await;

    typing(&mut cx, &conv, TypingState::Started, None).await;
    quiet(&mut cy, 400).await;
    // The addressee may type to the requester.
    typing(&mut cy, &conv, TypingState::Started, None).await;
    expect_typing(&mut [&mut cx], &conv, &y, TypingState::Started).await;

    let resp = call(
        &s,
        &y,
        Method::POST,
        &format!("/v1/message-requests/{conv}/accept"),
        None,
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    typing(&mut cx, &conv, TypingState::Stopped, None).await;
    expect_typing(&mut [&mut cy], &conv, &x, TypingState::Stopped).await;
}

#[tokio::test]
async fn outsiders_and_unknown_conversations_get_not_found_and_relay_nothing() {
    let s = server().await;
    let alice = register(&s, "to_alice").await;
    let bob = register(&s, "to_bob").await;
    let mallory = register(&s, "to_mallory").await;
    let mallory2 = login_ok(&s, "to_mallory").await;
    let dm = direct(&s, &alice, &bob).await;
    let group = group_with(&s, &alice, "to_group", &[&bob]).await;
    let mut a = ws(&s, &alice).await;
    let mut b = ws(&s, &bob).await;
    let mut m = ws(&s, &mallory).await;
    let mut m2 = ws(&s, &mallory2).await;

    let mut messages = Vec::new();
    for (i, conv) in [dm.clone(), group.clone(), Uuid::new_v4().to_string()]
        .iter()
        .enumerate()
    {
        for state in [TypingState::Started, TypingState::Stopped] {
            let id = format!("m{i}{state:?}");
            typing(&mut m, conv, state, Some(&id)).await;
            messages.push(expect_refused(&mut m, FrameErrorCode::NotFound, &id).await);
        }
    }
    assert!(
        messages.windows(2).all(|w| w[0] == w[1]),
        "one answer for all: {messages:?}"
    );
    // A removed member is an outsider at once.
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/conversations/{group}/members/{}", bob.user_id),
        None,
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    typing(&mut b, &group, TypingState::Started, Some("gone")).await;
    expect_refused(&mut b, FrameErrorCode::NotFound, "gone").await;
    all_quiet(&mut [&mut a, &mut b, &mut m2], 400).await;

    // The session stays usable.
    typing(&mut a, &dm, TypingState::Started, None).await;
    expect_typing(&mut [&mut b], &dm, &alice, TypingState::Started).await;
}

#[tokio::test]
async fn groups_over_max_members_relay_nothing() {
    let s = builder()
        .env("PASSERELLE__TYPING__MAX_MEMBERS", "2")
        .spawn()
        .await;
    let alice = register(&s, "tg_alice").await;
    let alice2 = login_ok(&s, "tg_alice").await;
    let bob = register(&s, "tg_bob").await;
    let carol = register(&s, "tg_carol").await;
    let group = group_with(&s, &alice, "tg_group", &[&bob, &carol]).await;
    let dm = direct(&s, &alice, &bob).await;
    let mut a1 = ws(&s, &alice).await;
    let mut a2 = ws(&s, &alice2).await;
    let mut b = ws(&s, &bob).await;
    let mut c = ws(&s, &carol).await;

    typing(&mut a1, &group, TypingState::Started, Some("big")).await;
    typing(&mut b, &group, TypingState::Stopped, Some("big")).await;
    all_quiet(&mut [&mut a1, &mut a2, &mut b, &mut c], 400).await;
    // Two members are within the cap.
    typing(&mut a1, &dm, TypingState::Started, None).await;
    expect_typing(&mut [&mut b, &mut a2], &dm, &alice, TypingState::Started).await;
    // An outsider still learns nothing about the group's existence.
    let mallory = register(&s, "tg_mallory").await;
    let mut m = ws(&s, &mallory).await;
    typing(&mut m, &group, TypingState::Started, Some("x")).await;
    expect_refused(&mut m, FrameErrorCode::NotFound, "x").await;
}

#[tokio::test]
async fn malformed_typing_frames_are_invalid_payload() {
    let s = server().await;
    let alice = register(&s, "tm_alice").await;
    let bob = register(&s, "tm_bob").await;
    let conv = direct(&s, &alice, &bob).await;
    let mut a = ws(&s, &alice).await;
    let mut b = ws(&s, &bob).await;

    let bad = [
        json!({"conversationId": conv, "state": "dancing"}),
        json!({"state": "started"}),
        json!({"conversationId": conv}),
        json!({"conversationId": "not-a-uuid", "state": "started"}),
        json!({"conversationId": conv, "state": "started", "text": "hello"}),
        json!({"conversationId": conv, "state": 1}),
        json!(null),
    ];
    for (i, payload) in bad.iter().enumerate() {
        let id = format!("bad{i}");
        let text = json!({"type": "typing", "id": id, "payload": payload}).to_string();
        a.send_raw(&text).await.unwrap();
        let m = expect_refused(&mut a, FrameErrorCode::InvalidPayload, &id).await;
        assert!(m.starts_with("typing payload"), "{m}");
    }
    all_quiet(&mut [&mut a, &mut b], 300).await;
}

#[tokio::test]
async fn typing_is_never_stored_or_replayed() {
    let s = server().await;
    let alice = register(&s, "tn_alice").await;
    let bob = register(&s, "tn_bob").await;
    let conv = direct(&s, &alice, &bob).await;
    let mut a = ws(&s, &alice).await;
    let mut b = ws(&s, &bob).await;
    typing(&mut a, &conv, TypingState::Started, None).await;
    expect_typing(&mut [&mut b], &conv, &alice, TypingState::Started).await;
    typing(&mut a, &conv, TypingState::Stopped, None).await;
    expect_typing(&mut [&mut b], &conv, &alice, TypingState::Stopped).await;
    drop(b);

    for d in [&alice, &bob] {
        let (mut conn, replayed) = ws_resumed(&s, d, Some(0)).await;
        assert!(
            replayed
                .iter()
                .all(|f| !matches!(f, ServerFrame::Typing { .. })),
            "{replayed:?}"
        );
        assert!(
            replayed.iter().all(|f| f.seq().is_some()),
            "only stream events are replayed: {replayed:?}"
        );
        quiet(&mut conn, 300).await;
    }
    // A session that was not connected missed it; history has nothing.
    assert!(history_ids(&s, &bob, &conv).await.is_empty());
}
