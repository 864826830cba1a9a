//! `GET /v1/conversations/{id}/messages`: paging both ways, members only,
//! withheld messages hidden from the blocker, bad queries refused.

use passerelle_client::ws::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::common::*;

/// Sends `n` messages from `from` to `to`'s user and returns their
/// message ids in order.
async fn chat(from: &mut passerelle_client::Connection, to: &Device, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let m = message_to(&to.user_id);
        from.send_message(m.clone()).await.unwrap();
        assert!(matches!(next(from).await, ServerFrame::Sent { .. }));
        ids.push(m.message_id);
    }
    ids
}

/// The conversation of the next frame, a message.
async fn first_conversation(conn: &mut passerelle_client::Connection) -> Uuid {
    match next(conn).await {
        ServerFrame::Message { payload, .. } => payload.conversation_id.expect("conversationId"),
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn page(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    conversation: Uuid,
    query: &str,
) -> reqwest::Response {
    let path = format!("/v1/conversations/{conversation}/messages{query}");
    authed(s, Method::GET, &path, &d.access)
        .send()
        .await
        .unwrap()
}

fn ids_of(body: &Value) -> Vec<Uuid> {
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["messageId"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn members_page_through_history_both_ways() {
    let s = server().await;
    let a = register(&s, "nia").await;
    let b = register(&s, "ozzy").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let sent = chat(&mut ca, &b, 5).await;
    let conversation = first_conversation(&mut cb).await;

    // Newest first, two at a time.
    let first = json(page(&s, &b, conversation, "?limit=2").await).await;
    assert_eq!(ids_of(&first), vec![sent[4], sent[3]]);
    assert_eq!(first["more"], true);
    let last = first["messages"][1]["serverId"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = json(page(&s, &b, conversation, &format!("?limit=2&before={last}")).await).await;
    assert_eq!(ids_of(&second), vec![sent[2], sent[1]]);
    let last = second["messages"][1]["serverId"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = json(page(&s, &b, conversation, &format!("?limit=2&before={last}")).await).await;
    assert_eq!(ids_of(&third), vec![sent[0]]);
    assert_eq!(third["more"], false);

    // Since a known message, oldest first; the sender sees the same.
    let oldest = third["messages"][0]["serverId"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = json(page(&s, &a, conversation, &format!("?after={oldest}")).await).await;
    assert_eq!(ids_of(&since), sent[1..].to_vec());
    assert_eq!(since["more"], false);
    let item = &since["messages"][0];
    assert_eq!(item["conversationId"], conversation.to_string());
    assert_eq!(item["senderId"], a.user_id.as_str());
    for forbidden in ["content", "body", "text", "ciphertext", "key"] {
        assert!(item.get(forbidden).is_none(), "metadata only: {item}");
    }
}

#[tokio::test]
async fn outsiders_get_the_same_404_as_for_nothing() {
    let s = server().await;
    let a = register(&s, "pia").await;
    let b = register(&s, "quin").await;
    let mallory = register(&s, "mallory").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    chat(&mut ca, &b, 1).await;
    let conversation = first_conversation(&mut cb).await;

    let theirs = not_found_body(page(&s, &mallory, conversation, "").await).await;
    let nothing = not_found_body(page(&s, &mallory, Uuid::new_v4(), "").await).await;
    assert_eq!(theirs, nothing);

    // A revoked device of a member is refused before anything is read.
    let b2 = login_ok(&s, "quin").await;
    let revoke = authed(
        &s,
        Method::DELETE,
        &format!("/v1/devices/{}", b2.device_id),
        &b.access,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let resp = page(&s, &b2, conversation, "").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_message_withheld_by_a_block_is_only_in_the_senders_history() {
    let s = server().await;
    let a = register(&s, "rae").await;
    let b = register(&s, "sol").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let before = chat(&mut ca, &b, 1).await;
    let conversation = first_conversation(&mut cb).await;
    assert_eq!(set_block(&s, &b, &a.user_id, true).await.status(), 204);
    let withheld = chat(&mut ca, &b, 1).await;

    let at_a = json(page(&s, &a, conversation, "").await).await;
    assert_eq!(ids_of(&at_a), vec![withheld[0], before[0]]);
    let at_b = json(page(&s, &b, conversation, "").await).await;
    assert_eq!(ids_of(&at_b), vec![before[0]]);
}

#[tokio::test]
async fn bad_history_queries_are_refused() {
    let s = server().await;
    let a = register(&s, "tao").await;
    let b = register(&s, "uma").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    chat(&mut ca, &b, 1).await;
    let conversation = first_conversation(&mut cb).await;
    for (query, status, code) in [
        (
            "?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "?limit=101",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "?before=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&after=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "?before=yesterday",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        ("?cursor=abc", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        let resp = page(&s, &a, conversation, query).await;
        expect_error(resp, status, code).await;
    }
    let resp = authed(
        &s,
        Method::GET,
        "/v1/conversations/not-a-uuid/messages",
        &a.access,
    )
    .send()
    .await
    .unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
}

#[tokio::test]
async fn group_history_starts_when_you_joined_and_ends_when_you_leave() {
    let s = server().await;
    let owner = register(&s, "vic").await;
    let early = register(&s, "wes").await;
    let late = register(&s, "xia").await;
    let group = group_with(&s, &owner, "history-club", &[&early]).await;
    let conversation: Uuid = group.parse().unwrap();
    let (mut co, _) = ws_resumed(&s, &owner, None).await;

    let before = message_in(&group);
    co.send_message(before.clone()).await.unwrap();
    assert!(matches!(next(&mut co).await, ServerFrame::Sent { .. }));
    assert_eq!(
        add_member(&s, &owner, &group, &late.user_id).await.status(),
        StatusCode::CREATED
    );
    let after = message_in(&group);
    co.send_message(after.clone()).await.unwrap();
    // The owner's session also gets the membership event; skip to `sent`.
    loop {
        if let ServerFrame::Sent { payload, .. } = next(&mut co).await {
            assert_eq!(payload.message_id, after.message_id);
            break;
        }
    }

    let at_early = json(page(&s, &early, conversation, "").await).await;
    assert_eq!(ids_of(&at_early), vec![after.message_id, before.message_id]);
    let at_late = json(page(&s, &late, conversation, "").await).await;
    assert_eq!(
        ids_of(&at_late),
        vec![after.message_id],
        "nothing from before joining"
    );

    // Removed: the history is gone with the membership, the same 404 as for
    // a stranger.
    let remove = call(
        &s,
        &owner,
        Method::DELETE,
        &format!("/v1/conversations/{group}/members/{}", late.user_id),
        None,
    )
    .await;
    assert_eq!(remove.status(), StatusCode::NO_CONTENT);
    let gone = not_found_body(page(&s, &late, conversation, "").await).await;
    let nothing = not_found_body(page(&s, &late, Uuid::new_v4(), "").await).await;
    assert_eq!(gone, nothing);
}
