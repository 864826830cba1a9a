//! Group membership end to end: events on every device of every member
//! over real sockets, group messages reaching members only, invitations.
//! Roles and ownership are in `group_roles.rs`, the attacker's side in
//! `group_attackers.rs`.

use passerelle_api_types::MemberRole;
use passerelle_client::Connection;
use passerelle_client::ws::{ConversationChange, FrameErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

/// Sends `m` on `conn` and returns its `sent` (or fails on anything else).
async fn send_ok(conn: &mut Connection, m: passerelle_client::ws::SendMessage) {
    conn.send_message(m).await.unwrap();
    match next(conn).await {
        ServerFrame::Sent { .. } => {}
        other => panic!("expected sent, got {other:?}"),
    }
}

/// The message id of the next frame, which must be a message of
/// `conversation`.
async fn next_message(conn: &mut Connection, conversation: &str) -> uuid::Uuid {
    match next(conn).await {
        ServerFrame::Message { payload, .. } => {
            assert_eq!(payload.conversation_id.unwrap().to_string(), conversation);
            payload.message_id
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn membership_events_reach_every_device_of_every_member() {
    let s = server().await;
    let a1 = register(&s, "alice").await;
    let a2 = login_ok(&s, "alice").await;
    let b1 = register(&s, "bob").await;
    let b2 = login_ok(&s, "bob").await;
    let id = group_with(&s, &a1, "devices", &[]).await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;
    let path = format!("/v1/conversations/{id}");

    // Added: every device of both users, the new member's included.
    let resp = add_member(&s, &a1, &id, &b1.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = json(resp).await;
    assert_eq!(body["outcome"], "added");
    let events = expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb1, &mut cb2],
        &id,
        ConversationChange::MemberAdded,
        Some(&b1.user_id),
    )
    .await;
    for e in &events {
        assert_eq!(e.actor_id.unwrap().to_string(), a1.user_id);
        assert_eq!(e.role, Some(MemberRole::Member));
        assert_eq!(e, &events[0], "the same event everywhere");
    }

    // Role changed, settings changed: all four again.
    let resp = call(
        &s,
        &a1,
        Method::PUT,
        &format!("{path}/members/{}/role", b1.user_id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let member = json(resp).await;
    assert_eq!(member["role"], "admin");
    assert_eq!(member["username"], "bob");
    let events = expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb1, &mut cb2],
        &id,
        ConversationChange::RoleChanged,
        Some(&b1.user_id),
    )
    .await;
    assert!(events.iter().all(|e| e.role == Some(MemberRole::Admin)));
    let resp = call(
        &s,
        &b2,
        Method::PATCH,
        &path,
        Some(json!({"title": "Devices"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb1, &mut cb2],
        &id,
        ConversationChange::Updated,
        None,
    )
    .await;

    // A device that was offline gets the same events on resume.
    let (_, replayed) = ws_resumed(&s, &b2, Some(0)).await;
    let changes: Vec<ConversationChange> = replayed
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Conversation { payload, .. } => Some(payload.change),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            ConversationChange::MemberAdded,
            ConversationChange::RoleChanged,
            ConversationChange::Updated
        ]
    );

    // Leaving: the one who left hears it on both devices too.
    let resp = call(
        &s,
        &b1,
        Method::DELETE,
        &format!("{path}/members/{}", b1.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb1, &mut cb2],
        &id,
        ConversationChange::MemberLeft,
        Some(&b1.user_id),
    )
    .await;
    // From now on bob hears nothing of it.
    let resp = call(
        &s,
        &a1,
        Method::PATCH,
        &path,
        Some(json!({"title": "Mine"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    expect_change(
        &mut [&mut ca1, &mut ca2],
        &id,
        ConversationChange::Updated,
        None,
    )
    .await;
    quiet(&mut cb1, 300).await;
    quiet(&mut cb2, 100).await;
}

#[tokio::test]
async fn group_messages_reach_members_only() {
    let s = server().await;
    let a1 = register(&s, "alice").await;
    let a2 = login_ok(&s, "alice").await;
    let b1 = register(&s, "bob").await;
    let b2 = login_ok(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let id = group_with(&s, &a1, "chat", &[&b1, &carol]).await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;
    let (mut cc, _) = ws_resumed(&s, &carol, None).await;
    let (mut cd, _) = ws_resumed(&s, &dave, None).await;

    // Every member's devices get it (the sender's other device: a copy).
    let m = message_in(&id);
    send_ok(&mut ca1, m.clone()).await;
    for conn in [&mut ca2, &mut cb1, &mut cb2, &mut cc] {
        assert_eq!(next_message(conn, &id).await, m.message_id);
    }
    quiet(&mut cd, 300).await;

    // A non-member cannot send to it: the same answer as no conversation.
    for conversation in [id.clone(), uuid::Uuid::now_v7().to_string()] {
        cd.send_message(message_in(&conversation)).await.unwrap();
        match next(&mut cd).await {
            ServerFrame::Error { payload, .. } => {
                assert_eq!(payload.code, FrameErrorCode::NotFound);
                assert_eq!(payload.message, "no such conversation");
            }
            other => panic!("expected not_found, got {other:?}"),
        }
    }

    // A member bob blocks: carol's messages reach alice, not bob.
    set_block(&s, &b1, &carol.user_id, true).await;
    let m = message_in(&id);
    send_ok(&mut cc, m.clone()).await;
    for conn in [&mut ca1, &mut ca2] {
        assert_eq!(next_message(conn, &id).await, m.message_id);
    }
    quiet(&mut cb1, 300).await;
    quiet(&mut cb2, 100).await;

    // Removed: carol hears it, then gets nothing more and cannot send.
    let resp = call(
        &s,
        &a1,
        Method::DELETE,
        &format!("/v1/conversations/{id}/members/{}", carol.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_change(
        &mut [&mut ca1, &mut ca2, &mut cb1, &mut cb2, &mut cc],
        &id,
        ConversationChange::MemberRemoved,
        Some(&carol.user_id),
    )
    .await;
    let m = message_in(&id);
    send_ok(&mut cb1, m.clone()).await;
    for conn in [&mut ca1, &mut ca2, &mut cb2] {
        assert_eq!(next_message(conn, &id).await, m.message_id);
    }
    quiet(&mut cc, 300).await;
    cc.send_message(message_in(&id)).await.unwrap();
    assert!(matches!(
        next(&mut cc).await,
        ServerFrame::Error { payload, .. } if payload.code == FrameErrorCode::NotFound
    ));
    quiet(&mut cd, 100).await;
}

#[tokio::test]
async fn invitations_are_accepted_or_declined_by_the_invitee() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let bob2 = login_ok(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let g = new_group(&s, &alice, "invites", json!({"title": "Invites"})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    let (mut ca, _) = ws_resumed(&s, &alice, None).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    let (mut cb2, _) = ws_resumed(&s, &bob2, None).await;
    let (mut cc, _) = ws_resumed(&s, &carol, None).await;

    // Invited: the members and every device of the invitee are told.
    let resp = add_member(&s, &alice, &id, &bob.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(json(resp).await["outcome"], "invited");
    expect_change(
        &mut [&mut ca, &mut cb, &mut cb2],
        &id,
        ConversationChange::MemberInvited,
        Some(&bob.user_id),
    )
    .await;
    // Inviting again keeps the pending invitation.
    let resp = add_member(&s, &alice, &id, &bob.user_id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    quiet(&mut cb, 200).await;

    // The invitee sees the invitation and the group, not its members.
    let invites = json(call(&s, &bob, Method::GET, "/v1/invites", None).await).await;
    assert_eq!(invites["invites"][0]["conversationId"], id.as_str());
    assert_eq!(invites["invites"][0]["title"], "Invites");
    assert!(invites["nextCursor"].is_null());
    let seen = json(
        call(
            &s,
            &bob,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert!(seen["role"].is_null());
    let resp = call(
        &s,
        &bob,
        Method::GET,
        &format!("/v1/conversations/{id}/members"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // An invitation is answered, not bypassed: joining is for public groups.
    let resp = call(
        &s,
        &bob,
        Method::POST,
        &format!("/v1/conversations/{id}/join"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // Somebody else cannot answer bob's invitation.
    for action in ["accept", "decline"] {
        let resp = call(
            &s,
            &carol,
            Method::POST,
            &format!("/v1/invites/{id}/{action}"),
            None,
        )
        .await;
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }

    // Accepted: a member; everyone hears `member_joined`.
    let resp = call(
        &s,
        &bob2,
        Method::POST,
        &format!("/v1/invites/{id}/accept"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["role"], "member");
    expect_change(
        &mut [&mut ca, &mut cb, &mut cb2],
        &id,
        ConversationChange::MemberJoined,
        Some(&bob.user_id),
    )
    .await;
    let invites = json(call(&s, &bob, Method::GET, "/v1/invites", None).await).await;
    assert_eq!(invites["invites"], json!([]));
    let resp = call(
        &s,
        &bob,
        Method::POST,
        &format!("/v1/invites/{id}/accept"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    // A plain member may invite in an `invite` group.
    let resp = add_member(&s, &bob, &id, &carol.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    expect_change(
        &mut [&mut ca, &mut cb, &mut cb2, &mut cc],
        &id,
        ConversationChange::MemberInvited,
        Some(&carol.user_id),
    )
    .await;
    // Declined: the inviter (bob) and carol hear it; alice does not.
    let resp = call(
        &s,
        &carol,
        Method::POST,
        &format!("/v1/invites/{id}/decline"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_change(
        &mut [&mut cb, &mut cb2, &mut cc],
        &id,
        ConversationChange::InviteDeclined,
        Some(&carol.user_id),
    )
    .await;
    quiet(&mut ca, 300).await;
    let resp = call(
        &s,
        &carol,
        Method::POST,
        &format!("/v1/invites/{id}/decline"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // After declining, the group is unknown to carol again.
    let resp = call(
        &s,
        &carol,
        Method::GET,
        &format!("/v1/conversations/{id}"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    // With add policy `direct`, only the owner and admins bring people in.
    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &format!("/v1/conversations/{id}"),
        Some(json!({"addPolicy": "direct", "memberCap": 3})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = add_member(&s, &bob, &id, &carol.user_id).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = add_member(&s, &alice, &id, &bob.user_id).await;
    expect_error(resp, StatusCode::CONFLICT, "already_member").await;
    let resp = add_member(&s, &alice, &id, &carol.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // Full (3 of 3): no more additions, invitations or acceptances.
    let resp = add_member(&s, &alice, &id, &dave.user_id).await;
    expect_error(resp, StatusCode::CONFLICT, "member_cap_reached").await;
    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &format!("/v1/conversations/{id}"),
        Some(json!({"addPolicy": "invite"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = add_member(&s, &alice, &id, &dave.user_id).await;
    expect_error(resp, StatusCode::CONFLICT, "member_cap_reached").await;
    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &format!("/v1/conversations/{id}"),
        Some(json!({"memberCap": 4})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        add_member(&s, &alice, &id, &dave.user_id).await.status(),
        StatusCode::CREATED
    );
    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &format!("/v1/conversations/{id}"),
        Some(json!({"memberCap": 3})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(
        &s,
        &dave,
        Method::POST,
        &format!("/v1/invites/{id}/accept"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::CONFLICT, "member_cap_reached").await;
    let invites = json(call(&s, &dave, Method::GET, "/v1/invites", None).await).await;
    assert_eq!(
        invites["invites"].as_array().unwrap().len(),
        1,
        "the invitation stays"
    );
}
