//! `/v1/blocks`: blocking, listing, paging and unblocking, what a block
//! does so far (profile and contact requests), and the attacker's side.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::attacker_tokens::unusable_tokens;
use crate::common::*;

#[tokio::test]
async fn block_list_and_unblock_idempotently() {
    let s = server().await;
    let me = register(&s, "blocker_a").await;
    let pest = register(&s, "pest").await;
    patch_me(&s, &pest, json!({"displayName": "Pest"})).await;

    assert_eq!(
        set_block(&s, &me, &pest.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    let page = json(list_page(&s, &me, "blocks", "").await).await;
    let entry = page["blocks"][0].clone();
    assert_eq!(page["blocks"].as_array().map(Vec::len), Some(1));
    assert_eq!(entry["userId"], pest.user_id.as_str());
    assert_eq!(entry["username"], "pest");
    // The blocker still sees the blocked user's (public) profile.
    assert_eq!(entry["displayName"], "Pest");
    assert!(entry["blockedAt"].as_str().is_some());
    assert!(page["nextCursor"].is_null());

    // Blocking again: 204, nothing new, the first time is kept.
    assert_eq!(
        set_block(&s, &me, &pest.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = json(list_page(&s, &me, "blocks", "").await).await;
    assert_eq!(again["blocks"], json!([entry]));

    // The blocked user's own list is empty: a block is one-way and silent.
    assert!(list_ids(&s, &pest, "blocks").await.is_empty());

    for _ in 0..2 {
        assert_eq!(
            set_block(&s, &me, &pest.user_id, false).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    assert!(list_ids(&s, &me, "blocks").await.is_empty());
    // Unblocking someone never blocked, or an unknown id: 204 as well.
    assert_eq!(
        set_block(&s, &me, &uuid::Uuid::new_v4().to_string(), false)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn bad_targets_are_refused() {
    let s = server().await;
    let me = register(&s, "selfish").await;
    let resp = set_block(&s, &me, &me.user_id, true).await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let resp = set_block(&s, &me, &uuid::Uuid::new_v4().to_string(), true).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = set_block(&s, &me, "not-a-uuid", true).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;
    let resp = authed(&s, Method::POST, "/v1/blocks", &me.access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert!(list_ids(&s, &me, "blocks").await.is_empty());
}

#[tokio::test]
async fn blocked_users_cannot_see_or_add_the_blocker() {
    let s = server().await;
    let blocker = register(&s, "shield").await;
    let blocked = register(&s, "spammer").await;
    let bystander = register(&s, "bystander").await;
    patch_me(&s, &blocker, json!({"displayName": "Shield"})).await;
    // Both were contacts of each other before the block.
    add_contact(&s, &blocker, json!({"userId": blocked.user_id})).await;
    add_contact(&s, &blocked, json!({"userId": blocker.user_id})).await;
    assert_eq!(
        lookup(&s, Some(&blocked.access), "shield").await.status(),
        StatusCode::OK
    );

    set_block(&s, &blocker, &blocked.user_id, true).await;
    let unknown = not_found_body(lookup(&s, Some(&blocked.access), "no_such_user").await).await;
    // The profile: the same 404 as a user who does not exist.
    assert_eq!(
        not_found_body(lookup(&s, Some(&blocked.access), "shield").await).await,
        unknown
    );
    // Adding: same 404 (the blocked user's entry already exists, so use a
    // fresh one: remove it first).
    let path = format!("/v1/contacts/{}", blocker.user_id);
    authed(&s, Method::DELETE, &path, &blocked.access)
        .send()
        .await
        .unwrap();
    for body in [
        json!({"username": "shield"}),
        json!({"userId": blocker.user_id}),
    ] {
        assert_eq!(
            not_found_body(add_contact(&s, &blocked, body).await).await,
            unknown
        );
    }
    assert!(list_ids(&s, &blocked, "contacts").await.is_empty());

    // Others are unaffected, and the blocker keeps the contact entry (blocks
    // win where the two meet; the entry comes back to life on unblock).
    assert_eq!(
        lookup(&s, Some(&bystander.access), "shield").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        lookup(&s, None, "shield").await.status(),
        StatusCode::OK,
        "anonymous callers are not the blocked user"
    );
    assert_eq!(
        list_ids(&s, &blocker, "contacts").await,
        [blocked.user_id.as_str()]
    );
    // The blocker still sees the blocked user's profile.
    assert_eq!(
        lookup(&s, Some(&blocker.access), "spammer").await.status(),
        StatusCode::OK
    );

    // Unblocked: visible and addable again.
    set_block(&s, &blocker, &blocked.user_id, false).await;
    let resp = lookup(&s, Some(&blocked.access), "shield").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["displayName"], "Shield");
    let resp = add_contact(&s, &blocked, json!({"username": "shield"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn blocking_back_reveals_nothing() {
    let s = server().await;
    let a = register(&s, "first_blk").await;
    let b = register(&s, "second_blk").await;
    set_block(&s, &a, &b.user_id, true).await;
    // b blocking a (who blocked b) is answered like any other block.
    assert_eq!(
        set_block(&s, &b, &a.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(list_ids(&s, &b, "blocks").await, [a.user_id.as_str()]);
    assert_eq!(list_ids(&s, &a, "blocks").await, [b.user_id.as_str()]);
    // Each lifts only their own block.
    set_block(&s, &b, &a.user_id, false).await;
    assert_eq!(list_ids(&s, &a, "blocks").await, [b.user_id.as_str()]);
    not_found_body(lookup(&s, Some(&b.access), "first_blk").await).await;
}

#[tokio::test]
async fn blocks_page_across_pages() {
    let s = server().await;
    let me = register(&s, "block_pager").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let u = register(&s, &format!("blk{i}")).await;
        set_block(&s, &me, &u.user_id, true).await;
        expected.push(u.user_id);
    }
    let (all, pages) = list_all(&s, &me, "blocks", 2).await;
    assert_eq!(pages, 3);
    let ids: Vec<&str> = all.iter().filter_map(|e| e["userId"].as_str()).collect();
    assert_eq!(ids, expected);
    expect_error(
        list_page(&s, &me, "blocks", "?limit=500").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        list_page(&s, &me, "blocks", "?cursor=%%%").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn revoked_expired_and_forged_tokens_are_refused() {
    let s = server().await;
    let owner = register(&s, "blk_owner").await;
    let second = login_ok(&s, "blk_owner").await;
    let target = register(&s, "blk_target").await;
    set_block(&s, &owner, &target.user_id, true).await;
    authed(
        &s,
        Method::DELETE,
        &format!("/v1/devices/{}", second.device_id),
        &owner.access,
    )
    .send()
    .await
    .unwrap();
    let mut bad = unusable_tokens(&s, &owner).await;
    bad.push(("revoked device", second.access.clone()));
    let path = format!("/v1/blocks/{}", target.user_id);
    for (name, token) in &bad {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let p = if method == Method::GET {
                "/v1/blocks"
            } else {
                path.as_str()
            };
            let resp = authed(&s, method.clone(), p, token).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}: {method}");
            expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
    }
    // The block is still in place.
    assert_eq!(
        list_ids(&s, &owner, "blocks").await,
        [target.user_id.as_str()]
    );
}

#[tokio::test]
async fn deleting_an_account_removes_it_from_every_list() {
    let s = server().await;
    let stay = register(&s, "stayer").await;
    let leave = register(&s, "leaver").await;
    add_contact(&s, &stay, json!({"userId": leave.user_id})).await;
    set_block(&s, &stay, &leave.user_id, true).await;
    add_contact(&s, &leave, json!({"userId": stay.user_id})).await;
    set_block(&s, &leave, &stay.user_id, true).await;
    let resp = authed(&s, Method::DELETE, "/v1/me", &leave.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(list_ids(&s, &stay, "contacts").await.is_empty());
    assert!(list_ids(&s, &stay, "blocks").await.is_empty());
    // The id is now unknown.
    let resp = set_block(&s, &stay, &leave.user_id, true).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}
