//! Link rooms end to end on one node: creating a room, entering it by its
//! link from several users and sessions, the live participant events, the
//! room's messages, leaving (by frame, by closing, by revocation, by
//! deleting the account), the room deleted with everything in it after the
//! last participant, rooms nobody entered swept after the grace, limits,
//! and the attacker's side (bad links, outsiders, group endpoints). The
//! multi-node cases are in `link_rooms_nodes.rs`.

use std::time::Duration;

use passerelle_client::Connection;
use passerelle_client::ws::{
    ClientFrame, EnterRoom, FrameErrorCode, LeaveRoom, RoomChange, RoomEntered, RoomLeft,
    ServerFrame,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

/// A new link room created by `d`: its link, its conversation id, the body.
pub async fn new_room(
    s: &passerelle_test_support::TestServer,
    d: &Device,
) -> (Uuid, String, Value) {
    let resp = call(s, d, Method::POST, "/v1/rooms", None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = json(resp).await;
    let link: Uuid = body["link"].as_str().unwrap().parse().unwrap();
    let id = body["conversationId"].as_str().unwrap().to_owned();
    (link, id, body)
}

/// Sends `enter_room` (with a correlation id) and returns the answer's
/// payload, which must be `room_entered`.
pub async fn enter(conn: &mut Connection, link: Uuid) -> RoomEntered {
    conn.send(&ClientFrame::EnterRoom(EnterRoom { link }), Some("enter"))
        .await
        .unwrap();
    match next(conn).await {
        ServerFrame::RoomEntered { id, payload } => {
            assert_eq!(id.as_deref(), Some("enter"));
            payload
        }
        other => panic!("expected room_entered, got {other:?}"),
    }
}

/// Sends `leave_room` and returns the answer, which must be `room_left`.
pub async fn leave(conn: &mut Connection, conversation: &str) -> RoomLeft {
    conn.send(
        &ClientFrame::LeaveRoom(LeaveRoom {
            conversation_id: conversation.parse().unwrap(),
        }),
        Some("leave"),
    )
    .await
    .unwrap();
    match next(conn).await {
        ServerFrame::RoomLeft { id, payload } => {
            assert_eq!(id.as_deref(), Some("leave"));
            payload
        }
        other => panic!("expected room_left, got {other:?}"),
    }
}

/// Asserts that each connection's next frame is the `room` event `change`
/// of `user` in `conversation`. A `devices` event may come first: a room is
/// a conversation, so its members hear of each other's revoked devices
/// (durably, on their own channel, in no fixed order with room events).
pub async fn expect_room(
    conns: &mut [&mut Connection],
    conversation: &str,
    change: RoomChange,
    user: &str,
) {
    for (i, conn) in conns.iter_mut().enumerate() {
        let mut frame = next(conn).await;
        while matches!(frame, ServerFrame::Devices { .. }) {
            frame = next(conn).await;
        }
        match frame {
            ServerFrame::Room { payload } => {
                assert_eq!(payload.conversation_id.to_string(), conversation, "{i}");
                assert_eq!(payload.change, change, "connection {i}");
                assert_eq!(payload.user_id.to_string(), user, "connection {i}");
            }
            other => panic!("connection {i}: expected a room event, got {other:?}"),
        }
    }
}

/// The error code of the next frame, which must be an `error` with `id`.
pub async fn next_error(conn: &mut Connection, id: &str) -> FrameErrorCode {
    match next(conn).await {
        ServerFrame::Error { id: got, payload } => {
            assert_eq!(got.as_deref(), Some(id), "{}", payload.message);
            payload.code
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Sends `raw` (an `enter_room` frame with id `bad`) and returns the code.
async fn refused_enter(conn: &mut Connection, payload: Value) -> FrameErrorCode {
    let text = json!({"type": "enter_room", "id": "bad", "payload": payload}).to_string();
    conn.send_raw(&text).await.unwrap();
    next_error(conn, "bad").await
}

fn ids(users: &[Uuid]) -> Vec<String> {
    users.iter().map(Uuid::to_string).collect()
}

/// Sends `m` and expects its `sent`: whether it was a duplicate.
async fn sent(conn: &mut Connection, m: passerelle_client::ws::SendMessage) -> bool {
    conn.send_message(m).await.unwrap();
    match next(conn).await {
        ServerFrame::Sent { payload, .. } => payload.duplicate,
        other => panic!("expected sent, got {other:?}"),
    }
}

async fn status(s: &passerelle_test_support::TestServer, d: &Device, path: &str) -> StatusCode {
    call(s, d, Method::GET, path, None).await.status()
}

#[tokio::test]
async fn creating_a_room_gives_a_fresh_link_and_nobody_is_in_it() {
    let s = server().await;
    let a = register(&s, "lr_creator").await;
    let (link, id, body) = new_room(&s, &a).await;
    assert_eq!(link.get_version_num(), 4, "the link is a random UUID v4");
    assert_ne!(link.to_string(), id, "the link is not the conversation id");
    assert_eq!(body["memberCap"], 1000);
    let created: chrono::DateTime<chrono::Utc> =
        body["createdAt"].as_str().unwrap().parse().unwrap();
    let by: chrono::DateTime<chrono::Utc> = body["enterBefore"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        by - created,
        chrono::Duration::seconds(60),
        "rooms.enter_grace_secs"
    );
    let (other, _, _) = new_room(&s, &a).await;
    assert_ne!(other, link, "every room has its own link");

    // The creator is not in it until entering: not a member, not listed.
    assert_eq!(
        status(&s, &a, &format!("/v1/conversations/{id}")).await,
        StatusCode::NOT_FOUND
    );
    let list = json(call(&s, &a, Method::GET, "/v1/conversations", None).await).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 0, "{list}");

    // Entering makes the creator a participant like anyone else.
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let entered = enter(&mut ca, link).await;
    assert_eq!(entered.conversation_id.to_string(), id);
    assert_eq!(ids(&entered.participants), vec![a.user_id.clone()]);
    expect_room(&mut [&mut ca], &id, RoomChange::Joined, &a.user_id).await;
    let room = json(
        call(
            &s,
            &a,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(room["kind"], "link");
    assert_eq!(room["role"], "member");
    assert_eq!(room["memberCount"], 1);
    assert!(room["joinToken"].is_null(), "the link is not shown back");
    let list = json(call(&s, &a, Method::GET, "/v1/conversations", None).await).await;
    assert_eq!(list["conversations"][0]["id"], id.as_str());

    // Only signed-in users create rooms.
    let resp = s.http().post(s.url("/v1/rooms")).send().await.unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn participants_see_each_other_join_and_leave_live() {
    let s = server().await;
    let a = register(&s, "lr_alice").await;
    let b1 = register(&s, "lr_bob").await;
    let b2 = login_ok(&s, "lr_bob").await;
    let (link, id, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;
    // A second session of bob's first device, never in the room.
    let (mut cb1_idle, _) = ws_resumed(&s, &b1, None).await;

    let entered = enter(&mut ca, link).await;
    assert_eq!(ids(&entered.participants), vec![a.user_id.clone()]);
    expect_room(&mut [&mut ca], &id, RoomChange::Joined, &a.user_id).await;

    // Bob enters: every session of both users hears it, bob's idle ones too.
    let entered = enter(&mut cb1, link).await;
    assert_eq!(
        ids(&entered.participants),
        [a.user_id.clone(), b1.user_id.clone()]
    );
    expect_room(
        &mut [&mut ca, &mut cb1, &mut cb2, &mut cb1_idle],
        &id,
        RoomChange::Joined,
        &b1.user_id,
    )
    .await;

    // Bob's second device entering is not a new join.
    let entered = enter(&mut cb2, link).await;
    assert_eq!(
        ids(&entered.participants),
        [a.user_id.clone(), b1.user_id.clone()]
    );
    // Entering again from the same session changes nothing either.
    let again = enter(&mut cb2, link).await;
    assert_eq!(again.participants, entered.participants);
    for conn in [&mut ca, &mut cb1, &mut cb2, &mut cb1_idle] {
        quiet(conn, 300).await;
    }
    assert_eq!(member_ids(&s, &a, &id).await.len(), 2);

    // Leaving from one of two sessions is not a leave.
    let left = leave(&mut cb1, &id).await;
    assert_eq!(left.conversation_id.to_string(), id);
    assert!(!left.closed);
    for conn in [&mut ca, &mut cb1, &mut cb2] {
        quiet(conn, 300).await;
    }
    assert_eq!(
        status(&s, &b1, &format!("/v1/conversations/{id}")).await,
        StatusCode::OK
    );

    // Leaving a room the session is not in (any more) is refused.
    cb1.send(
        &ClientFrame::LeaveRoom(LeaveRoom {
            conversation_id: id.parse().unwrap(),
        }),
        Some("again"),
    )
    .await
    .unwrap();
    assert_eq!(
        next_error(&mut cb1, "again").await,
        FrameErrorCode::NotFound
    );

    // Bob's last session in the room closes: alice and all of bob's
    // sessions hear that he left, and he is no longer a member.
    cb2.close().await.unwrap();
    expect_room(
        &mut [&mut ca, &mut cb1, &mut cb1_idle],
        &id,
        RoomChange::Left,
        &b1.user_id,
    )
    .await;
    assert_eq!(
        status(&s, &b1, &format!("/v1/conversations/{id}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(member_ids(&s, &a, &id).await, vec![a.user_id.clone()]);
    // He may come back with the link.
    let entered = enter(&mut cb1, link).await;
    assert_eq!(
        ids(&entered.participants),
        [a.user_id.clone(), b1.user_id.clone()]
    );
    expect_room(
        &mut [&mut ca, &mut cb1, &mut cb1_idle],
        &id,
        RoomChange::Joined,
        &b1.user_id,
    )
    .await;
}

#[tokio::test]
async fn room_messages_reach_the_participants_and_nobody_else() {
    let s = server().await;
    let a = register(&s, "lm_alice").await;
    let b1 = register(&s, "lm_bob").await;
    let b2 = login_ok(&s, "lm_bob").await;
    let c = register(&s, "lm_carol").await;
    let eve = register(&s, "lm_eve").await;
    let (link, id, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;
    let (mut cc, _) = ws_resumed(&s, &c, None).await;
    let (mut ce, _) = ws_resumed(&s, &eve, None).await;
    enter(&mut ca, link).await;
    enter(&mut cb1, link).await;
    enter(&mut cc, link).await;
    // Drain the join events (alice: 3, bob's two sessions: 2, carol: 1).
    for _ in 0..3 {
        assert!(matches!(next(&mut ca).await, ServerFrame::Room { .. }));
    }
    for conn in [&mut cb1, &mut cb2] {
        for _ in 0..2 {
            assert!(matches!(next(conn).await, ServerFrame::Room { .. }));
        }
    }
    assert!(matches!(next(&mut cc).await, ServerFrame::Room { .. }));

    // A message to the room reaches every device of the others, bob's
    // device that is not in the room included (membership is per user).
    let m = message_in(&id);
    assert!(!sent(&mut ca, m.clone()).await);
    for conn in [&mut cb1, &mut cb2, &mut cc] {
        match next(conn).await {
            ServerFrame::Message { payload, .. } => {
                assert_eq!(payload.message_id, m.message_id);
                assert_eq!(payload.conversation_id.unwrap().to_string(), id);
            }
            other => panic!("expected the message, got {other:?}"),
        }
    }
    let history = json(
        call(
            &s,
            &c,
            Method::GET,
            &format!("/v1/conversations/{id}/messages"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        history["messages"][0]["messageId"],
        m.message_id.to_string()
    );

    // An outsider who knows the conversation id can neither send nor read.
    ce.send_message(message_in(&id)).await.unwrap();
    match next(&mut ce).await {
        ServerFrame::Error { payload, .. } => assert_eq!(payload.code, FrameErrorCode::NotFound),
        other => panic!("expected not_found, got {other:?}"),
    }
    for path in [
        format!("/v1/conversations/{id}"),
        format!("/v1/conversations/{id}/messages"),
        format!("/v1/conversations/{id}/members"),
    ] {
        let body = not_found_body(call(&s, &eve, Method::GET, &path, None).await).await;
        let unknown = not_found_body(
            call(
                &s,
                &eve,
                Method::GET,
                &path.replace(&id, &Uuid::now_v7().to_string()),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(body, unknown, "{path}: the same 404 as for nothing");
    }
    quiet(&mut ce, 300).await;

    // Blocks: bob blocks alice; her messages no longer reach him, carol
    // still gets them, and his still reach her.
    assert_eq!(
        set_block(&s, &b1, &a.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    let m = message_in(&id);
    assert!(!sent(&mut ca, m.clone()).await);
    assert!(
        matches!(next(&mut cc).await, ServerFrame::Message { payload, .. } if payload.message_id == m.message_id)
    );
    quiet(&mut cb1, 300).await;
    quiet(&mut cb2, 100).await;
    let m = message_in(&id);
    assert!(!sent(&mut cb1, m.clone()).await);
    for conn in [&mut ca, &mut cc, &mut cb2] {
        assert!(
            matches!(next(conn).await, ServerFrame::Message { payload, .. } if payload.message_id == m.message_id)
        );
    }

    // Once carol left, she can neither send nor read any more.
    leave(&mut cc, &id).await;
    expect_room(
        &mut [&mut cc, &mut ca, &mut cb1, &mut cb2],
        &id,
        RoomChange::Left,
        &c.user_id,
    )
    .await;
    cc.send_message(message_in(&id)).await.unwrap();
    match next(&mut cc).await {
        ServerFrame::Error { payload, .. } => assert_eq!(payload.code, FrameErrorCode::NotFound),
        other => panic!("expected not_found, got {other:?}"),
    }
    assert_eq!(
        status(&s, &c, &format!("/v1/conversations/{id}/messages")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_last_participant_leaving_deletes_the_room_and_everything_in_it() {
    let s = server().await;
    let a = register(&s, "ld_alice").await;
    let b = register(&s, "ld_bob").await;
    let (link, id, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    // Another session of alice's, never in the room.
    let (mut ca_idle, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    enter(&mut ca, link).await;
    expect_room(
        &mut [&mut ca, &mut ca_idle],
        &id,
        RoomChange::Joined,
        &a.user_id,
    )
    .await;
    enter(&mut cb, link).await;
    expect_room(
        &mut [&mut ca, &mut ca_idle, &mut cb],
        &id,
        RoomChange::Joined,
        &b.user_id,
    )
    .await;
    let m1 = message_in(&id);
    let m2 = message_in(&id);
    assert!(!sent(&mut ca, m1.clone()).await);
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Message { payload, .. } if payload.message_id == m1.message_id)
    );
    assert!(!sent(&mut cb, m2.clone()).await);
    assert!(
        matches!(next(&mut ca).await, ServerFrame::Message { payload, .. } if payload.message_id == m2.message_id)
    );
    for _ in 0..2 {
        assert!(matches!(
            next(&mut ca_idle).await,
            ServerFrame::Message { .. }
        ));
    }

    // Bob leaves by frame (his own sessions hear it too), alice by closing
    // her session: the room closes with her, and only her other session is
    // left to hear it.
    assert!(!leave(&mut cb, &id).await.closed);
    expect_room(
        &mut [&mut ca, &mut ca_idle, &mut cb],
        &id,
        RoomChange::Left,
        &b.user_id,
    )
    .await;
    ca.close().await.unwrap();
    expect_room(&mut [&mut ca_idle], &id, RoomChange::Left, &a.user_id).await;
    quiet(&mut cb, 300).await;

    // The link is dead, the conversation and its history are gone.
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    ca.send(&ClientFrame::EnterRoom(EnterRoom { link }), Some("dead"))
        .await
        .unwrap();
    assert_eq!(next_error(&mut ca, "dead").await, FrameErrorCode::NotFound);
    for d in [&a, &b] {
        for path in [
            format!("/v1/conversations/{id}"),
            format!("/v1/conversations/{id}/messages"),
        ] {
            assert_eq!(status(&s, d, &path).await, StatusCode::NOT_FOUND, "{path}");
        }
        let list = json(call(&s, d, Method::GET, "/v1/conversations", None).await).await;
        assert_eq!(list["conversations"].as_array().unwrap().len(), 0, "{list}");
    }
    // The messages themselves are gone: sending one again with the same
    // message id (here to oneself) is a new message, not an idempotent
    // duplicate, which it would be if the stored row still existed ...
    let mut again = m1.clone();
    again.conversation_id = None;
    again.recipient_id = Some(a.user_id.parse().unwrap());
    assert!(!sent(&mut ca, again).await, "m1's row is gone");
    let mut again = m2.clone();
    again.conversation_id = None;
    again.recipient_id = Some(b.user_id.parse().unwrap());
    assert!(!sent(&mut cb, again).await, "m2's row is gone");
    // ... and no device replays them from its stream.
    for d in [&a, &b] {
        let (_, replayed) = ws_resumed(&s, d, Some(0)).await;
        let room_messages = replayed
            .iter()
            .filter(|f| matches!(f, ServerFrame::Message { payload, .. } if payload.conversation_id.map(|c| c.to_string()) == Some(id.clone())))
            .count();
        assert_eq!(room_messages, 0, "{replayed:?}");
    }
    assert!(metric(&s, "passerelle_link_rooms_deleted_total{reason=\"left\"}").await >= 1.0);
}

#[tokio::test]
async fn bad_links_are_refused_and_change_nothing() {
    let s = server().await;
    let a = register(&s, "lb_alice").await;
    let m = register(&s, "lb_mallory").await;
    let (link, id, _) = new_room(&s, &a).await;
    let group = new_group(&s, &a, "lb-group", json!({})).await;
    let group_id = group["id"].as_str().unwrap();
    let resp = call(
        &s,
        &a,
        Method::POST,
        &format!("/v1/conversations/{group_id}/join-link"),
        None,
    )
    .await;
    let group_token = json(resp).await["token"].as_str().unwrap().to_owned();
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    enter(&mut ca, link).await;
    expect_room(&mut [&mut ca], &id, RoomChange::Joined, &a.user_id).await;

    let (mut cm, _) = ws_resumed(&s, &m, None).await;
    let truncated = link.simple().to_string()[..30].to_owned();
    for (payload, code) in [
        (json!({"link": Uuid::new_v4()}), FrameErrorCode::NotFound),
        (json!({"link": id}), FrameErrorCode::NotFound),
        (json!({"link": group_token}), FrameErrorCode::NotFound),
        (
            json!({"link": "not-a-uuid"}),
            FrameErrorCode::InvalidPayload,
        ),
        (json!({"link": truncated}), FrameErrorCode::InvalidPayload),
        (json!({}), FrameErrorCode::InvalidPayload),
        (
            json!({"link": link, "key": "aes-key"}),
            FrameErrorCode::InvalidPayload,
        ),
        (json!({"link": 42}), FrameErrorCode::InvalidPayload),
    ] {
        assert_eq!(
            refused_enter(&mut cm, payload.clone()).await,
            code,
            "{payload}"
        );
    }
    cm.send_raw(
        &json!({"type": "leave_room", "id": "bad", "payload": {"conversationId": "x"}}).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(
        next_error(&mut cm, "bad").await,
        FrameErrorCode::InvalidPayload
    );
    // Leaving a room one is not in says not_found and takes nobody out.
    cm.send(
        &ClientFrame::LeaveRoom(LeaveRoom {
            conversation_id: id.parse().unwrap(),
        }),
        Some("bad"),
    )
    .await
    .unwrap();
    assert_eq!(next_error(&mut cm, "bad").await, FrameErrorCode::NotFound);
    // The group join token does not join the group either.
    assert_eq!(member_ids(&s, &a, group_id).await, vec![a.user_id.clone()]);
    // And the room link does not work as a group join link.
    let resp = call(&s, &m, Method::POST, &format!("/v1/join/{link}"), None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    // Nothing changed: alice heard nothing, is alone, and the room lives.
    quiet(&mut ca, 300).await;
    assert_eq!(member_ids(&s, &a, &id).await, vec![a.user_id.clone()]);
    assert_eq!(
        status(&s, &m, &format!("/v1/conversations/{id}")).await,
        StatusCode::NOT_FOUND
    );
    let entered = enter(&mut cm, link).await;
    assert_eq!(
        ids(&entered.participants),
        [a.user_id.clone(), m.user_id.clone()]
    );
}

#[tokio::test]
async fn group_endpoints_refuse_link_rooms() {
    let s = server().await;
    let a = register(&s, "lg_alice").await;
    let b = register(&s, "lg_bob").await;
    let outsider = register(&s, "lg_out").await;
    let (link, id, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    enter(&mut ca, link).await;
    expect_room(&mut [&mut ca], &id, RoomChange::Joined, &a.user_id).await;
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PATCH,
            format!("/v1/conversations/{id}"),
            Some(json!({"title": "x"})),
        ),
        (
            Method::POST,
            format!("/v1/conversations/{id}/members"),
            Some(json!({"userId": b.user_id})),
        ),
        (
            Method::DELETE,
            format!("/v1/conversations/{id}/members/{}", a.user_id),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/conversations/{id}/members/{}/role", a.user_id),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::POST,
            format!("/v1/conversations/{id}/owner"),
            Some(json!({"userId": a.user_id})),
        ),
        (
            Method::POST,
            format!("/v1/conversations/{id}/join-link"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/conversations/{id}/join-link"),
            None,
        ),
    ];
    for (method, path, body) in &calls {
        let resp = call(&s, &a, method.clone(), path, body.clone()).await;
        expect_error(resp, StatusCode::CONFLICT, "link_room").await;
        // An outsider is told nothing.
        let resp = call(&s, &outsider, method.clone(), path, body.clone()).await;
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Joining as a member changes nothing (as for any conversation); an
    // outsider cannot join that way.
    let resp = call(
        &s,
        &a,
        Method::POST,
        &format!("/v1/conversations/{id}/join"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(
        &s,
        &outsider,
        Method::POST,
        &format!("/v1/conversations/{id}/join"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    quiet(&mut ca, 300).await;

    // Nothing changed: alice is still its only member, no invitation.
    assert_eq!(member_ids(&s, &a, &id).await, vec![a.user_id.clone()]);
    let invites = json(call(&s, &b, Method::GET, "/v1/invites", None).await).await;
    assert_eq!(invites["invites"].as_array().unwrap().len(), 0);
    let room = json(
        call(
            &s,
            &a,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert!(room["title"].is_null());
}

#[tokio::test]
async fn a_room_nobody_enters_is_deleted_after_the_grace() {
    let s = builder()
        .env("PASSERELLE__ROOMS__ENTER_GRACE_SECS", "1")
        .env("PASSERELLE__ROOMS__HEARTBEAT_SECS", "1")
        .spawn()
        .await;
    let a = register(&s, "lgr_alice").await;
    let b = register(&s, "lgr_bob").await;
    let (unentered, _, body) = new_room(&s, &a).await;
    let created: chrono::DateTime<chrono::Utc> =
        body["createdAt"].as_str().unwrap().parse().unwrap();
    let by: chrono::DateTime<chrono::Utc> = body["enterBefore"].as_str().unwrap().parse().unwrap();
    assert_eq!(by - created, chrono::Duration::seconds(1));
    let (entered, id, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    enter(&mut ca, entered).await;

    let prefix = "passerelle_link_rooms_deleted_total{reason=\"unentered\"}";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&s, prefix).await < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sweep never ran"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    cb.send(
        &ClientFrame::EnterRoom(EnterRoom { link: unentered }),
        Some("late"),
    )
    .await
    .unwrap();
    assert_eq!(next_error(&mut cb, "late").await, FrameErrorCode::NotFound);
    // The room that was entered in time lives on past the grace.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let joined = enter(&mut cb, entered).await;
    assert_eq!(joined.conversation_id.to_string(), id);
    assert_eq!(joined.participants.len(), 2);
    assert_eq!(metric(&s, prefix).await, 1.0, "only the unentered room");
}

#[tokio::test]
async fn rooms_per_session_and_users_per_room_are_capped() {
    let s = builder()
        .env("PASSERELLE__ROOMS__MAX_PER_SESSION", "1")
        .env("PASSERELLE__ROOMS__MEMBER_CAP", "2")
        .spawn()
        .await;
    let a = register(&s, "lc_alice").await;
    let b = register(&s, "lc_bob").await;
    let c = register(&s, "lc_carol").await;
    let (first, id, body) = new_room(&s, &a).await;
    assert_eq!(body["memberCap"], 2);
    let (second, _, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    enter(&mut ca, first).await;
    expect_room(&mut [&mut ca], &id, RoomChange::Joined, &a.user_id).await;
    ca.send(
        &ClientFrame::EnterRoom(EnterRoom { link: second }),
        Some("two"),
    )
    .await
    .unwrap();
    assert_eq!(next_error(&mut ca, "two").await, FrameErrorCode::Forbidden);
    // The room already entered may be entered again.
    enter(&mut ca, first).await;
    // Another session may enter the second room.
    let (mut ca2, _) = ws_resumed(&s, &a, None).await;
    enter(&mut ca2, second).await;

    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    enter(&mut cb, first).await;
    let (mut cc, _) = ws_resumed(&s, &c, None).await;
    cc.send(
        &ClientFrame::EnterRoom(EnterRoom { link: first }),
        Some("full"),
    )
    .await
    .unwrap();
    assert_eq!(next_error(&mut cc, "full").await, FrameErrorCode::Forbidden);
    assert_eq!(member_ids(&s, &a, &id).await.len(), 2);
}

#[tokio::test]
async fn revoked_devices_and_deleted_accounts_leave_their_rooms() {
    let s = server().await;
    let a = register(&s, "lv_alice").await;
    let b = register(&s, "lv_bob").await;
    let c = register(&s, "lv_carol").await;
    let (link, id, _) = new_room(&s, &a).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let (mut cc, _) = ws_resumed(&s, &c, None).await;
    for conn in [&mut ca, &mut cb, &mut cc] {
        enter(conn, link).await;
    }
    for _ in 0..3 {
        assert!(matches!(next(&mut ca).await, ServerFrame::Room { .. }));
    }
    for _ in 0..2 {
        assert!(matches!(next(&mut cb).await, ServerFrame::Room { .. }));
    }
    assert!(matches!(next(&mut cc).await, ServerFrame::Room { .. }));

    // Bob logs out: his session is closed, and he leaves the room.
    let resp = call(&s, &b, Method::POST, "/v1/auth/logout", None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        closed_with(&mut cb).await,
        passerelle_client::ws::close::REVOKED
    );
    expect_room(&mut [&mut ca, &mut cc], &id, RoomChange::Left, &b.user_id).await;

    // Carol deletes her account: the same.
    let resp = authed(&s, Method::DELETE, "/v1/me", &c.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        closed_with(&mut cc).await,
        passerelle_client::ws::close::REVOKED
    );
    expect_room(&mut [&mut ca], &id, RoomChange::Left, &c.user_id).await;
    assert_eq!(member_ids(&s, &a, &id).await, vec![a.user_id.clone()]);
    let room = json(
        call(
            &s,
            &a,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(room["memberCount"], 1);
}
