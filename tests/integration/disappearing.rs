//! Disappearing messages: the per-conversation timer (`PATCH
//! /v1/conversations/{id}` `disappearSecs`), who may set it, `expiresAt` on
//! messages sent under it, the `expired` events of the sweeper, and expired
//! messages gone from history and replay (even before the sweep).

use passerelle_client::ws::{ConversationChange, ServerFrame};
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

/// A node whose expiry sweeper runs every `secs`.
async fn sweeping_every(secs: u64) -> TestServer {
    builder()
        .env(
            "PASSERELLE__CONVERSATIONS__EXPIRY_SWEEP_SECS",
            secs.to_string(),
        )
        .spawn()
        .await
}

async fn set_timer(
    s: &TestServer,
    d: &Device,
    conversation: &str,
    secs: Value,
) -> reqwest::Response {
    call(
        s,
        d,
        Method::PATCH,
        &format!("/v1/conversations/{conversation}"),
        Some(json!({"disappearSecs": secs})),
    )
    .await
}

/// The direct conversation of `a` and `b`, created explicitly.
async fn direct(s: &TestServer, a: &Device, b: &Device) -> String {
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

/// Sends `m` on `conn` and waits for its `sent`; returns its id.
async fn send(
    conn: &mut passerelle_client::Connection,
    m: passerelle_client::ws::SendMessage,
) -> Uuid {
    conn.send_message(m.clone()).await.expect("send");
    assert!(matches!(next(conn).await, ServerFrame::Sent { .. }));
    m.message_id
}

fn message_of(frame: ServerFrame) -> passerelle_client::ws::MessageEvent {
    match frame {
        ServerFrame::Message { payload, .. } => payload,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn expired_of(frame: ServerFrame) -> (Uuid, Vec<Uuid>) {
    match frame {
        ServerFrame::Expired { payload, .. } => (payload.conversation_id, payload.message_ids),
        other => panic!("expected expired, got {other:?}"),
    }
}

#[tokio::test]
async fn either_side_of_a_direct_conversation_sets_the_timer_and_messages_expire_everywhere() {
    let s = sweeping_every(1).await;
    let a1 = register(&s, "dora").await;
    let a2 = login_ok(&s, "dora").await;
    let b = register(&s, "emil").await;
    let conversation = direct(&s, &a1, &b).await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    // A message from before the timer never expires.
    let kept = send(&mut ca1, message_to(&b.user_id)).await;
    assert_eq!(message_of(next(&mut cb).await).expires_at, None);
    next(&mut ca2).await;

    // The recipient side sets it; everyone is told, with the value.
    let resp = set_timer(&s, &b, &conversation, json!(2)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["disappearSecs"], 2);
    for e in expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb],
        &conversation,
        ConversationChange::TimerChanged,
        None,
    )
    .await
    {
        assert_eq!(e.disappear_secs, Some(2));
        assert_eq!(e.actor_id.map(|u| u.to_string()), Some(b.user_id.clone()));
    }
    // The same value again changes nothing and tells no one.
    let resp = set_timer(&s, &a1, &conversation, json!(2)).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let gone = send(&mut ca1, message_to(&b.user_id)).await;
    let event = message_of(next(&mut cb).await);
    let expires = event.expires_at.expect("expiresAt");
    assert_eq!(
        expires - event.server_timestamp,
        chrono::Duration::seconds(2)
    );
    assert_eq!(message_of(next(&mut ca2).await).expires_at, Some(expires));
    assert_eq!(history_ids(&s, &b, &conversation).await, vec![gone, kept]);

    // The sweeper deletes it and tells every device of both members.
    let conversation_id: Uuid = conversation.parse().expect("uuid");
    for conn in [&mut ca1, &mut ca2, &mut cb] {
        assert_eq!(expired_of(next(conn).await), (conversation_id, vec![gone]));
    }
    assert_eq!(history_ids(&s, &b, &conversation).await, vec![kept]);
    assert_eq!(history_ids(&s, &a1, &conversation).await, vec![kept]);

    // A device replaying from the start sees the expiry, never the message.
    let (_c, replayed) = ws_resumed(&s, &b, Some(0)).await;
    let mut messages = Vec::new();
    let mut expired = Vec::new();
    for f in replayed {
        match f {
            ServerFrame::Message { payload, .. } => messages.push(payload.message_id),
            ServerFrame::Expired { payload, .. } => expired.extend(payload.message_ids),
            _ => {}
        }
    }
    assert_eq!(messages, vec![kept]);
    assert_eq!(expired, vec![gone]);

    // Off again: told without a value; new messages carry no expiry.
    let resp = set_timer(&s, &a1, &conversation, Value::Null).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["disappearSecs"], Value::Null);
    for e in expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb],
        &conversation,
        ConversationChange::TimerChanged,
        None,
    )
    .await
    {
        assert_eq!(e.disappear_secs, None);
    }
    send(&mut ca1, message_to(&b.user_id)).await;
    assert_eq!(message_of(next(&mut cb).await).expires_at, None);
}

#[tokio::test]
async fn expired_messages_are_hidden_before_the_sweeper_runs() {
    // A sweeper that never runs during the test.
    let s = sweeping_every(3600).await;
    let a = register(&s, "fern").await;
    let b = register(&s, "gus").await;
    let conversation = direct(&s, &a, &b).await;
    let resp = set_timer(&s, &a, &conversation, json!(1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let first = send(&mut ca, message_to(&b.user_id)).await;
    assert_eq!(history_ids(&s, &b, &conversation).await, vec![first]);

    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    assert!(history_ids(&s, &b, &conversation).await.is_empty());
    assert!(history_ids(&s, &a, &conversation).await.is_empty());
    let (_cb, replayed) = ws_resumed(&s, &b, Some(0)).await;
    assert!(
        !replayed
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { .. })),
        "{replayed:?}"
    );
}

