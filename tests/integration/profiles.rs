//! Profiles and privacy settings: `GET`/`PATCH /v1/me` with the avatar and
//! the two settings, `GET /v1/users/{username}` (the profile link) through
//! the whole visibility matrix, its throttle, and its refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::attacker_tokens::unusable_tokens;
use crate::common::*;

#[tokio::test]
async fn settings_default_update_partially_and_clear() {
    let s = server().await;
    let d = register(&s, "settler").await;
    let me = json(get_me(&s, &d.access).await).await;
    assert!(me["avatarBlobId"].is_null());
    assert_eq!(me["messagePolicy"], "everyone");
    assert_eq!(me["profileVisibility"], "everyone");

    let resp = patch_me(
        &s,
        &d,
        json!({"displayName": "Settler", "avatarBlobId": "Av_9-x", "messagePolicy": "contacts"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me = json(resp).await;
    assert_eq!(me["displayName"], "Settler");
    assert_eq!(me["avatarBlobId"], "Av_9-x");
    assert_eq!(me["messagePolicy"], "contacts");
    assert_eq!(me["profileVisibility"], "everyone");

    // A field left out stays; `{}` changes nothing.
    let resp = patch_me(&s, &d, json!({"profileVisibility": "nobody"})).await;
    let me = json(resp).await;
    assert_eq!(me["displayName"], "Settler");
    assert_eq!(me["avatarBlobId"], "Av_9-x");
    assert_eq!(me["messagePolicy"], "contacts");
    assert_eq!(me["profileVisibility"], "nobody");
    let unchanged = json(patch_me(&s, &d, json!({})).await).await;
    assert_eq!(unchanged, me);

    // `null` clears the avatar, and only it.
    let me = json(patch_me(&s, &d, json!({"avatarBlobId": null})).await).await;
    assert!(me["avatarBlobId"].is_null());
    assert_eq!(me["displayName"], "Settler");
    assert_eq!(json(get_me(&s, &d.access).await).await, me);
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let s = server().await;
    let d = register(&s, "careful").await;
    let before = json(
        patch_me(
            &s,
            &d,
            json!({"avatarBlobId": "ok", "profileVisibility": "contacts"}),
        )
        .await,
    )
    .await;
    for body in [
        json!({"avatarBlobId": ""}),
        json!({"avatarBlobId": "a".repeat(129)}),
        json!({"avatarBlobId": "../etc/passwd"}),
        json!({"avatarBlobId": "has space"}),
        json!({"avatarBlobId": "ok2", "displayName": "   "}),
    ] {
        let resp = patch_me(&s, &d, body.clone()).await;
        let message =
            expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(
            message.contains("avatarBlobId") || message.contains("displayName"),
            "{body}: {message}"
        );
    }
    for body in [
        json!({"messagePolicy": "friends"}),
        json!({"profileVisibility": "public"}),
        json!({"messagePolicy": null}),
        json!({"profileVisibility": null}),
        json!({"readReceipts": null}),
        json!({"readReceipts": "no"}),
        json!({"avatarBlobId": 5}),
        json!({"avatarUrl": "https://example.com/a.png"}),
        json!({"bio": "smuggled content"}),
    ] {
        let resp = patch_me(&s, &d, body.clone()).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_json").await;
    }
    assert_eq!(json(get_me(&s, &d.access).await).await, before);
    // 128 characters is the most allowed.
    let long = "a".repeat(128);
    let me = json(patch_me(&s, &d, json!({"avatarBlobId": long})).await).await;
    assert_eq!(me["avatarBlobId"], long);
}

#[tokio::test]
async fn lookup_is_exact_and_shows_the_public_profile_only() {
    let s = server().await;
    let alice = register(&s, "alice.w").await;
    register(&s, "alice.wonder").await;
    patch_me(
        &s,
        &alice,
        json!({"displayName": "Alice", "avatarBlobId": "avatar-alice"}),
    )
    .await;
    let resp = lookup(&s, None, "ALICE.W").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let profile = json(resp).await;
    assert_eq!(
        profile,
        json!({"userId": alice.user_id, "username": "alice.w", "displayName": "Alice", "avatarBlobId": "avatar-alice"})
    );
    // Exact match only: no prefixes, no patterns.
    let unknown = not_found_body(lookup(&s, None, "nobody_here").await).await;
    for probe in ["alice", "alice.", "alic"] {
        assert_eq!(
            not_found_body(lookup(&s, None, probe).await).await,
            unknown,
            "{probe}"
        );
    }
    // Not a username at all: 422, never a 500.
    for probe in ["al", "a%25", "al%20ice", "%C3%A9t%C3%A9", &"x".repeat(40)] {
        expect_error(
            lookup(&s, None, probe).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    // There is no listing.
    let resp = s.http().get(s.url("/v1/users")).send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = s
        .http()
        .get(s.url("/v1/users/?q=ali"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
}

/// Anonymous / stranger / contact / fan / blocked / owner, against each of
/// `everyone`, `contacts` and `nobody`.
#[tokio::test]
async fn the_visibility_matrix() {
    let s = builder()
        .env("PASSERELLE__LIMITS__LOOKUP_PER_MINUTE", "0")
        .spawn()
        .await;
    let owner = register(&s, "owner_v").await;
    let stranger = register(&s, "stranger_v").await;
    let contact = register(&s, "contact_v").await;
    // Has the owner as a contact; the owner does not have them.
    let fan = register(&s, "fan_v").await;
    // A contact of the owner whom the owner blocked.
    let blocked = register(&s, "blocked_v").await;
    patch_me(&s, &owner, json!({"displayName": "Owner V"})).await;
    add_contact(&s, &owner, json!({"userId": contact.user_id})).await;
    add_contact(&s, &owner, json!({"userId": blocked.user_id})).await;
    add_contact(&s, &fan, json!({"userId": owner.user_id})).await;
    set_block(&s, &owner, &blocked.user_id, true).await;

    let unknown = not_found_body(lookup(&s, None, "no_such_user").await).await;
    let viewers: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("stranger", Some(&stranger.access)),
        ("contact", Some(&contact.access)),
        ("fan", Some(&fan.access)),
        ("blocked", Some(&blocked.access)),
        ("owner", Some(&owner.access)),
    ];
    //                           anon   stranger contact fan    blocked owner
    let matrix = [
        ("everyone", [true, true, true, true, false, true]),
        ("contacts", [false, false, true, false, false, true]),
        ("nobody", [false, false, false, false, false, true]),
    ];
    for (visibility, expected) in matrix {
        let resp = patch_me(&s, &owner, json!({"profileVisibility": visibility})).await;
        assert_eq!(resp.status(), StatusCode::OK);
        for ((name, token), visible) in viewers.iter().zip(expected) {
            let resp = lookup(&s, *token, "owner_v").await;
            if visible {
                assert_eq!(resp.status(), StatusCode::OK, "{visibility}: {name}");
                let body = json(resp).await;
                assert_eq!(body["userId"], owner.user_id.as_str());
                assert_eq!(body["displayName"], "Owner V");
            } else {
                let body = not_found_body(resp).await;
                assert_eq!(body, unknown, "{visibility}: {name} must look like nobody");
            }
        }
        // The same rule applies to the owner's entry in other users' lists:
        // the fan (who has the owner as a contact) sees the display name
        // exactly when the profile is visible to them.
        let page = json(list_page(&s, &fan, "contacts", "").await).await;
        let entry = &page["contacts"][0];
        assert_eq!(entry["userId"], owner.user_id.as_str());
        assert_eq!(
            entry["displayName"] == "Owner V",
            expected[3],
            "{visibility}: fan's list"
        );
    }
}

#[tokio::test]
async fn unusable_tokens_are_refused_not_downgraded() {
    let s = server().await;
    let owner = register(&s, "tok_owner").await;
    let second = login_ok(&s, "tok_owner").await;
    register(&s, "tok_target").await;
    authed(
        &s,
        reqwest::Method::DELETE,
        &format!("/v1/devices/{}", second.device_id),
        &owner.access,
    )
    .send()
    .await
    .unwrap();
    let mut bad = unusable_tokens(&s, &owner).await;
    bad.push(("revoked device", second.access.clone()));
    for (name, token) in &bad {
        let resp = lookup(&s, Some(token), "tok_target").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}");
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let resp = patch_me(
            &s,
            &Device {
                access: token.clone(),
                ..owner.clone()
            },
            json!({"profileVisibility": "nobody"}),
        )
        .await;
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    // A malformed header is refused too, not treated as anonymous.
    let resp = s
        .http()
        .get(s.url("/v1/users/tok_target"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Nothing changed on the owner's account.
    let me = json(get_me(&s, &owner.access).await).await;
    assert_eq!(me["profileVisibility"], "everyone");
}

async fn limited(resp: reqwest::Response) {
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    expect_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn lookups_are_throttled_per_account_and_per_address() {
    let s = builder()
        .env("PASSERELLE__LIMITS__LOOKUP_PER_MINUTE", "4")
        .spawn()
        .await;
    let a = register(&s, "looker_a").await;
    let b = register(&s, "looker_b").await;
    // Hits and misses and malformed names all count.
    for probe in ["looker_b", "missing_1", "missing_2", "x"] {
        let resp = lookup(&s, Some(&a.access), probe).await;
        assert_ne!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{probe}");
    }
    limited(lookup(&s, Some(&a.access), "looker_b").await).await;
    // Another account from the same address has its own budget...
    let resp = lookup(&s, Some(&b.access), "looker_a").await;
    assert_eq!(resp.status(), StatusCode::OK);
    // ...and so do anonymous callers, counted per address.
    for _ in 0..4 {
        assert_eq!(lookup(&s, None, "looker_a").await.status(), StatusCode::OK);
    }
    limited(lookup(&s, None, "looker_a").await).await;
    // Signed in, `b` is still counted on its own account.
    assert_eq!(
        lookup(&s, Some(&b.access), "looker_a").await.status(),
        StatusCode::OK
    );
    // The throttle is counted in the metrics.
    let throttled = metric(&s, "passerelle_throttled_total{kind=\"lookup\"}").await;
    assert!(throttled >= 2.0, "{throttled}");
}

#[tokio::test]
async fn me_shows_the_documented_fields() {
    let s = server().await;
    let d = register(&s, "shape_me").await;
    let me: Value = json(get_me(&s, &d.access).await).await;
    let mut keys: Vec<&str> = me
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avatarBlobId",
            "createdAt",
            "displayName",
            "hasPassword",
            "invisible",
            "lastSeenVisibility",
            "messagePolicy",
            "presenceVisibility",
            "profileVisibility",
            "readReceipts",
            "shareDeviceNames",
            "userId",
            "username"
        ]
    );
}
