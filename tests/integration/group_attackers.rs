//! Groups from the attacker's side: outsiders and removed members get the
//! same 404 as for nothing at all, blocks stop users from bringing each
//! other in, and unusable tokens are refused everywhere.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::attacker_tokens::unusable_tokens;
use crate::common::*;

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
