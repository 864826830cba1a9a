//! Groups: creation and its rules, settings, public groups found by name
//! and joined freely, join links (rotation revokes the old one).

use passerelle_client::ws::ConversationChange;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn groups_are_created_with_checked_values_and_unique_names() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let g = new_group(&s, &alice, "Book.Club-1", json!({"title": "  Books  "})).await;
    assert_eq!(g["name"], "book.club-1", "lower-cased");
    assert_eq!(g["title"], "Books", "trimmed");
    assert_eq!(g["kind"], "group");
    assert_eq!(g["visibility"], "private");
    assert_eq!(g["addPolicy"], "invite");
    assert_eq!(g["memberCap"], 1000, "conversations.default_member_cap");
    assert_eq!(g["memberCount"], 1);
    assert_eq!(g["role"], "owner");
    assert!(g["peerId"].is_null() && g["joinToken"].is_null(), "{g}");

    let create =
        |body: serde_json::Value| call(&s, &alice, Method::POST, "/v1/conversations", Some(body));
    let taken = create(json!({"kind": "group", "name": "BOOK.club-1"})).await;
    expect_error(taken, StatusCode::CONFLICT, "name_taken").await;
    for body in [
        json!({"kind": "group", "name": "ab"}),
        json!({"kind": "group", "name": "a".repeat(65)}),
        json!({"kind": "group", "name": "with space"}),
        json!({"kind": "group", "name": "club2", "title": " "}),
        json!({"kind": "group", "name": "club2", "title": "x".repeat(129)}),
        json!({"kind": "group", "name": "club2", "memberCap": 1}),
        json!({"kind": "group", "name": "club2", "memberCap": 10001}),
        json!({"kind": "group", "name": "club2", "members": vec![uuid::Uuid::nil(); 101]}),
    ] {
        let resp = create(body.clone()).await;
        expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    for body in [
        json!({"kind": "group"}),
        json!({"kind": "group", "name": "club2", "visibility": "secret"}),
        json!({"kind": "group", "name": "club2", "content": "hello"}),
    ] {
        let resp = create(body).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_json").await;
    }
    let g = new_group(
        &s,
        &alice,
        "club2",
        json!({"memberCap": 10000, "visibility": "public", "addPolicy": "direct"}),
    )
    .await;
    assert_eq!(g["memberCap"], 10000);
    assert_eq!(g["visibility"], "public");
    assert_eq!(g["addPolicy"], "direct");
}

#[tokio::test]
async fn initial_members_are_added_or_invited_and_refused_ones_left_out() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let blocker = register(&s, "blocker").await;
    let blocked = register(&s, "blocked").await;
    set_block(&s, &blocker, &alice.user_id, true).await;
    set_block(&s, &alice, &blocked.user_id, true).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    let (mut cc, _) = ws_resumed(&s, &carol, None).await;
    let (mut cx, _) = ws_resumed(&s, &blocker, None).await;
    let members = json!([
        bob.user_id,
        bob.user_id,
        alice.user_id,
        uuid::Uuid::new_v4(),
        blocker.user_id,
        blocked.user_id
    ]);

    // add policy `direct`: added at once; everyone in it hears `created`.
    let g = new_group(
        &s,
        &alice,
        "direct-club",
        json!({"addPolicy": "direct", "members": members}),
    )
    .await;
    let id = g["id"].as_str().unwrap();
    assert_eq!(g["memberCount"], 2, "{g}");
    let mut ids = member_ids(&s, &alice, id).await;
    ids.sort();
    let mut want = vec![alice.user_id.clone(), bob.user_id.clone()];
    want.sort();
    assert_eq!(ids, want);
    expect_change(&mut [&mut cb], id, ConversationChange::Created, None).await;

    // add policy `invite`: invitations, each told to the invitee.
    let g = new_group(
        &s,
        &alice,
        "invite-club",
        json!({"members": [carol.user_id, blocker.user_id]}),
    )
    .await;
    let id = g["id"].as_str().unwrap();
    assert_eq!(g["memberCount"], 1);
    expect_change(
        &mut [&mut cc],
        id,
        ConversationChange::MemberInvited,
        Some(&carol.user_id),
    )
    .await;
    let invites = json(call(&s, &carol, Method::GET, "/v1/invites", None).await).await;
    assert_eq!(invites["invites"][0]["conversationId"], id);
    assert_eq!(invites["invites"][0]["name"], "invite-club");
    assert_eq!(invites["invites"][0]["inviterId"], alice.user_id.as_str());
    assert_eq!(invites["invites"][0]["memberCount"], 1);
    // The blocker was left out, and heard nothing.
    quiet(&mut cx, 300).await;
    let invites = json(call(&s, &blocker, Method::GET, "/v1/invites", None).await).await;
    assert_eq!(invites["invites"], json!([]));

    // More members than the cap with add policy `direct`: nothing created.
    let resp = call(
        &s,
        &alice,
        Method::POST,
        "/v1/conversations",
        Some(
            json!({"kind": "group", "name": "tiny", "memberCap": 2, "addPolicy": "direct",
                    "members": [bob.user_id, carol.user_id]}),
        ),
    )
    .await;
    expect_error(resp, StatusCode::CONFLICT, "member_cap_reached").await;
    new_group(&s, &alice, "tiny", json!({"memberCap": 2})).await;
}

