//! The `unread` frame every session opens with (right after `ready`): the
//! counts of the user's most recently active conversations with unread
//! messages, on every device, following reads made on another device (in
//! the frame of the next session and in `GET /v1/conversations`); never
//! counting the user's own messages, blocked senders' or withheld ones;
//! at most 50 conversations, then `more`.

use passerelle_client::Connection;
use passerelle_client::ws::{ServerFrame, Unread};
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

/// (conversation, count, capped, readUpTo) of each listed conversation.
fn entries(u: &Unread) -> Vec<(String, u32, bool, Option<Uuid>)> {
    u.conversations
        .iter()
        .map(|c| {
            (
                c.conversation_id.to_string(),
                c.unread_count,
                c.unread_capped,
                c.read_up_to,
            )
        })
        .collect()
}

/// A new session of `d`; its `unread` frame.
async fn unread_on_connect(s: &TestServer, d: &Device) -> Unread {
    let (conn, unread) = ws_with_unread(s, d).await;
    conn.close().await.expect("close");
    unread
}

/// The caller's `unreadCount` and `readUpTo` for every listed conversation.
async fn listed(s: &TestServer, d: &Device) -> Vec<(String, u64, Value)> {
    let resp = call(s, d, Method::GET, "/v1/conversations?limit=100", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    body["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_owned(),
                c["unreadCount"].as_u64().expect("unreadCount"),
                c["readUpTo"].clone(),
            )
        })
        .collect()
}

fn count_in(list: &[(String, u64, Value)], conversation: &str) -> (u64, Value) {
    list.iter()
        .find(|(c, _, _)| c == conversation)
        .map(|(_, n, up_to)| (*n, up_to.clone()))
        .unwrap_or_else(|| panic!("{conversation} is listed"))
}

/// Sends `m`; returns (server id, conversation id) once `sent` arrives.
async fn send(conn: &mut Connection, m: passerelle_client::ws::SendMessage) -> Uuid {
    conn.send_message(m.clone()).await.expect("send");
    loop {
        match next(conn).await {
            ServerFrame::Sent { payload, .. } if payload.message_id == m.message_id => {
                return payload.server_id;
            }
            ServerFrame::Message { .. }
            | ServerFrame::Conversation { .. }
            | ServerFrame::Read { .. } => {}
            other => panic!("expected sent, got {other:?}"),
        }
    }
}

