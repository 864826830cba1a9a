//! Message requests ("who can message me"): with `messagePolicy: contacts`,
//! a direct conversation started by someone outside your contacts is a
//! request to you: its messages are delivered as a request, you accept
//! (explicitly, by replying or by adding them as a contact) or decline (their
//! later messages are withheld like a block's), and the requester is told
//! nothing that reveals the policy. Attackers (the requester, outsiders,
//! revoked devices) cannot answer or see requests; a block wins.

use passerelle_client::ws::{ConversationChange, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

type Conn = passerelle_client::Connection;

/// Sends `m` and asserts an ordinary `sent` (a sequence, not a duplicate).
async fn sent_ok(conn: &mut Conn, m: passerelle_client::ws::SendMessage) {
    conn.send_message(m.clone()).await.expect("send");
    match next(conn).await {
        ServerFrame::Sent { payload, .. } => {
            assert_eq!(payload.message_id, m.message_id);
            assert!(payload.seq > 0 && !payload.duplicate, "{payload:?}");
        }
        other => panic!("expected sent, got {other:?}"),
    }
}

/// The next frame is the message `id`; returns its conversation.
async fn expect_message(conn: &mut Conn, id: Uuid) -> Uuid {
    match next(conn).await {
        ServerFrame::Message { payload, .. } => {
            assert_eq!(payload.message_id, id);
            payload.conversation_id.expect("conversationId")
        }
        other => panic!("expected message {id}, got {other:?}"),
    }
}

async fn contacts_only(s: &passerelle_test_support::TestServer, d: &Device) {
    let resp = patch_me(s, d, json!({"messagePolicy": "contacts"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn requests_of(s: &passerelle_test_support::TestServer, d: &Device) -> Vec<Value> {
    let resp = call(s, d, Method::GET, "/v1/message-requests", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["requests"]
        .as_array()
        .expect("requests")
        .clone()
}

async fn answer(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    conversation: &str,
    verb: &str,
) -> reqwest::Response {
    call(
        s,
        d,
        Method::POST,
        &format!("/v1/message-requests/{conversation}/{verb}"),
        None,
    )
    .await
}

async fn conversation(s: &passerelle_test_support::TestServer, d: &Device, id: &str) -> Value {
    let resp = call(s, d, Method::GET, &format!("/v1/conversations/{id}"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await
}

/// The `messageId`s of a conversation's history as `d` reads it.
async fn history_ids(s: &passerelle_test_support::TestServer, d: &Device, id: &str) -> Vec<String> {
    let resp = call(
        s,
        d,
        Method::GET,
        &format!("/v1/conversations/{id}/messages"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["messageId"].as_str().expect("messageId").to_owned())
        .collect()
}

#[tokio::test]
async fn a_strangers_first_message_is_a_request_until_accepted() {
    let s = server().await;
    let x1 = register(&s, "xavier").await;
    let x2 = login_ok(&s, "xavier").await;
    let y1 = register(&s, "yolanda").await;
    let y2 = login_ok(&s, "yolanda").await;
    contacts_only(&s, &y1).await;
    let resp = patch_me(&s, &x1, json!({"displayName": "Xavier"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (mut cx1, _) = ws_resumed(&s, &x1, None).await;
    let (mut cx2, _) = ws_resumed(&s, &x2, None).await;
    let (mut cy1, _) = ws_resumed(&s, &y1, None).await;

    // X is told nothing special: an ordinary `sent`, a sync copy.
    let first = message_to(&y1.user_id);
    sent_ok(&mut cx1, first.clone()).await;
    let conv = expect_message(&mut cx2, first.message_id).await;
    let conv_s = conv.to_string();
    // Y: the request, then the message.
    let e = next_change(&mut cy1).await;
    assert_eq!(e.change, ConversationChange::RequestReceived);
    assert_eq!(e.conversation_id, conv);
    assert_eq!(e.user_id.map(|u| u.to_string()), Some(x1.user_id.clone()));
    assert_eq!(expect_message(&mut cy1, first.message_id).await, conv);
    quiet(&mut cx1, 200).await;
    quiet(&mut cx2, 100).await;

    // A device that was offline reads both on resume.
    let (_cy2, replayed) = ws_resumed(&s, &y2, Some(0)).await;
    assert!(
        matches!(&replayed[..], [ServerFrame::Conversation { payload, .. }, ServerFrame::Message { .. }]
            if payload.change == ConversationChange::RequestReceived),
        "{replayed:?}"
    );

    // Y's inbox and views; X sees an ordinary conversation.
    let inbox = requests_of(&s, &y1).await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["conversationId"], conv_s);
    assert_eq!(inbox[0]["requester"]["userId"], x1.user_id);
    assert_eq!(inbox[0]["requester"]["username"], "xavier");
    assert_eq!(inbox[0]["requester"]["displayName"], "Xavier");
    assert!(inbox[0]["createdAt"].is_string());
    assert!(requests_of(&s, &x1).await.is_empty());
    assert_eq!(conversation(&s, &y1, &conv_s).await["request"], "pending");
    assert!(conversation(&s, &x1, &conv_s).await["request"].is_null());
    let listed = json(call(&s, &y1, Method::GET, "/v1/conversations", None).await).await;
    assert_eq!(listed["conversations"][0]["request"], "pending", "{listed}");
    let listed = json(call(&s, &x1, Method::GET, "/v1/conversations", None).await).await;
    assert!(listed["conversations"][0]["request"].is_null(), "{listed}");
    // Messages of a pending request are delivered: in Y's history too.
    assert_eq!(
        history_ids(&s, &y1, &conv_s).await,
        vec![first.message_id.to_string()]
    );

    // Accepting: an ordinary conversation, both sides told.
    let resp = answer(&s, &y1, &conv_s, "accept").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["id"], conv_s);
    assert!(body["request"].is_null(), "{body}");
    for conn in [&mut cy1, &mut cx1, &mut cx2] {
        let e = next_change(conn).await;
        assert_eq!(e.change, ConversationChange::RequestAccepted);
        assert_eq!(e.user_id.map(|u| u.to_string()), Some(x1.user_id.clone()));
        assert_eq!(e.actor_id.map(|u| u.to_string()), Some(y1.user_id.clone()));
    }
    assert!(requests_of(&s, &y1).await.is_empty());
    assert!(conversation(&s, &y1, &conv_s).await["request"].is_null());
    // It is no longer a request: answering again is 404.
    let resp = answer(&s, &y1, &conv_s, "accept").await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = answer(&s, &y1, &conv_s, "decline").await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let later = message_to(&y1.user_id);
    sent_ok(&mut cx1, later.clone()).await;
    expect_message(&mut cy1, later.message_id).await;
}

#[tokio::test]
async fn declining_withholds_later_messages_until_the_addressee_replies() {
    let s = server().await;
    let x1 = register(&s, "xena").await;
    let x2 = login_ok(&s, "xena").await;
    let y = register(&s, "yusuf").await;
    contacts_only(&s, &y).await;
    let (mut cx1, _) = ws_resumed(&s, &x1, None).await;
    let (mut cx2, _) = ws_resumed(&s, &x2, None).await;
    let (mut cy, _) = ws_resumed(&s, &y, None).await;

    let first = message_to(&y.user_id);
    sent_ok(&mut cx1, first.clone()).await;
    let conv = expect_message(&mut cx2, first.message_id).await;
    let conv_s = conv.to_string();
    assert_eq!(
        next_change(&mut cy).await.change,
        ConversationChange::RequestReceived
    );
    expect_message(&mut cy, first.message_id).await;

    let resp = answer(&s, &y, &conv_s, "decline").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let e = next_change(&mut cy).await;
    assert_eq!(e.change, ConversationChange::RequestDeclined);
    assert_eq!(e.user_id.map(|u| u.to_string()), Some(x1.user_id.clone()));
    // The requester is told nothing.
    quiet(&mut cx1, 300).await;
    quiet(&mut cx2, 100).await;
    assert!(requests_of(&s, &y).await.is_empty());
    assert_eq!(conversation(&s, &y, &conv_s).await["request"], "declined");
    assert!(conversation(&s, &x1, &conv_s).await["request"].is_null());
    // Declining again changes nothing and tells nobody.
    let resp = answer(&s, &y, &conv_s, "decline").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    quiet(&mut cy, 200).await;

    // Later messages, by recipient or by conversation: ordinary acks and
    // sync copies for X, nothing for Y, live or in history.
    let by_recipient = message_to(&y.user_id);
    sent_ok(&mut cx1, by_recipient.clone()).await;
    expect_message(&mut cx2, by_recipient.message_id).await;
    let by_conversation = message_in(&conv_s);
    sent_ok(&mut cx1, by_conversation.clone()).await;
    expect_message(&mut cx2, by_conversation.message_id).await;
    quiet(&mut cy, 300).await;
    assert_eq!(
        history_ids(&s, &y, &conv_s).await,
        vec![first.message_id.to_string()]
    );
    assert_eq!(history_ids(&s, &x1, &conv_s).await.len(), 3);

    // Y replying accepts it: both sides told, and X's messages arrive again
    // (the withheld ones stay withheld).
    let reply = message_to(&x1.user_id);
    sent_ok(&mut cy, reply.clone()).await;
    let e = next_change(&mut cy).await;
    assert_eq!(e.change, ConversationChange::RequestAccepted);
    for conn in [&mut cx1, &mut cx2] {
        let e = next_change(conn).await;
        assert_eq!(e.change, ConversationChange::RequestAccepted);
        assert_eq!(e.actor_id.map(|u| u.to_string()), Some(y.user_id.clone()));
        expect_message(conn, reply.message_id).await;
    }
    assert!(conversation(&s, &y, &conv_s).await["request"].is_null());
    let again = message_to(&y.user_id);
    sent_ok(&mut cx1, again.clone()).await;
    expect_message(&mut cy, again.message_id).await;
    assert_eq!(history_ids(&s, &y, &conv_s).await.len(), 3);
}

#[tokio::test]
async fn contacts_existing_conversations_and_open_policies_make_no_requests() {
    let s = server().await;
    let y = register(&s, "yara").await;
    let friend = register(&s, "faye").await;
    let old = register(&s, "otto").await;
    let open = register(&s, "opal").await;
    let stranger = register(&s, "sten").await;
    let (mut cy, _) = ws_resumed(&s, &y, None).await;
    let (mut co, _) = ws_resumed(&s, &old, None).await;

    // A conversation that existed before Y asked for requests stays as it is.
    let before = message_to(&y.user_id);
    sent_ok(&mut co, before.clone()).await;
    let old_conv = expect_message(&mut cy, before.message_id).await;
    contacts_only(&s, &y).await;
    let resp = add_contact(&s, &y, json!({"userId": friend.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    let after = message_to(&y.user_id);
    sent_ok(&mut co, after.clone()).await;
    expect_message(&mut cy, after.message_id).await;
    // A contact's first message is an ordinary one.
    let (mut cf, _) = ws_resumed(&s, &friend, None).await;
    let m = message_to(&y.user_id);
    sent_ok(&mut cf, m.clone()).await;
    let friend_conv = expect_message(&mut cy, m.message_id).await;
    // A message to oneself is never a request.
    let own = message_to(&y.user_id);
    sent_ok(&mut cy, own).await;
    quiet(&mut cy, 200).await;
    assert!(requests_of(&s, &y).await.is_empty());
    for id in [old_conv, friend_conv] {
        assert!(conversation(&s, &y, &id.to_string()).await["request"].is_null());
    }

    // `everyone` (the default): a stranger's first message is ordinary.
    let (mut cs, _) = ws_resumed(&s, &stranger, None).await;
    let (mut cp, _) = ws_resumed(&s, &open, None).await;
    let m = message_to(&open.user_id);
    sent_ok(&mut cs, m.clone()).await;
    expect_message(&mut cp, m.message_id).await;
    assert!(requests_of(&s, &open).await.is_empty());
}

#[tokio::test]
async fn conversations_created_over_rest_are_requests_and_adding_a_contact_accepts() {
    let s = server().await;
    let x = register(&s, "xiomara").await;
    let y = register(&s, "yves").await;
    contacts_only(&s, &y).await;
    let (mut cx, _) = ws_resumed(&s, &x, None).await;
    let (mut cy, _) = ws_resumed(&s, &y, None).await;

    let resp = call(
        &s,
        &x,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": y.user_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let c = json(resp).await;
    assert!(c["request"].is_null(), "nothing for the requester: {c}");
    let conv = c["id"].as_str().expect("id").to_owned();
    assert_eq!(
        next_change(&mut cx).await.change,
        ConversationChange::Created
    );
    let e = next_change(&mut cy).await;
    assert_eq!(e.change, ConversationChange::RequestReceived);
    assert_eq!(e.conversation_id.to_string(), conv);
    assert_eq!(requests_of(&s, &y).await.len(), 1);
    // Asking again finds the same conversation and announces nothing.
    let resp = call(
        &s,
        &x,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": y.user_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    quiet(&mut cy, 200).await;

    // Y adds X as a contact: accepted, both told.
    let resp = add_contact(&s, &y, json!({"userId": x.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    for conn in [&mut cy, &mut cx] {
        let e = next_change(conn).await;
        assert_eq!(e.change, ConversationChange::RequestAccepted);
        assert_eq!(e.conversation_id.to_string(), conv);
    }
    assert!(requests_of(&s, &y).await.is_empty());
    assert!(conversation(&s, &y, &conv).await["request"].is_null());
}

#[tokio::test]
async fn only_the_addressee_sees_or_answers_a_request() {
    let s = server().await;
    let x = register(&s, "xander").await;
    let y = register(&s, "yasmin").await;
    let y_gone = login_ok(&s, "yasmin").await;
    let z = register(&s, "zora").await;
    contacts_only(&s, &y).await;
    let (mut cx, _) = ws_resumed(&s, &x, None).await;
    let first = message_to(&y.user_id);
    sent_ok(&mut cx, first).await;
    let conv =
        json(call(&s, &x, Method::GET, "/v1/conversations", None).await).await["conversations"][0]
            ["id"]
            .as_str()
            .expect("id")
            .to_owned();
    let unknown = Uuid::now_v7().to_string();
    let reference = not_found_body(answer(&s, &y, &unknown, "accept").await).await;

    // The requester, an outsider, or an unknown id: the same 404, whatever
    // the verb; nothing changes.
    for who in [&x, &z, &y] {
        for verb in ["accept", "decline"] {
            let target = if std::ptr::eq(who, &y) {
                &unknown
            } else {
                &conv
            };
            let body = not_found_body(answer(&s, who, target, verb).await).await;
            assert_eq!(body, reference, "{verb}");
        }
    }
    assert!(requests_of(&s, &x).await.is_empty());
    assert!(requests_of(&s, &z).await.is_empty());
    let resp = call(
        &s,
        &z,
        Method::GET,
        &format!("/v1/conversations/{conv}"),
        None,
    )
    .await;
    assert_eq!(not_found_body(resp).await, reference);
    let resp = answer(&s, &y, "not-a-uuid", "accept").await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;

    // A revoked device of the addressee can do nothing.
    let resp = call(
        &s,
        &y,
        Method::DELETE,
        &format!("/v1/devices/{}", y_gone.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for verb in ["accept", "decline"] {
        let resp = answer(&s, &y_gone, &conv, verb).await;
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let resp = call(&s, &y_gone, Method::GET, "/v1/message-requests", None).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Still pending for its addressee.
    let inbox = requests_of(&s, &y).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["conversationId"], conv);
    assert_eq!(conversation(&s, &y, &conv).await["request"], "pending");
}

#[tokio::test]
async fn a_block_wins_over_a_request() {
    let s = server().await;
    let x = register(&s, "xuan").await;
    let y = register(&s, "yann").await;
    contacts_only(&s, &y).await;
    assert_eq!(set_block(&s, &y, &x.user_id, true).await.status(), 204);
    let (mut cx, _) = ws_resumed(&s, &x, None).await;
    let (mut cy, _) = ws_resumed(&s, &y, None).await;

    // Blocked: an ordinary ack, nothing announced or delivered, not listed.
    let first = message_to(&y.user_id);
    sent_ok(&mut cx, first).await;
    quiet(&mut cy, 300).await;
    assert!(requests_of(&s, &y).await.is_empty());

    // Unblocked: the request shows (pending), and X's messages arrive as a
    // request again; the withheld one stays withheld.
    assert_eq!(set_block(&s, &y, &x.user_id, false).await.status(), 204);
    let inbox = requests_of(&s, &y).await;
    assert_eq!(inbox.len(), 1);
    let conv = inbox[0]["conversationId"].as_str().expect("id").to_owned();
    let second = message_to(&y.user_id);
    sent_ok(&mut cx, second.clone()).await;
    expect_message(&mut cy, second.message_id).await;
    assert_eq!(
        history_ids(&s, &y, &conv).await,
        vec![second.message_id.to_string()]
    );

    // Accepting does not lift a block made later: the block wins.
    let resp = answer(&s, &y, &conv, "accept").await;
    assert_eq!(resp.status(), StatusCode::OK);
    for conn in [&mut cy, &mut cx] {
        assert_eq!(
            next_change(conn).await.change,
            ConversationChange::RequestAccepted
        );
    }
    assert_eq!(set_block(&s, &y, &x.user_id, true).await.status(), 204);
    let third = message_to(&y.user_id);
    sent_ok(&mut cx, third).await;
    quiet(&mut cy, 300).await;
}

#[tokio::test]
async fn requests_are_paged_oldest_first() {
    let s = server().await;
    let y = register(&s, "yvonne").await;
    contacts_only(&s, &y).await;
    let mut expected = Vec::new();
    for name in ["pam", "quin", "rhea"] {
        let d = register(&s, name).await;
        let resp = call(
            &s,
            &d,
            Method::POST,
            "/v1/conversations",
            Some(json!({"kind": "direct", "userId": y.user_id})),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        expected.push(d.user_id.clone());
    }
    let first = json(call(&s, &y, Method::GET, "/v1/message-requests?limit=2", None).await).await;
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = json(
        call(
            &s,
            &y,
            Method::GET,
            &format!("/v1/message-requests?limit=2&cursor={cursor}"),
            None,
        )
        .await,
    )
    .await;
    assert!(second["nextCursor"].is_null(), "{second}");
    let got: Vec<String> = first["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(second["requests"].as_array().into_iter().flatten())
        .map(|r| r["requester"]["userId"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(got, expected);

    let resp = call(&s, &y, Method::GET, "/v1/message-requests?limit=0", None).await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let resp = call(
        &s,
        &y,
        Method::GET,
        "/v1/message-requests?cursor=nope",
        None,
    )
    .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_query").await;
}