#[tokio::test]
async fn who_may_set_a_groups_timer_and_what_is_refused() {
    let s = sweeping_every(1).await;
    let owner = register(&s, "hana").await;
    let admin = register(&s, "ivo").await;
    let member = register(&s, "jan").await;
    let outsider = register(&s, "kit").await;
    let group = group_with(&s, &owner, "timers", &[&admin, &member]).await;
    let resp = call(
        &s,
        &owner,
        Method::PUT,
        &format!("/v1/conversations/{group}/members/{}/role", admin.user_id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let (mut cm, _) = ws_resumed(&s, &member, None).await;

    // A plain member may not; an outsider cannot even see the group.
    let resp = set_timer(&s, &member, &group, json!(60)).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = set_timer(&s, &outsider, &group, json!(60)).await;
    not_found_body(resp).await;
    // Out of range, or not a number: refused before anything is read.
    for bad in [json!(0), json!(31_536_001), json!(-5)] {
        let resp = set_timer(&s, &admin, &group, bad.clone()).await;
        assert!(
            resp.status() == StatusCode::UNPROCESSABLE_ENTITY
                || resp.status() == StatusCode::BAD_REQUEST,
            "{bad}: {}",
            resp.status()
        );
    }
    let resp = set_timer(&s, &admin, &group, json!("soon")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // None of that changed anything.
    let resp = call(
        &s,
        &member,
        Method::GET,
        &format!("/v1/conversations/{group}"),
        None,
    )
    .await;
    assert_eq!(json(resp).await["disappearSecs"], Value::Null);
    quiet(&mut cm, 300).await;

    // An admin may; the members hear of it and group messages expire.
    let resp = set_timer(&s, &admin, &group, json!(1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let e = next_change(&mut cm).await;
    assert_eq!(e.change, ConversationChange::TimerChanged);
    assert_eq!(e.disappear_secs, Some(1));
    let (mut co, _) = ws_resumed(&s, &owner, None).await;
    let sent = send(&mut co, message_in(&group)).await;
    assert!(message_of(next(&mut cm).await).expires_at.is_some());
    let (conversation, ids) = expired_of(next(&mut cm).await);
    assert_eq!((conversation.to_string(), ids), (group.clone(), vec![sent]));

    // Group settings still cannot be put on a direct conversation.
    let conversation = direct(&s, &owner, &member).await;
    let resp = call(
        &s,
        &owner,
        Method::PATCH,
        &format!("/v1/conversations/{conversation}"),
        Some(json!({"disappearSecs": 30, "title": "no"})),
    )
    .await;
    expect_error(resp, StatusCode::CONFLICT, "direct_conversation").await;
    let resp = call(
        &s,
        &owner,
        Method::GET,
        &format!("/v1/conversations/{conversation}"),
        None,
    )
    .await;
    assert_eq!(json(resp).await["disappearSecs"], Value::Null);
    // And an outsider cannot set the timer of someone else's direct one.
    let resp = set_timer(&s, &outsider, &conversation, json!(30)).await;
    not_found_body(resp).await;
}

#[tokio::test]
async fn an_expiring_message_withheld_by_a_block_is_announced_to_its_sender_only() {
    let s = sweeping_every(1).await;
    let a = register(&s, "lou").await;
    let b = register(&s, "max").await;
    let conversation = direct(&s, &a, &b).await;
    let resp = set_timer(&s, &b, &conversation, json!(1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = set_block(&s, &b, &a.user_id, true).await;
    assert!(resp.status().is_success());
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    let withheld = send(&mut ca, message_to(&b.user_id)).await;
    let conversation_id: Uuid = conversation.parse().expect("uuid");
    assert_eq!(
        expired_of(next(&mut ca).await),
        (conversation_id, vec![withheld])
    );
    // The blocker hears of neither the message nor its expiry.
    quiet(&mut cb, 1500).await;
}

#[tokio::test]
async fn blockers_hear_nothing_of_the_people_they_block() {
    let s = sweeping_every(1).await;
    let owner = register(&s, "nia").await;
    let blocked = register(&s, "ozzy").await;
    let group = group_with(&s, &owner, "blockers-club", &[&blocked]).await;
    let conversation = direct(&s, &owner, &blocked).await;
    assert_eq!(
        set_block(&s, &owner, &blocked.user_id, true).await.status(),
        204
    );
    let resp = set_timer(&s, &owner, &group, json!(1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (mut co, _) = ws_resumed(&s, &owner, None).await;
    let (mut cb, _) = ws_resumed(&s, &blocked, None).await;

    // The blocked user changes the direct conversation's timer: it applies,
    // but the blocker is not told by whom (no event to them).
    let resp = set_timer(&s, &blocked, &conversation, json!(30)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        next_change(&mut cb).await.change,
        ConversationChange::TimerChanged
    );
    let resp = call(
        &s,
        &owner,
        Method::GET,
        &format!("/v1/conversations/{conversation}"),
        None,
    )
    .await;
    assert_eq!(json(resp).await["disappearSecs"], 30);

    // A group message of the blocked member expires: its sender hears of
    // it, the blocker (who never had it) does not.
    let m = send(&mut cb, message_in(&group)).await;
    let (c, ids) = expired_of(next(&mut cb).await);
    assert_eq!((c.to_string(), ids), (group.clone(), vec![m]));
    quiet(&mut co, 500).await;
}