async fn mark_read(s: &TestServer, d: &Device, conversation: &str, server_id: Uuid) {
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

/// The id of the direct conversation between `a` and `b`.
async fn direct_between(s: &TestServer, a: &Device, b: &Device) -> String {
    let resp = call(
        s,
        a,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": b.user_id})),
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    json(resp).await["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn every_device_opens_with_the_counts_and_they_follow_reads_on_another_device() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let ann2 = login_ok(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let bob2 = login_ok(&s, "bob").await;
    let cat = register(&s, "cat").await;
    let group = group_with(&s, &ann, "trio", &[&bob, &cat]).await;

    // Nothing unread yet, on any device.
    for d in [&ann, &ann2, &bob, &bob2, &cat] {
        let u = unread_on_connect(&s, d).await;
        assert!(u.conversations.is_empty() && !u.more, "{u:?}");
    }

    // Bob writes three direct messages to Ann, then Cat two in the group.
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    let (mut cc, _) = ws_resumed(&s, &cat, None).await;
    let mut direct_ids = Vec::new();
    for _ in 0..3 {
        direct_ids.push(send(&mut cb, message_to(&ann.user_id)).await);
    }
    let direct = direct_between(&s, &ann, &bob).await;
    let mut group_ids = Vec::new();
    for _ in 0..2 {
        group_ids.push(send(&mut cc, message_in(&group)).await);
    }

    // Both of Ann's devices: the group first (most recently active).
    let want = vec![
        (group.clone(), 2, false, None),
        (direct.clone(), 3, false, None),
    ];
    for d in [&ann, &ann2] {
        assert_eq!(entries(&unread_on_connect(&s, d).await), want);
    }
    // Bob's own messages never count for him; Cat's do, on both devices.
    for d in [&bob, &bob2] {
        assert_eq!(
            entries(&unread_on_connect(&s, d).await),
            vec![(group.clone(), 2, false, None)]
        );
    }
    assert!(unread_on_connect(&s, &cat).await.conversations.is_empty());

    // Ann reads the direct conversation up to the second message on her
    // second device: her first device is told live (`read`), and its next
    // session, and the list, show one unread.
    let (mut ca1, _) = ws_resumed(&s, &ann, None).await;
    mark_read(&s, &ann2, &direct, direct_ids[1]).await;
    loop {
        match next(&mut ca1).await {
            ServerFrame::Read { payload, .. } => {
                assert_eq!(payload.up_to, direct_ids[1]);
                break;
            }
            ServerFrame::Message { .. } | ServerFrame::Conversation { .. } => {}
            other => panic!("expected read, got {other:?}"),
        }
    }
    ca1.close().await.expect("close");
    let want = vec![
        (group.clone(), 2, false, None),
        (direct.clone(), 1, false, Some(direct_ids[1])),
    ];
    for d in [&ann, &ann2] {
        assert_eq!(entries(&unread_on_connect(&s, d).await), want);
        let list = listed(&s, d).await;
        assert_eq!(
            count_in(&list, &direct),
            (1, json!(direct_ids[1].to_string()))
        );
        assert_eq!(count_in(&list, &group), (2, Value::Null));
    }

    // Ann reads the whole group on her first device: it leaves the frame.
    mark_read(&s, &ann, &group, group_ids[1]).await;
    let want = vec![(direct.clone(), 1, false, Some(direct_ids[1]))];
    for d in [&ann, &ann2] {
        assert_eq!(entries(&unread_on_connect(&s, d).await), want);
        assert_eq!(
            count_in(&listed(&s, d).await, &group),
            (0, json!(group_ids[1].to_string()))
        );
    }
    // Ann answers Bob: her own message does not make the conversation
    // unread for her, and it is unread for Bob now, on both his devices.
    let (mut ca1, _) = ws_resumed(&s, &ann, None).await;
    send(&mut ca1, message_to(&bob.user_id)).await;
    assert_eq!(entries(&unread_on_connect(&s, &ann2).await), want);
    for d in [&bob, &bob2] {
        assert_eq!(
            entries(&unread_on_connect(&s, d).await),
            vec![
                (direct.clone(), 1, false, None),
                (group.clone(), 2, false, None)
            ]
        );
    }
}

#[tokio::test]
async fn blocked_senders_and_withheld_messages_never_show() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let cat = register(&s, "cat").await;
    let group = group_with(&s, &ann, "trio", &[&bob, &cat]).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    let (mut cc, _) = ws_resumed(&s, &cat, None).await;
    // Ann blocks Cat: Cat's group messages and her direct messages (withheld)
    // are not Ann's to count; Bob's are.
    assert_eq!(
        set_block(&s, &ann, &cat.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    send(&mut cc, message_in(&group)).await;
    send(&mut cc, message_to(&ann.user_id)).await;
    let u = unread_on_connect(&s, &ann).await;
    assert!(u.conversations.is_empty(), "{u:?}");
    send(&mut cb, message_in(&group)).await;
    send(&mut cc, message_in(&group)).await;
    // The group is listed (Bob's one message); its newest message, Cat's,
    // is not what orders it or counts.
    assert_eq!(
        entries(&unread_on_connect(&s, &ann).await),
        vec![(group.clone(), 1, false, None)]
    );
    // Bob, who blocks nobody, counts Cat's two, never his own.
    assert_eq!(
        entries(&unread_on_connect(&s, &bob).await),
        vec![(group.clone(), 2, false, None)]
    );
}

#[tokio::test]
async fn at_most_fifty_conversations_then_more() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    // Fifty-one groups, each with one message from Bob, oldest first.
    let mut groups = Vec::new();
    for i in 0..51 {
        let g = group_with(&s, &bob, &format!("g{i:02}"), &[&ann]).await;
        send(&mut cb, message_in(&g)).await;
        groups.push(g);
    }
    let u = unread_on_connect(&s, &ann).await;
    assert!(u.more);
    let listed: Vec<String> = u
        .conversations
        .iter()
        .map(|c| c.conversation_id.to_string())
        .collect();
    let newest_first: Vec<String> = groups.iter().rev().take(50).cloned().collect();
    assert_eq!(listed, newest_first);
    assert!(u.conversations.iter().all(|c| c.unread_count == 1));
    // Reading one of them makes room for the oldest.
    let page = json(
        call(
            &s,
            &ann,
            Method::GET,
            &format!("/v1/conversations/{}/messages", groups[50]),
            None,
        )
        .await,
    )
    .await;
    let server_id: Uuid = page["messages"][0]["serverId"]
        .as_str()
        .expect("serverId")
        .parse()
        .expect("uuid");
    mark_read(&s, &ann, &groups[50], server_id).await;
    let u = unread_on_connect(&s, &ann).await;
    assert!(!u.more);
    assert_eq!(u.conversations.len(), 50);
    assert_eq!(
        u.conversations
            .last()
            .map(|c| c.conversation_id.to_string()),
        Some(groups[0].clone())
    );
}
