//! Issue 4 as a new user would try it, in one story: three users, several
//! devices each; a contact, a direct chat, a group with an invitation, a
//! link room that vanishes after its last participant leaves, and a block
//! with its effects. Each step is covered in depth by its own module; this
//! one checks that they hold together.

use passerelle_client::ws::{ConversationChange, RoomChange, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::common::*;
use crate::link_rooms::{enter, new_room};

/// The next frame on `conn` that is not a live room event, which must be
/// the message `id`; returns its conversation.
async fn got(conn: &mut passerelle_client::Connection, id: Uuid) -> Uuid {
    loop {
        match next(conn).await {
            ServerFrame::Room { .. } => continue,
            ServerFrame::Message { payload, .. } => {
                assert_eq!(payload.message_id, id);
                return payload.conversation_id.expect("conversationId");
            }
            other => panic!("expected message {id}, got {other:?}"),
        }
    }
}

async fn sent(conn: &mut passerelle_client::Connection, m: passerelle_client::ws::SendMessage) {
    conn.send_message(m).await.expect("send");
    loop {
        match next(conn).await {
            ServerFrame::Room { .. } => continue,
            ServerFrame::Sent { payload, .. } => return assert!(!payload.duplicate),
            other => panic!("expected sent, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn three_users_try_contacts_chats_groups_rooms_and_blocks() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let alice_laptop = login_ok(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let bob_tablet = login_ok(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let (mut a1, _) = ws_resumed(&s, &alice, None).await;
    let (mut a2, _) = ws_resumed(&s, &alice_laptop, None).await;
    let (mut b1, _) = ws_resumed(&s, &bob, None).await;
    let (mut b2, _) = ws_resumed(&s, &bob_tablet, None).await;
    let (mut c1, _) = ws_resumed(&s, &carol, None).await;

    // A contact, found by exact username.
    let resp = add_contact(&s, &alice, json!({"username": "bob"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        list_ids(&s, &alice, "contacts").await,
        vec![bob.user_id.clone()]
    );

    // A direct chat: every device of bob, and alice's other device.
    let hello = message_to(&bob.user_id);
    sent(&mut a1, hello.clone()).await;
    let direct = got(&mut b1, hello.message_id).await;
    assert_eq!(got(&mut b2, hello.message_id).await, direct);
    assert_eq!(got(&mut a2, hello.message_id).await, direct);
    let reply = message_in(&direct.to_string());
    sent(&mut b2, reply.clone()).await;
    for conn in [&mut a1, &mut a2, &mut b1] {
        assert_eq!(got(conn, reply.message_id).await, direct);
    }

    // A group with an invitation: bob accepts, carol declines.
    let group = new_group(&s, &alice, "book-club", json!({"title": "Books"})).await;
    let group = group["id"].as_str().expect("id").to_owned();
    for conn in [&mut a1, &mut a2] {
        assert_eq!(next_change(conn).await.change, ConversationChange::Created);
    }
    for who in [&bob, &carol] {
        let resp = add_member(&s, &alice, &group, &who.user_id).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(json(resp).await["outcome"], "invited");
        expect_change(
            &mut [&mut a1, &mut a2],
            &group,
            ConversationChange::MemberInvited,
            Some(&who.user_id),
        )
        .await;
    }
    expect_change(
        &mut [&mut b1, &mut b2],
        &group,
        ConversationChange::MemberInvited,
        Some(&bob.user_id),
    )
    .await;
    expect_change(
        &mut [&mut c1],
        &group,
        ConversationChange::MemberInvited,
        Some(&carol.user_id),
    )
    .await;
    let resp = call(
        &s,
        &bob,
        Method::POST,
        &format!("/v1/invites/{group}/accept"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    expect_change(
        &mut [&mut a1, &mut a2, &mut b1, &mut b2],
        &group,
        ConversationChange::MemberJoined,
        Some(&bob.user_id),
    )
    .await;
    let resp = call(
        &s,
        &carol,
        Method::POST,
        &format!("/v1/invites/{group}/decline"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_change(
        &mut [&mut a1, &mut a2, &mut c1],
        &group,
        ConversationChange::InviteDeclined,
        Some(&carol.user_id),
    )
    .await;
    let to_group = message_in(&group);
    sent(&mut b1, to_group.clone()).await;
    for conn in [&mut a1, &mut a2, &mut b2] {
        assert_eq!(got(conn, to_group.message_id).await.to_string(), group);
    }
    quiet(&mut c1, 300).await;

    // A link room: alice and carol meet in it; it vanishes when both leave.
    let (link, room, _) = new_room(&s, &alice).await;
    let entered = enter(&mut a1, link).await;
    assert_eq!(entered.participants.len(), 1);
    let entered = enter(&mut c1, link).await;
    assert_eq!(entered.participants.len(), 2);
    // Everyone in the room hears that carol joined.
    loop {
        match next(&mut a1).await {
            ServerFrame::Room { payload } if payload.user_id.to_string() == carol.user_id => {
                assert_eq!(payload.change, RoomChange::Joined);
                break;
            }
            ServerFrame::Room { .. } => continue,
            other => panic!("expected room joined, got {other:?}"),
        }
    }
    let in_room = message_in(&room);
    sent(&mut c1, in_room.clone()).await;
    // alice's devices: both get it (she is a member while a session is in).
    assert_eq!(got(&mut a1, in_room.message_id).await.to_string(), room);
    assert_eq!(got(&mut a2, in_room.message_id).await.to_string(), room);
    drop(c1);
    drop(a1);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (mut c1, _) = ws_resumed(&s, &carol, None).await;
    c1.enter_room(link).await.expect("enter");
    match next(&mut c1).await {
        ServerFrame::Error { payload, .. } => {
            assert_eq!(
                payload.code,
                passerelle_client::ws::FrameErrorCode::NotFound
            )
        }
        other => panic!("the link must be dead, got {other:?}"),
    }
    let resp = call(
        &s,
        &alice,
        Method::GET,
        &format!("/v1/conversations/{room}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (mut a1, _) = ws_resumed(&s, &alice, None).await;

    // A block: carol blocks alice.
    assert_eq!(
        set_block(&s, &carol, &alice.user_id, true).await.status(),
        204
    );
    // alice's message gets an ordinary `sent` and reaches nobody but her
    // own other device.
    let blocked = message_to(&carol.user_id);
    sent(&mut a1, blocked.clone()).await;
    // (carol's new session may still hear of the room's end; nothing else.)
    got(&mut a2, blocked.message_id).await;
    quiet(&mut c1, 400).await;
    // alice can neither open a direct conversation with carol nor bring her
    // into a group: the same 404 as for a user who does not exist.
    let resp = call(
        &s,
        &alice,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": carol.user_id})),
    )
    .await;
    // The pair's conversation exists now (the withheld message made it),
    // so it is returned as it is: asking again reveals no block.
    assert_eq!(resp.status(), StatusCode::OK);
    let unknown =
        not_found_body(add_member(&s, &alice, &group, &Uuid::new_v4().to_string()).await).await;
    let refused = not_found_body(add_member(&s, &alice, &group, &carol.user_id).await).await;
    assert_eq!(refused, unknown);
    // Nor can alice see carol's profile: the answer for a user who does
    // not exist.
    let hidden = not_found_body(lookup(&s, Some(&alice.access), "carol").await).await;
    let nobody = not_found_body(lookup(&s, Some(&alice.access), "nobodyhere").await).await;
    assert_eq!(hidden, nobody);
    // carol sees alice in her block list, and unblocking lets messages in.
    assert_eq!(
        list_ids(&s, &carol, "blocks").await,
        vec![alice.user_id.clone()]
    );
    assert_eq!(
        set_block(&s, &carol, &alice.user_id, false).await.status(),
        204
    );
    let after = message_to(&carol.user_id);
    sent(&mut a1, after.clone()).await;
    got(&mut c1, after.message_id).await;
}
