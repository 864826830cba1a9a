//! Direct conversations over REST (get-or-create, the same conversation as
//! the send path's, blocks, concurrent creation, no membership changes) and
//! the caller's conversation list.

use std::collections::BTreeSet;

use passerelle_client::ws::{ConversationChange, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

async fn direct(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    user: &str,
) -> reqwest::Response {
    call(
        s,
        d,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": user})),
    )
    .await
}

#[tokio::test]
async fn direct_conversations_are_got_or_created_like_the_send_path() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;

    // The send path creates the pair's conversation with the first message.
    let (mut ca, _) = ws_resumed(&s, &alice, None).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    ca.send_message(message_to(&bob.user_id)).await.unwrap();
    assert!(matches!(next(&mut ca).await, ServerFrame::Sent { .. }));
    let ServerFrame::Message { payload, .. } = next(&mut cb).await else {
        panic!("a message");
    };
    let from_send = payload.conversation_id.expect("conversationId").to_string();

    // REST finds that one, from either side, and creates nothing.
    for (me, them) in [(&alice, &bob), (&bob, &alice)] {
        let resp = direct(&s, me, &them.user_id).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let c = json(resp).await;
        assert_eq!(c["id"], from_send.as_str());
        assert_eq!(c["kind"], "direct");
        assert_eq!(c["peerId"], them.user_id.as_str());
        assert_eq!(c["memberCount"], 2);
        assert_eq!(c["role"], "member");
        assert!(c["name"].is_null() && c["joinToken"].is_null(), "{c}");
    }
    quiet(&mut ca, 200).await;
    quiet(&mut cb, 200).await;

    // A new pair: 201 the first time, 200 after, one id; only the
    // creator's devices (both) hear of it.
    let carol = register(&s, "carol").await;
    let carol2 = login_ok(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let (mut cc1, _) = ws_resumed(&s, &carol, None).await;
    let (mut cc2, _) = ws_resumed(&s, &carol2, None).await;
    let (mut cd, _) = ws_resumed(&s, &dave, None).await;
    let resp = direct(&s, &carol, &dave.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created = json(resp).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let events = expect_change(
        &mut [&mut cc1, &mut cc2],
        &id,
        ConversationChange::Created,
        None,
    )
    .await;
    assert_eq!(events[0].actor_id.unwrap().to_string(), carol.user_id);
    quiet(&mut cd, 300).await;
    let again = direct(&s, &carol, &dave.user_id).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(json(again).await["id"], id.as_str());
    let theirs = direct(&s, &dave, &carol.user_id).await;
    assert_eq!(theirs.status(), StatusCode::OK);
    assert_eq!(json(theirs).await["id"], id.as_str());

    // Dave sees it in his list; a message to carol lands in it.
    let list = json(call(&s, &dave, Method::GET, "/v1/conversations", None).await).await;
    let ids: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    cd.send_message(message_to(&carol.user_id)).await.unwrap();
    assert!(matches!(next(&mut cd).await, ServerFrame::Sent { .. }));
    let ServerFrame::Message { payload, .. } = next(&mut cc1).await else {
        panic!("a message");
    };
    assert_eq!(payload.conversation_id.unwrap().to_string(), id);

    // A conversation with oneself is one member's.
    let resp = direct(&s, &alice, &alice.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let own = json(resp).await;
    assert_eq!(own["memberCount"], 1);
    assert_eq!(own["peerId"], alice.user_id.as_str());

    // Outsiders: the same 404 as an id that names nothing.
    let eve = register(&s, "eve").await;
    let missing = not_found_body(
        call(
            &s,
            &eve,
            Method::GET,
            &format!("/v1/conversations/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await,
    )
    .await;
    let hidden = not_found_body(
        call(
            &s,
            &eve,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(missing, hidden);
}

#[tokio::test]
async fn unknown_users_and_blockers_get_the_same_404_but_an_existing_one_stays() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;

    set_block(&s, &bob, &alice.user_id, true).await;
    let blocked = not_found_body(direct(&s, &alice, &bob.user_id).await).await;
    let unknown = not_found_body(direct(&s, &alice, &uuid::Uuid::new_v4().to_string()).await).await;
    assert_eq!(blocked, unknown);
    // Nothing was created: bob has no conversation either.
    let list = json(call(&s, &bob, Method::GET, "/v1/conversations", None).await).await;
    assert_eq!(list["conversations"], json!([]));

    // Blocking someone does not stop oneself from opening the conversation.
    let resp = direct(&s, &bob, &alice.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    // An existing conversation is still answered after a block, so the
    // block is not revealed.
    let first = json(direct(&s, &alice, &carol.user_id).await).await;
    set_block(&s, &carol, &alice.user_id, true).await;
    let resp = direct(&s, &alice, &carol.user_id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["id"], first["id"]);

    // Malformed bodies.
    for (body, status, code) in [
        (
            json!({"kind": "direct"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"kind": "direct", "userId": bob.user_id, "name": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"kind": "link"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"userId": bob.user_id}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ] {
        let resp = call(&s, &alice, Method::POST, "/v1/conversations", Some(body)).await;
        expect_error(resp, status, code).await;
    }
}

#[tokio::test]
async fn concurrent_creation_gives_one_conversation() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (me, them) = if i % 2 == 0 {
            (alice.clone(), bob.user_id.clone())
        } else {
            (bob.clone(), alice.user_id.clone())
        };
        let http = s.http().clone();
        let url = s.url("/v1/conversations");
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(&me.access)
                .json(&json!({"kind": "direct", "userId": them}))
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap();
            (status, body["id"].as_str().unwrap().to_owned())
        }));
    }
    let mut statuses = Vec::new();
    let mut ids = BTreeSet::new();
    for t in tasks {
        let (status, id) = t.await.unwrap();
        statuses.push(status);
        ids.insert(id);
    }
    assert_eq!(ids.len(), 1, "one conversation: {ids:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    for d in [&alice, &bob] {
        let list = json(call(&s, d, Method::GET, "/v1/conversations", None).await).await;
        assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
        let id = ids.first().unwrap();
        assert_eq!(member_ids(&s, d, id).await.len(), 2);
    }
}

#[tokio::test]
async fn direct_conversations_take_no_settings_or_membership_changes() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let c = json(direct(&s, &alice, &bob.user_id).await).await;
    let id = c["id"].as_str().unwrap();
    let base = format!("/v1/conversations/{id}");
    let calls = [
        (Method::PATCH, base.clone(), Some(json!({"title": "x"}))),
        (
            Method::POST,
            format!("{base}/members"),
            Some(json!({"userId": carol.user_id})),
        ),
        (
            Method::DELETE,
            format!("{base}/members/{}", bob.user_id),
            None,
        ),
        (
            Method::DELETE,
            format!("{base}/members/{}", alice.user_id),
            None,
        ),
        (
            Method::PUT,
            format!("{base}/members/{}/role", bob.user_id),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::POST,
            format!("{base}/owner"),
            Some(json!({"userId": bob.user_id})),
        ),
        (Method::POST, format!("{base}/join-link"), None),
        (Method::DELETE, format!("{base}/join-link"), None),
    ];
    for (method, path, body) in &calls {
        let resp = call(&s, &alice, method.clone(), path, body.clone()).await;
        expect_error(resp, StatusCode::CONFLICT, "direct_conversation").await;
        // An outsider cannot tell it exists.
        let resp = call(&s, &carol, method.clone(), path, body.clone()).await;
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Joining one's own direct conversation is a no-op; an outsider's 404.
    let resp = call(&s, &bob, Method::POST, &format!("{base}/join"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(&s, &carol, Method::POST, &format!("{base}/join"), None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(member_ids(&s, &alice, id).await.len(), 2);
}

#[tokio::test]
async fn the_conversation_list_is_paged_with_cursors() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let mut created = Vec::new();
    for i in 0..5 {
        let g = new_group(&s, &alice, &format!("club-{i}"), json!({})).await;
        assert_eq!(g["role"], "owner");
        created.push(g["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/conversations?limit=2&cursor={c}"),
            None => "/v1/conversations?limit=2".to_owned(),
        };
        let body = json(call(&s, &alice, Method::GET, &path, None).await).await;
        pages += 1;
        for c in body["conversations"].as_array().unwrap() {
            assert_eq!(c["kind"], "group");
            assert_eq!(c["memberCount"], 1);
            assert!(c["joinedAt"].is_string());
            seen.push(c["id"].as_str().unwrap().to_owned());
        }
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "oldest membership first, each once");
    let resp = call(&s, &alice, Method::GET, "/v1/conversations?limit=0", None).await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let resp = call(
        &s,
        &alice,
        Method::GET,
        "/v1/conversations?cursor=nope",
        None,
    )
    .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_query").await;
    // Someone else's list is their own.
    let bob = register(&s, "bob").await;
    let body = json(call(&s, &bob, Method::GET, "/v1/conversations", None).await).await;
    assert_eq!(body["conversations"], json!([]));
}
