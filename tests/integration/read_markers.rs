//! Read markers: `PUT /v1/conversations/{id}/read {serverId}` moves the
//! caller's marker forward only; a `read` event reaches the reader's other
//! devices and, in a direct conversation, the peer's devices unless the
//! reader turned `readReceipts` off or a block stands; groups tell only the
//! reader's devices; outsiders, unknown and foreign messages are refused.

use passerelle_client::Connection;
use passerelle_client::ws::{ReadEvent, ServerFrame};
use passerelle_test_support::TestServer;
use reqwest::{Method, Response, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

async fn mark(s: &TestServer, d: &Device, conversation: Uuid, server_id: Uuid) -> Response {
    call(
        s,
        d,
        Method::PUT,
        &format!("/v1/conversations/{conversation}/read"),
        Some(json!({ "serverId": server_id })),
    )
    .await
}

/// Sends `m` on `conn`; returns its server id.
async fn send(conn: &mut Connection, m: passerelle_client::ws::SendMessage) -> Uuid {
    conn.send_message(m).await.unwrap();
    loop {
        match next(conn).await {
            ServerFrame::Sent { payload, .. } => return payload.server_id,
            ServerFrame::Message { .. } | ServerFrame::Receipt { .. } => {}
            other => panic!("expected sent, got {other:?}"),
        }
    }
}

/// The next `read` event, skipping message and conversation traffic.
async fn next_read(conn: &mut Connection) -> ReadEvent {
    loop {
        match next(conn).await {
            ServerFrame::Read { payload, .. } => return payload,
            ServerFrame::Message { .. }
            | ServerFrame::Receipt { .. }
            | ServerFrame::Conversation { .. } => {}
            other => panic!("expected read, got {other:?}"),
        }
    }
}

/// Skips message traffic until the connection is quiet; asserts no `read`
/// event arrives.
async fn no_read(conn: &mut Connection) {
    loop {
        match conn
            .next_timeout(std::time::Duration::from_millis(400))
            .await
        {
            Ok(None) => return,
            Ok(Some(
                ServerFrame::Message { .. }
                | ServerFrame::Receipt { .. }
                | ServerFrame::Conversation { .. },
            )) => {}
            other => panic!("expected no read event, got {other:?}"),
        }
    }
}

/// The conversation id of the next message `conn` receives.
async fn conversation_of_next(conn: &mut Connection) -> Uuid {
    loop {
        if let ServerFrame::Message { payload, .. } = next(conn).await {
            return payload.conversation_id.unwrap();
        }
    }
}

struct Pair {
    s: TestServer,
    a1: Device,
    b1: Device,
    ca1: Connection,
    ca2: Connection,
    cb1: Connection,
    cb2: Connection,
    conversation: Uuid,
    /// Server ids of a's two messages to b, oldest first.
    sent: [Uuid; 2],
}

/// `ann` (two devices) sends two direct messages to `bob` (two devices).
async fn pair() -> Pair {
    let s = server().await;
    let a1 = register(&s, "ann").await;
    let a2 = login_ok(&s, "ann").await;
    let b1 = register(&s, "bob").await;
    let b2 = login_ok(&s, "bob").await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;
    let first = send(&mut ca1, message_to(&b1.user_id)).await;
    let second = send(&mut ca1, message_to(&b1.user_id)).await;
    let conversation = conversation_of_next(&mut cb1).await;
    for c in [&mut ca2, &mut cb1, &mut cb2] {
        no_read(c).await;
    }
    Pair {
        s,
        a1,
        b1,
        ca1,
        ca2,
        cb1,
        cb2,
        conversation,
        sent: [first, second],
    }
}

fn assert_event(e: &ReadEvent, conversation: Uuid, reader: &Device, up_to: Uuid) {
    assert_eq!(e.conversation_id, conversation);
    assert_eq!(e.user_id.to_string(), reader.user_id);
    assert_eq!(e.up_to, up_to);
}

#[tokio::test]
async fn reading_on_one_device_reaches_the_readers_other_device_and_the_peers_devices() {
    let mut p = pair().await;
    let resp = mark(&p.s, &p.b1, p.conversation, p.sent[1]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["upTo"], p.sent[1].to_string(), "{body}");
    assert_eq!(body["conversationId"], p.conversation.to_string());
    for c in [&mut p.cb1, &mut p.cb2, &mut p.ca1, &mut p.ca2] {
        let e = next_read(c).await;
        assert_event(&e, p.conversation, &p.b1, p.sent[1]);
    }

    // A later session replays it from the stream.
    let (_, replayed) = ws_resumed(&p.s, &p.a1, None).await;
    assert!(
        replayed
            .iter()
            .any(|f| matches!(f, ServerFrame::Read { payload, .. } if payload.up_to == p.sent[1])),
        "{replayed:?}"
    );
}

#[tokio::test]
async fn an_older_or_equal_marker_changes_nothing_and_sends_nothing() {
    let mut p = pair().await;
    assert_eq!(
        mark(&p.s, &p.b1, p.conversation, p.sent[1]).await.status(),
        StatusCode::OK
    );
    for c in [&mut p.cb1, &mut p.cb2, &mut p.ca1, &mut p.ca2] {
        next_read(c).await;
    }
    for back in [p.sent[0], p.sent[1]] {
        let resp = mark(&p.s, &p.b1, p.conversation, back).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body = json(resp).await;
        assert_eq!(body["upTo"], p.sent[1].to_string(), "{body}");
    }
    for c in [&mut p.cb1, &mut p.cb2, &mut p.ca1, &mut p.ca2] {
        no_read(c).await;
    }
}

#[tokio::test]
async fn read_receipts_off_hides_reading_from_the_peer_but_not_from_the_readers_devices() {
    let mut p = pair().await;
    let resp = patch_me(&p.s, &p.b1, json!({"readReceipts": false})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["readReceipts"], false);
    assert_eq!(
        json(get_me(&p.s, &p.b1.access).await).await["readReceipts"],
        false
    );
    assert_eq!(
        json(get_me(&p.s, &p.a1.access).await).await["readReceipts"],
        true
    );

    assert_eq!(
        mark(&p.s, &p.b1, p.conversation, p.sent[0]).await.status(),
        StatusCode::OK
    );
    for c in [&mut p.cb1, &mut p.cb2] {
        assert_event(&next_read(c).await, p.conversation, &p.b1, p.sent[0]);
    }
    for c in [&mut p.ca1, &mut p.ca2] {
        no_read(c).await;
    }

    // Back on: the next read is told again.
    let resp = patch_me(&p.s, &p.b1, json!({"readReceipts": true})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        mark(&p.s, &p.b1, p.conversation, p.sent[1]).await.status(),
        StatusCode::OK
    );
    assert_event(
        &next_read(&mut p.ca1).await,
        p.conversation,
        &p.b1,
        p.sent[1],
    );
}

#[tokio::test]
async fn a_block_either_way_keeps_the_peer_from_hearing() {
    let mut p = pair().await;
    // The reader blocks the sender.
    assert_eq!(
        set_block(&p.s, &p.b1, &p.a1.user_id, true).await.status(),
        204
    );
    assert_eq!(
        mark(&p.s, &p.b1, p.conversation, p.sent[0]).await.status(),
        StatusCode::OK
    );
    for c in [&mut p.cb1, &mut p.cb2] {
        assert_event(&next_read(c).await, p.conversation, &p.b1, p.sent[0]);
    }
    for c in [&mut p.ca1, &mut p.ca2] {
        no_read(c).await;
    }
    // The sender blocks the reader.
    assert_eq!(
        set_block(&p.s, &p.b1, &p.a1.user_id, false).await.status(),
        204
    );
    assert_eq!(
        set_block(&p.s, &p.a1, &p.b1.user_id, true).await.status(),
        204
    );
    assert_eq!(
        mark(&p.s, &p.b1, p.conversation, p.sent[1]).await.status(),
        StatusCode::OK
    );
    assert_event(
        &next_read(&mut p.cb1).await,
        p.conversation,
        &p.b1,
        p.sent[1],
    );
    for c in [&mut p.ca1, &mut p.ca2] {
        no_read(c).await;
    }
}

#[tokio::test]
async fn outsiders_unknown_and_foreign_messages_are_refused_and_change_nothing() {
    let mut p = pair().await;
    let eve = register(&p.s, "eve").await;
    let (mut ce, _) = ws_resumed(&p.s, &eve, None).await;
    // An outsider, with a real message of the conversation.
    not_found_body(mark(&p.s, &eve, p.conversation, p.sent[1]).await).await;
    // An unknown conversation, an unknown message.
    not_found_body(mark(&p.s, &p.b1, Uuid::new_v4(), p.sent[1]).await).await;
    not_found_body(mark(&p.s, &p.b1, p.conversation, Uuid::now_v7()).await).await;
    // A message of another conversation of the caller.
    let foreign = send(&mut ce, message_to(&p.b1.user_id)).await;
    not_found_body(mark(&p.s, &p.b1, p.conversation, foreign).await).await;
    // Bad bodies.
    let resp = call(
        &p.s,
        &p.b1,
        Method::PUT,
        &format!("/v1/conversations/{}/read", p.conversation),
        Some(json!({"serverId": "nope"})),
    )
    .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let resp = call(
        &p.s,
        &p.b1,
        Method::PUT,
        &format!("/v1/conversations/{}/read", p.conversation),
        Some(json!({})),
    )
    .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());

    for c in [&mut p.cb1, &mut p.cb2, &mut p.ca1, &mut p.ca2] {
        no_read(c).await;
    }
    // Nothing moved: the first real read still moves the marker.
    let resp = mark(&p.s, &p.b1, p.conversation, p.sent[0]).await;
    assert_eq!(json(resp).await["upTo"], p.sent[0].to_string());
}

