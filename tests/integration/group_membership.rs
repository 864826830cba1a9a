//! Group membership end to end: events on every device of every member
//! over real sockets, group messages reaching members only, invitations,
//! roles, removal, ownership, and the authorization matrix from the
//! attacker's side.

use passerelle_api_types::MemberRole;
use passerelle_client::Connection;
use passerelle_client::ws::{ConversationChange, FrameErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::attacker_tokens::unusable_tokens;
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

#[tokio::test]
async fn roles_removal_and_ownership_follow_the_rules() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let erin = register(&s, "erin").await;
    let id = group_with(&s, &alice, "roles", &[&bob, &carol, &dave, &erin]).await;
    let path = format!("/v1/conversations/{id}");
    let role = |who: &Device, target: &str, r: &str| {
        let (who, path, body) = (
            who.clone(),
            format!("{path}/members/{target}/role"),
            json!({"role": r}),
        );
        let s = &s;
        async move { call(s, &who, Method::PUT, &path, Some(body)).await }
    };
    let remove = |who: &Device, target: &str| {
        let (who, path) = (who.clone(), format!("{path}/members/{target}"));
        let s = &s;
        async move { call(s, &who, Method::DELETE, &path, None).await }
    };

    // Only the owner assigns roles.
    assert_eq!(
        role(&alice, &bob.user_id, "admin").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        role(&alice, &erin.user_id, "admin").await.status(),
        StatusCode::OK
    );
    for (who, target) in [(&carol, &dave), (&bob, &carol)] {
        let resp = role(who, &target.user_id, "admin").await;
        expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let resp = role(&alice, &alice.user_id, "member").await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let resp = role(&alice, &uuid::Uuid::new_v4().to_string(), "admin").await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = role(&alice, &bob.user_id, "owner").await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_json").await;

    // Removal: plain members remove nobody; an admin removes plain members
    // only; the owner anyone.
    let resp = remove(&carol, &dave.user_id).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    for target in [&alice, &erin] {
        let resp = remove(&bob, &target.user_id).await;
        expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    assert_eq!(
        remove(&bob, &carol.user_id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        remove(&alice, &erin.user_id).await.status(),
        StatusCode::NO_CONTENT
    );
    let resp = remove(&bob, &carol.user_id).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // The removed member now finds nothing.
    let resp = call(&s, &carol, Method::GET, &path, None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    // The owner must hand over before leaving.
    let resp = remove(&alice, &alice.user_id).await;
    expect_error(resp, StatusCode::CONFLICT, "owner_must_transfer").await;
    let resp = call(
        &s,
        &bob,
        Method::POST,
        &format!("{path}/owner"),
        Some(json!({"userId": bob.user_id})),
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = call(
        &s,
        &alice,
        Method::POST,
        &format!("{path}/owner"),
        Some(json!({"userId": carol.user_id})),
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let (mut cd, _) = ws_resumed(&s, &dave, None).await;
    let resp = call(
        &s,
        &alice,
        Method::POST,
        &format!("{path}/owner"),
        Some(json!({"userId": bob.user_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        json(resp).await["role"],
        "admin",
        "the old owner is an admin"
    );
    let e = next_change(&mut cd).await;
    assert_eq!(e.change, ConversationChange::OwnerTransferred);
    assert_eq!(e.user_id.unwrap().to_string(), bob.user_id);
    assert_eq!(e.actor_id.unwrap().to_string(), alice.user_id);
    assert_eq!(e.role, Some(MemberRole::Owner));
    // The new owner can now remove the old one; the old one can leave.
    let resp = remove(&alice, &bob.user_id).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        remove(&alice, &alice.user_id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        remove(&dave, &dave.user_id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(member_ids(&s, &bob, &id).await, [bob.user_id.as_str()]);

    // The last member leaving deletes the group (and frees its name).
    assert_eq!(
        remove(&bob, &bob.user_id).await.status(),
        StatusCode::NO_CONTENT
    );
    let resp = call(&s, &bob, Method::GET, &path, None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    new_group(&s, &bob, "roles", json!({})).await;
}

#[tokio::test]
async fn outsiders_removed_members_and_blocked_users_get_nothing() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let mallory = register(&s, "mallory").await;
    let blocker = register(&s, "blocker").await;
    let id = group_with(&s, &alice, "private", &[&bob, &mallory]).await;
    let link = json(
        call(
            &s,
            &alice,
            Method::POST,
            &format!("/v1/conversations/{id}/join-link"),
            None,
        )
        .await,
    )
    .await;
    assert!(link["token"].is_string());
    // Mallory is removed; from now on she is an outsider like any other.
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/conversations/{id}/members/{}", mallory.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let stranger = register(&s, "stranger").await;
    let nowhere = uuid::Uuid::now_v7().to_string();
    let requests = |conversation: &str| {
        let base = format!("/v1/conversations/{conversation}");
        vec![
            (Method::GET, base.clone(), None),
            (Method::PATCH, base.clone(), Some(json!({"title": "pwned"}))),
            (Method::GET, format!("{base}/members"), None),
            (
                Method::POST,
                format!("{base}/members"),
                Some(json!({"userId": mallory.user_id})),
            ),
            (
                Method::DELETE,
                format!("{base}/members/{}", bob.user_id),
                None,
            ),
            (
                Method::PUT,
                format!("{base}/members/{}/role", bob.user_id),
                Some(json!({"role": "member"})),
            ),
            (
                Method::POST,
                format!("{base}/owner"),
                Some(json!({"userId": mallory.user_id})),
            ),
            (Method::POST, format!("{base}/join"), None),
            (Method::POST, format!("{base}/join-link"), None),
            (Method::DELETE, format!("{base}/join-link"), None),
            (
                Method::POST,
                format!("/v1/invites/{conversation}/accept"),
                None,
            ),
            (
                Method::POST,
                format!("/v1/invites/{conversation}/decline"),
                None,
            ),
        ]
    };
    // Each request answers a private group's outsider exactly as it
    // answers an id that names nothing.
    for who in [&mallory, &stranger] {
        for ((method, path, body), (_, missing, missing_body)) in
            requests(&id).into_iter().zip(requests(&nowhere))
        {
            let hidden = not_found_body(call(&s, who, method.clone(), &path, body).await).await;
            let absent =
                not_found_body(call(&s, who, method.clone(), &missing, missing_body).await).await;
            assert_eq!(hidden, absent, "{method} {path}");
        }
    }
    // Nothing changed.
    let mut ids = member_ids(&s, &alice, &id).await;
    ids.sort();
    let mut want = vec![alice.user_id.clone(), bob.user_id.clone()];
    want.sort();
    assert_eq!(ids, want);
    let g = json(
        call(
            &s,
            &alice,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert!(g["title"].is_null());
    assert_eq!(g["joinToken"], link["token"]);

    // Blocks: neither side of a block can bring the other in; the answer
    // is the unknown user's 404.
    set_block(&s, &blocker, &alice.user_id, true).await;
    let unknown =
        not_found_body(add_member(&s, &alice, &id, &uuid::Uuid::new_v4().to_string()).await).await;
    let blocked = not_found_body(add_member(&s, &alice, &id, &blocker.user_id).await).await;
    assert_eq!(blocked, unknown);
    let other = new_group(&s, &blocker, "blockers", json!({"addPolicy": "direct"})).await;
    let other = other["id"].as_str().unwrap();
    let resp = add_member(&s, &blocker, other, &alice.user_id).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // Bob, between whom and the blocker there is no block, may add them.
    let resp = call(
        &s,
        &alice,
        Method::PUT,
        &format!("/v1/conversations/{id}/members/{}/role", bob.user_id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = add_member(&s, &bob, &id, &blocker.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn revoked_expired_and_forged_tokens_are_refused() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let second = login_ok(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let g = new_group(&s, &alice, "tokens", json!({"visibility": "public"})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    let token = json(
        call(
            &s,
            &alice,
            Method::POST,
            &format!("/v1/conversations/{id}/join-link"),
            None,
        )
        .await,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/devices/{}", second.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let mut bad = unusable_tokens(&s, &alice).await;
    bad.push(("revoked device", second.access.clone()));
    let base = format!("/v1/conversations/{id}");
    let requests = vec![
        (Method::GET, "/v1/conversations".to_owned(), None),
        (
            Method::POST,
            "/v1/conversations".to_owned(),
            Some(json!({"kind": "group", "name": "stolen"})),
        ),
        (Method::GET, base.clone(), None),
        (Method::PATCH, base.clone(), Some(json!({"title": "x"}))),
        (Method::GET, format!("{base}/members"), None),
        (
            Method::POST,
            format!("{base}/members"),
            Some(json!({"userId": bob.user_id})),
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
        (Method::POST, format!("{base}/join"), None),
        (Method::POST, format!("{base}/join-link"), None),
        (Method::DELETE, format!("{base}/join-link"), None),
        (Method::POST, format!("/v1/join/{token}"), None),
        (Method::GET, "/v1/invites".to_owned(), None),
        (Method::POST, format!("/v1/invites/{id}/accept"), None),
        (Method::POST, format!("/v1/invites/{id}/decline"), None),
        (Method::GET, "/v1/groups/tokens".to_owned(), None),
    ];
    for (name, token) in &bad {
        let d = Device {
            access: token.clone(),
            ..alice.clone()
        };
        for (method, path, body) in &requests {
            let resp = call(&s, &d, method.clone(), path, body.clone()).await;
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{name}: {method} {path}"
            );
            expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
    }
    // Nothing changed.
    let g = json(call(&s, &alice, Method::GET, &base, None).await).await;
    assert!(g["title"].is_null());
    assert_eq!(g["memberCount"], 1);
    assert_eq!(g["joinToken"], token.as_str());
    let list = json(call(&s, &alice, Method::GET, "/v1/conversations", None).await).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn deleting_an_account_hands_its_groups_over() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let id = group_with(&s, &alice, "handover", &[&bob, &carol, &dave]).await;
    let resp = call(
        &s,
        &alice,
        Method::PUT,
        &format!("/v1/conversations/{id}/members/{}/role", dave.user_id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    new_group(&s, &alice, "solo", json!({})).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;

    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        "/v1/me",
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let left = next_change(&mut cb).await;
    assert_eq!(left.change, ConversationChange::MemberLeft);
    assert_eq!(left.user_id.unwrap().to_string(), alice.user_id);
    let handed = next_change(&mut cb).await;
    assert_eq!(handed.change, ConversationChange::OwnerTransferred);
    // The admin takes over, not the longer-standing plain members.
    assert_eq!(handed.user_id.unwrap().to_string(), dave.user_id);
    let members = json(
        call(
            &s,
            &bob,
            Method::GET,
            &format!("/v1/conversations/{id}/members"),
            None,
        )
        .await,
    )
    .await;
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("bob", "member"), ("carol", "member"), ("dave", "owner")]
    );
    // The group alice was alone in is gone, and its name free.
    new_group(&s, &bob, "solo", json!({})).await;
}
