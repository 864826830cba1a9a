//! Group roles end to end: who assigns roles, who removes whom, handing
//! over ownership, the last member leaving, and an owner's account being
//! deleted.

use passerelle_api_types::MemberRole;
use passerelle_client::ws::ConversationChange;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

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

#[tokio::test]
async fn the_last_member_leaving_deletes_the_group_with_its_messages() {
    let s = server().await;
    let alone = register(&s, "solo").await;
    let other = register(&s, "somebody").await;
    let g = new_group(&s, &alone, "solitude", json!({})).await;
    let id = g["id"].as_str().unwrap().to_owned();
    let (mut c, _) = ws_resumed(&s, &alone, None).await;
    let m = message_in(&id);
    c.send_message(m.clone()).await.unwrap();
    assert!(matches!(
        next(&mut c).await,
        passerelle_client::ws::ServerFrame::Sent { .. }
    ));
    let resp = call(
        &s,
        &alone,
        Method::DELETE,
        &format!("/v1/conversations/{id}/members/{}", alone.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // The message row is gone: its id is free again (a new message, not a
    // duplicate), and a replay from the start shows neither it nor a gap.
    let again = passerelle_client::ws::SendMessage {
        device_entries: None,
        message_id: m.message_id,
        ..message_to(&other.user_id)
    };
    let (mut c2, replayed) = ws_resumed(&s, &alone, Some(0)).await;
    assert!(
        !replayed.iter().any(|f| matches!(
            f,
            passerelle_client::ws::ServerFrame::Message { .. }
                | passerelle_client::ws::ServerFrame::Truncated { .. }
        )),
        "{replayed:?}"
    );
    c2.send_message(again).await.unwrap();
    loop {
        match next(&mut c2).await {
            passerelle_client::ws::ServerFrame::Sent { payload, .. } => {
                assert!(!payload.duplicate);
                break;
            }
            passerelle_client::ws::ServerFrame::Conversation { .. } => continue,
            other => panic!("{other:?}"),
        }
    }
}