#[tokio::test]
async fn settings_are_changed_by_the_owner_and_admins_only() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let alice2 = login_ok(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let eve = register(&s, "eve").await;
    let id = group_with(&s, &alice, "settings", &[&bob, &carol]).await;
    let path = format!("/v1/conversations/{id}");
    let (mut ca2, _) = ws_resumed(&s, &alice2, None).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    let (mut cc, _) = ws_resumed(&s, &carol, None).await;

    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &path,
        Some(json!({"title": "Settings", "visibility": "public", "addPolicy": "invite", "memberCap": 3})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let g = json(resp).await;
    assert_eq!(
        (
            &g["title"],
            &g["visibility"],
            &g["addPolicy"],
            &g["memberCap"]
        ),
        (
            &json!("Settings"),
            &json!("public"),
            &json!("invite"),
            &json!(3)
        )
    );
    let events = expect_change(
        &mut [&mut ca2, &mut cb, &mut cc],
        &id,
        ConversationChange::Updated,
        None,
    )
    .await;
    assert!(
        events
            .iter()
            .all(|e| e.actor_id.unwrap().to_string() == alice.user_id)
    );

    // A plain member: 403. An admin: allowed.
    let resp = call(
        &s,
        &bob,
        Method::PATCH,
        &path,
        Some(json!({"title": "Mine"})),
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = call(
        &s,
        &alice,
        Method::PUT,
        &format!("{path}/members/{}/role", bob.user_id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    expect_change(
        &mut [&mut ca2, &mut cb, &mut cc],
        &id,
        ConversationChange::RoleChanged,
        Some(&bob.user_id),
    )
    .await;
    let resp = call(&s, &bob, Method::PATCH, &path, Some(json!({"title": null}))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(json(resp).await["title"].is_null(), "null clears the title");
    expect_change(
        &mut [&mut ca2, &mut cc],
        &id,
        ConversationChange::Updated,
        None,
    )
    .await;
    next_change(&mut cb).await;

    // The cap cannot go below the member count, nor past the maximum.
    for cap in [2, 10001] {
        let resp = call(
            &s,
            &alice,
            Method::PATCH,
            &path,
            Some(json!({"memberCap": cap})),
        )
        .await;
        expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    for body in [json!({"name": "renamed"}), json!({"memberCap": null})] {
        let resp = call(&s, &alice, Method::PATCH, &path, Some(body)).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_json").await;
    }
    // An empty change changes nothing and tells no one.
    let resp = call(&s, &alice, Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    quiet(&mut cc, 300).await;

    // Outsiders: a public group is known (403), a private one is not (404).
    let resp = call(&s, &eve, Method::PATCH, &path, Some(json!({"title": "x"}))).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &path,
        Some(json!({"visibility": "private"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(&s, &eve, Method::PATCH, &path, Some(json!({"title": "x"}))).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = call(&s, &eve, Method::GET, &path, None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn public_groups_are_found_by_name_and_joined_freely() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let g = new_group(
        &s,
        &alice,
        "open-club",
        json!({"visibility": "public", "memberCap": 3, "title": "Open"}),
    )
    .await;
    let id = g["id"].as_str().unwrap().to_owned();
    new_group(&s, &alice, "closed-club", json!({})).await;

    // Found by exact name, any case; private ones and unknown names alike 404.
    let resp = call(&s, &bob, Method::GET, "/v1/groups/Open-Club", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let seen = json(resp).await;
    assert_eq!(seen["id"], id.as_str());
    assert_eq!(seen["title"], "Open");
    assert!(
        seen["role"].is_null() && seen["joinedAt"].is_null(),
        "{seen}"
    );
    let private =
        not_found_body(call(&s, &bob, Method::GET, "/v1/groups/closed-club", None).await).await;
    let unknown =
        not_found_body(call(&s, &bob, Method::GET, "/v1/groups/no-such-club", None).await).await;
    assert_eq!(private, unknown);
    let resp = call(&s, &bob, Method::GET, "/v1/groups/o", None).await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let resp = call(&s, &bob, Method::GET, "/v1/groups/open", None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // Seen by id too, but its members are for members.
    let resp = call(
        &s,
        &bob,
        Method::GET,
        &format!("/v1/conversations/{id}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(
        &s,
        &bob,
        Method::GET,
        &format!("/v1/conversations/{id}/members"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;

    // Joining needs nobody's permission, not even the blocked owner's.
    set_block(&s, &alice, &bob.user_id, true).await;
    let (mut ca, _) = ws_resumed(&s, &alice, None).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    let join = format!("/v1/conversations/{id}/join");
    let resp = call(&s, &bob, Method::POST, &join, None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let joined = json(resp).await;
    assert_eq!(joined["role"], "member");
    assert_eq!(joined["memberCount"], 2);
    let events = expect_change(
        &mut [&mut ca, &mut cb],
        &id,
        ConversationChange::MemberJoined,
        Some(&bob.user_id),
    )
    .await;
    assert!(events.iter().all(|e| e.role.is_some()));
    let resp = call(&s, &bob, Method::POST, &join, None).await;
    assert_eq!(resp.status(), StatusCode::OK, "already a member");
    quiet(&mut ca, 300).await;

    // The cap applies.
    let resp = call(&s, &carol, Method::POST, &join, None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = call(&s, &dave, Method::POST, &join, None).await;
    expect_error(resp, StatusCode::CONFLICT, "member_cap_reached").await;
    assert_eq!(member_ids(&s, &alice, &id).await.len(), 3);

    // A private group is not joined this way: 404 to strangers.
    let closed = json(call(&s, &alice, Method::GET, "/v1/conversations?limit=100", None).await)
        .await["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "closed-club")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = call(
        &s,
        &dave,
        Method::POST,
        &format!("/v1/conversations/{closed}/join"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn join_links_join_private_groups_and_rotation_revokes_the_old_one() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let carol = register(&s, "carol").await;
    let dave = register(&s, "dave").await;
    let eve = register(&s, "eve").await;
    let id = group_with(&s, &alice, "linked", &[&bob]).await;
    let link = format!("/v1/conversations/{id}/join-link");
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;

    // Plain members and strangers cannot make links.
    let resp = call(&s, &bob, Method::POST, &link, None).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = call(&s, &eve, Method::POST, &link, None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    let resp = call(&s, &alice, Method::POST, &link, None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let first = json(resp).await["token"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&first).unwrap().get_version_num(), 4);
    let e = next_change(&mut cb).await;
    assert_eq!(e.change, ConversationChange::JoinLinkChanged);
    let raw = serde_json::to_string(&e).unwrap();
    assert!(!raw.contains(&first), "the token is never in the event");
    // The owner sees the token; a plain member does not.
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
    assert_eq!(g["joinToken"], first.as_str());
    let g = json(
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
    assert!(g["joinToken"].is_null());

    // Anyone holding it joins the private group.
    let resp = call(&s, &carol, Method::POST, &format!("/v1/join/{first}"), None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(json(resp).await["id"], id.as_str());
    expect_change(
        &mut [&mut cb],
        &id,
        ConversationChange::MemberJoined,
        Some(&carol.user_id),
    )
    .await;
    let resp = call(&s, &carol, Method::POST, &format!("/v1/join/{first}"), None).await;
    assert_eq!(resp.status(), StatusCode::OK, "already a member");

    // Rotating revokes the old link.
    let resp = call(&s, &alice, Method::POST, &link, None).await;
    let second = json(resp).await["token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    next_change(&mut cb).await;
    let old =
        not_found_body(call(&s, &dave, Method::POST, &format!("/v1/join/{first}"), None).await)
            .await;
    let unknown = not_found_body(
        call(
            &s,
            &dave,
            Method::POST,
            &format!("/v1/join/{}", uuid::Uuid::new_v4()),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(old, unknown);
    let resp = call(&s, &dave, Method::POST, &format!("/v1/join/{second}"), None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    next_change(&mut cb).await;

    // Revoking: 204, idempotent; the link no longer works.
    let resp = call(&s, &alice, Method::DELETE, &link, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    next_change(&mut cb).await;
    let resp = call(&s, &alice, Method::DELETE, &link, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    quiet(&mut cb, 300).await;
    let resp = call(&s, &eve, Method::POST, &format!("/v1/join/{second}"), None).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = call(&s, &eve, Method::POST, "/v1/join/not-a-uuid", None).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;
    assert_eq!(member_ids(&s, &alice, &id).await.len(), 4);
}