#[tokio::test]
async fn a_message_withheld_from_the_reader_cannot_be_marked() {
    let mut p = pair().await;
    assert_eq!(
        set_block(&p.s, &p.b1, &p.a1.user_id, true).await.status(),
        204
    );
    let withheld = send(&mut p.ca1, message_to(&p.b1.user_id)).await;
    not_found_body(mark(&p.s, &p.b1, p.conversation, withheld).await).await;
    // Its sender may mark it (their own message).
    assert_eq!(
        mark(&p.s, &p.a1, p.conversation, withheld).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn in_a_group_only_the_readers_devices_are_told() {
    let s = server().await;
    let owner = register(&s, "gus").await;
    let m1 = register(&s, "hal").await;
    let m1b = login_ok(&s, "hal").await;
    let id = group_with(&s, &owner, "readers", &[&m1]).await;
    let conversation: Uuid = id.parse().unwrap();
    let (mut co, _) = ws_resumed(&s, &owner, None).await;
    let (mut c1, _) = ws_resumed(&s, &m1, None).await;
    let (mut c1b, _) = ws_resumed(&s, &m1b, None).await;
    let sent = send(&mut co, message_in(&id)).await;
    assert_eq!(
        mark(&s, &m1, conversation, sent).await.status(),
        StatusCode::OK
    );
    for c in [&mut c1, &mut c1b] {
        assert_event(&next_read(c).await, conversation, &m1, sent);
    }
    no_read(&mut co).await;
}

#[tokio::test]
async fn the_requester_of_a_message_request_is_not_told() {
    let s = server().await;
    let a = register(&s, "rae").await;
    let b1 = register(&s, "sol").await;
    let b2 = login_ok(&s, "sol").await;
    let resp = patch_me(&s, &b1, json!({"messagePolicy": "contacts"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;
    let sent = send(&mut ca, message_to(&b1.user_id)).await;
    let conversation = conversation_of_next(&mut cb1).await;
    assert_eq!(
        mark(&s, &b1, conversation, sent).await.status(),
        StatusCode::OK
    );
    assert_event(&next_read(&mut cb2).await, conversation, &b1, sent);
    no_read(&mut ca).await;
}
