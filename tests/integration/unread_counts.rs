//! Unread counts: `unreadCount` / `readUpTo` in the conversation list and
//! view, per caller: messages from others they can see, after their read
//! marker, since they joined; not their own, not a blocked sender's, not
//! expired ones; reading on one device clears it for every device.

use passerelle_client::Connection;
use passerelle_client::ws::ServerFrame;
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

async fn send(conn: &mut Connection, m: passerelle_client::ws::SendMessage) -> Uuid {
    conn.send_message(m).await.unwrap();
    loop {
        match next(conn).await {
            ServerFrame::Sent { payload, .. } => return payload.server_id,
            ServerFrame::Error { payload, .. } => panic!("send refused: {payload:?}"),
            _ => {}
        }
    }
}

/// `d`'s view of `conversation` from the list and from `GET`, which must
/// agree on the unread fields.
async fn unread(s: &TestServer, d: &Device, conversation: &str) -> (u64, Value) {
    let resp = call(s, d, Method::GET, "/v1/conversations?limit=100", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let list = json(resp).await;
    let listed = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conversation)
        .cloned()
        .unwrap_or_else(|| panic!("{conversation} not listed: {list}"));
    let resp = call(
        s,
        d,
        Method::GET,
        &format!("/v1/conversations/{conversation}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let shown = json(resp).await;
    for field in ["unreadCount", "unreadCapped", "readUpTo"] {
        assert_eq!(listed[field], shown[field], "{field}: {listed} vs {shown}");
    }
    assert_eq!(listed["unreadCapped"], false);
    (
        listed["unreadCount"].as_u64().expect("unreadCount"),
        listed["readUpTo"].clone(),
    )
}

async fn mark(s: &TestServer, d: &Device, conversation: &str, server_id: Uuid) {
    let resp = call(
        s,
        d,
        Method::PUT,
        &format!("/v1/conversations/{conversation}/read"),
        Some(json!({ "serverId": server_id })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn counts_follow_messages_and_reading_on_any_device_and_skip_own_messages() {
    let s = server().await;
    let a = register(&s, "ada").await;
    let b1 = register(&s, "ben").await;
    let b2 = login_ok(&s, "ben").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b1, None).await;
    let first = send(&mut ca, message_to(&b1.user_id)).await;
    let conversation = loop {
        if let ServerFrame::Message { payload, .. } = next(&mut cb).await {
            break payload.conversation_id.unwrap().to_string();
        }
    };
    let second = send(&mut ca, message_to(&b1.user_id)).await;
    let third = send(&mut ca, message_to(&b1.user_id)).await;
    // The reader's own messages never count.
    send(&mut cb, message_to(&a.user_id)).await;

    assert_eq!(unread(&s, &b1, &conversation).await, (3, Value::Null));
    assert_eq!(unread(&s, &b2, &conversation).await, (3, Value::Null));
    // ... for the sender, b's one message is unread.
    assert_eq!(unread(&s, &a, &conversation).await.0, 1);

    // Reading on one device clears it on the other.
    mark(&s, &b2, &conversation, second).await;
    let (count, up_to) = unread(&s, &b1, &conversation).await;
    assert_eq!(count, 1);
    assert_eq!(up_to, json!(second.to_string()));
    mark(&s, &b1, &conversation, third).await;
    assert_eq!(unread(&s, &b2, &conversation).await.0, 0);
    // A new message counts again; an old marker changes nothing.
    send(&mut ca, message_to(&b1.user_id)).await;
    mark(&s, &b1, &conversation, first).await;
    assert_eq!(
        unread(&s, &b1, &conversation).await,
        (1, json!(third.to_string()))
    );
}

#[tokio::test]
async fn blocked_senders_and_messages_before_joining_do_not_count() {
    let s = server().await;
    let owner = register(&s, "olga").await;
    let m = register(&s, "mick").await;
    let x = register(&s, "xavi").await;
    let late = register(&s, "lena").await;
    let id = group_with(&s, &owner, "counting", &[&m, &x]).await;
    let (mut co, _) = ws_resumed(&s, &owner, None).await;
    let (mut cm, _) = ws_resumed(&s, &m, None).await;
    let (mut cx, _) = ws_resumed(&s, &x, None).await;
    // m blocks the owner: the owner's messages are not m's to read.
    assert_eq!(set_block(&s, &m, &owner.user_id, true).await.status(), 204);
    send(&mut co, message_in(&id)).await;
    send(&mut co, message_in(&id)).await;
    let from_x = send(&mut cx, message_in(&id)).await;
    assert_eq!(unread(&s, &m, &id).await.0, 1);
    assert_eq!(history_ids(&s, &m, &id).await.len(), 1);
    assert_eq!(unread(&s, &x, &id).await.0, 2);
    mark(&s, &m, &id, from_x).await;
    assert_eq!(unread(&s, &m, &id).await.0, 0);

    // A member who joins later counts only what was sent since.
    assert_eq!(
        add_member(&s, &owner, &id, &late.user_id).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(unread(&s, &late, &id).await.0, 0);
    send(&mut cm, message_in(&id)).await;
    assert_eq!(unread(&s, &late, &id).await.0, 1);
    assert_eq!(unread(&s, &owner, &id).await.0, 2);

    // Outsiders see no count and no marker.
    let eve = register(&s, "eve").await;
    let resp = call(
        &s,
        &eve,
        Method::GET,
        &format!("/v1/conversations/{id}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn expired_messages_stop_counting() {
    let s = builder()
        .env("PASSERELLE__CONVERSATIONS__EXPIRY_SWEEP_SECS", "3600")
        .spawn()
        .await;
    let a = register(&s, "abe").await;
    let b = register(&s, "bea").await;
    let resp = call(
        &s,
        &a,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": b.user_id})),
    )
    .await;
    assert!(resp.status().is_success());
    let conversation = json(resp).await["id"].as_str().unwrap().to_owned();
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    send(&mut ca, message_to(&b.user_id)).await;
    let resp = call(
        &s,
        &a,
        Method::PATCH,
        &format!("/v1/conversations/{conversation}"),
        Some(json!({"disappearSecs": 1})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    send(&mut ca, message_to(&b.user_id)).await;
    assert_eq!(unread(&s, &b, &conversation).await.0, 2);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(unread(&s, &b, &conversation).await.0, 1);
}

#[tokio::test]
async fn past_a_thousand_the_count_is_capped() {
    let s = builder()
        .env("PASSERELLE__WS__FRAMES_PER_SEC", "100000")
        .env("PASSERELLE__WS__FRAME_BURST", "100000")
        .spawn()
        .await;
    let a = register(&s, "cap_a").await;
    let b = register(&s, "cap_b").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let mut last = Uuid::nil();
    for _wave in 0..21 {
        for _ in 0..50 {
            ca.send_message(message_to(&b.user_id)).await.unwrap();
        }
        let mut sent = 0;
        while sent < 50 {
            if let ServerFrame::Sent { payload, .. } = next(&mut ca).await {
                last = last.max(payload.server_id);
                sent += 1;
            }
        }
    }
    let resp = call(&s, &b, Method::GET, "/v1/conversations", None).await;
    let list = json(resp).await;
    let c = &list["conversations"][0];
    assert_eq!(c["unreadCount"], 1000, "{c}");
    assert_eq!(c["unreadCapped"], true, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    mark(&s, &b, &id, last).await;
    assert_eq!(unread(&s, &b, &id).await.0, 0);
}
