//! `/v1/contacts`: adding, listing, paging and removing contacts, and the
//! attacker's side: existence never leaks, other users' lists are out of
//! reach, unusable tokens are refused, lookups are throttled.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::attacker_tokens::unusable_tokens;
use crate::common::*;

#[tokio::test]
async fn add_list_and_remove_a_contact() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    assert_eq!(
        patch_me(
            &s,
            &bob,
            json!({"displayName": "Bob B.", "avatarBlobId": "av-bob_1"})
        )
        .await
        .status(),
        StatusCode::OK
    );

    // By username, in any case: 201 with the contact.
    let resp = add_contact(&s, &alice, json!({"username": "BoB"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let added = json(resp).await;
    assert_eq!(added["userId"], bob.user_id.as_str());
    assert_eq!(added["username"], "bob");
    assert_eq!(added["displayName"], "Bob B.");
    assert_eq!(added["avatarBlobId"], "av-bob_1");
    let added_at = added["addedAt"].as_str().expect("addedAt").to_owned();
    assert!(chrono::DateTime::parse_from_rfc3339(&added_at).is_ok());
    assert_eq!(added.as_object().map(|o| o.len()), Some(5), "{added}");

    // Again, by id: 200, the same entry (the first time is kept).
    let resp = add_contact(&s, &alice, json!({"userId": bob.user_id})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await, added);

    let resp = list_page(&s, &alice, "contacts", "").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = json(resp).await;
    assert_eq!(page["contacts"], json!([added]));
    assert!(page["nextCursor"].is_null());
    // One-way: Bob's list is untouched.
    assert!(list_ids(&s, &bob, "contacts").await.is_empty());

    let path = format!("/v1/contacts/{}", bob.user_id);
    let resp = authed(&s, Method::DELETE, &path, &alice.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = authed(&s, Method::DELETE, &path, &alice.access)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    assert!(list_ids(&s, &alice, "contacts").await.is_empty());

    // Added again later: a new entry, 201.
    let resp = add_contact(&s, &alice, json!({"userId": bob.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn contacts_page_in_the_order_they_were_added() {
    let s = server().await;
    let owner = register(&s, "pager").await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let friend = register(&s, &format!("pal{i}")).await;
        let resp = add_contact(&s, &owner, json!({"userId": friend.user_id})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        expected.push(friend.user_id);
    }
    let (all, pages) = list_all(&s, &owner, "contacts", 3).await;
    assert_eq!(pages, 3, "7 contacts in pages of 3");
    let ids: Vec<&str> = all.iter().filter_map(|e| e["userId"].as_str()).collect();
    assert_eq!(ids, expected, "every contact once, in the order added");
    let (_, pages) = list_all(&s, &owner, "contacts", 7).await;
    assert_eq!(pages, 1, "an exact fit announces no further page");
    // Default page size covers them all.
    let page = json(list_page(&s, &owner, "contacts", "").await).await;
    assert_eq!(page["contacts"].as_array().map(Vec::len), Some(7));

    // A removal between pages neither repeats nor skips the others.
    let first = json(list_page(&s, &owner, "contacts", "?limit=2").await).await;
    let cursor = first["nextCursor"].as_str().expect("cursor").to_owned();
    let path = format!("/v1/contacts/{}", expected[2]);
    authed(&s, Method::DELETE, &path, &owner.access)
        .send()
        .await
        .unwrap();
    let rest = json(
        list_page(
            &s,
            &owner,
            "contacts",
            &format!("?limit=10&cursor={cursor}"),
        )
        .await,
    )
    .await;
    let rest: Vec<&str> = rest["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .filter_map(|e| e["userId"].as_str())
        .collect();
    assert_eq!(rest, expected[3..].to_vec());

    // Bad paging: 422 for a limit out of range, 400 for a malformed query.
    for q in ["?limit=0", "?limit=101", "?limit=-1"] {
        let resp = list_page(&s, &owner, "contacts", q).await;
        let code = if q == "?limit=-1" {
            (StatusCode::BAD_REQUEST, "invalid_query")
        } else {
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        };
        expect_error(resp, code.0, code.1).await;
    }
    for q in [
        "?limit=abc",
        "?cursor=not-a-cursor",
        "?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "?page=2",
    ] {
        let resp = list_page(&s, &owner, "contacts", q).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
}

#[tokio::test]
async fn yourself_and_malformed_requests_are_refused_and_change_nothing() {
    let s = server().await;
    let me = register(&s, "narcissus").await;
    let other = register(&s, "echo").await;
    for body in [
        json!({"userId": me.user_id}),
        json!({"username": "Narcissus"}),
        json!({}),
        json!({"username": "echo", "userId": other.user_id}),
        json!({"username": "a b"}),
        json!({"username": "x"}),
    ] {
        let resp = add_contact(&s, &me, body.clone()).await;
        let message =
            expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(!message.is_empty(), "{body}");
    }
    for body in [
        json!({"username": "echo", "note": "smuggled"}),
        json!({"userId": "not-a-uuid"}),
        json!({"username": 42}),
        json!("echo"),
    ] {
        let resp = add_contact(&s, &me, body).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_json").await;
    }
    let resp = authed(&s, Method::DELETE, "/v1/contacts/not-a-uuid", &me.access)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;
    let resp = authed(&s, Method::PUT, "/v1/contacts", &me.access)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert!(list_ids(&s, &me, "contacts").await.is_empty());
}

#[tokio::test]
async fn existence_never_leaks_through_adding() {
    let s = server().await;
    let prober = register(&s, "prober").await;
    let blocker = register(&s, "blocker").await;
    let hidden = register(&s, "hidden").await;
    let picky = register(&s, "picky").await;
    let open = register(&s, "open").await;
    assert_eq!(
        set_block(&s, &blocker, &prober.user_id, true)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    patch_me(
        &s,
        &hidden,
        json!({"profileVisibility": "nobody", "displayName": "Secret"}),
    )
    .await;
    patch_me(&s, &picky, json!({"profileVisibility": "contacts"})).await;

    let unknown =
        not_found_body(add_contact(&s, &prober, json!({"username": "nobody_here"})).await).await;
    let unknown_id =
        not_found_body(add_contact(&s, &prober, json!({"userId": uuid::Uuid::new_v4()})).await)
            .await;
    assert_eq!(unknown, unknown_id);
    // A user who blocked the prober: by name or by id, like nobody at all.
    for body in [
        json!({"username": "blocker"}),
        json!({"userId": blocker.user_id}),
        // Profiles the prober may not see are not found by name.
        json!({"username": "hidden"}),
        json!({"username": "picky"}),
    ] {
        let got = not_found_body(add_contact(&s, &prober, body.clone()).await).await;
        assert_eq!(got, unknown, "{body}");
    }
    assert!(list_ids(&s, &prober, "contacts").await.is_empty());

    // By id the prober already knows, a hidden profile can be added, but its
    // display name stays hidden.
    let resp = add_contact(&s, &prober, json!({"userId": hidden.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let entry = json(resp).await;
    assert_eq!(entry["username"], "hidden");
    assert!(entry["displayName"].is_null(), "{entry}");

    // `contacts` visibility: found by name once picky has the prober.
    add_contact(&s, &picky, json!({"userId": prober.user_id})).await;
    let resp = add_contact(&s, &prober, json!({"username": "picky"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = add_contact(&s, &prober, json!({"username": "open"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    // Blocked after being added: adding again says "already", not 404, so
    // the block is not revealed; the profile fields go dark like a
    // `nobody` profile.
    patch_me(&s, &open, json!({"displayName": "Open"})).await;
    set_block(&s, &open, &prober.user_id, true).await;
    let resp = add_contact(&s, &prober, json!({"userId": open.user_id})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let entry = json(resp).await;
    assert_eq!(entry["username"], "open");
    assert!(entry["displayName"].is_null(), "{entry}");
    let ids = list_ids(&s, &prober, "contacts").await;
    assert_eq!(
        ids,
        [
            hidden.user_id.as_str(),
            picky.user_id.as_str(),
            open.user_id.as_str()
        ]
    );
}

#[tokio::test]
async fn other_users_lists_are_out_of_reach() {
    let s = server().await;
    let victim = register(&s, "victim").await;
    let friend = register(&s, "friend").await;
    let attacker = register(&s, "attacker").await;
    add_contact(&s, &victim, json!({"userId": friend.user_id})).await;

    // The attacker's DELETE acts on the attacker's own list only.
    let path = format!("/v1/contacts/{}", friend.user_id);
    let resp = authed(&s, Method::DELETE, &path, &attacker.access)
        .send()
        .await
        .unwrap();
    let message = expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let missing = format!("/v1/contacts/{}", uuid::Uuid::new_v4());
    let resp = authed(&s, Method::DELETE, &missing, &attacker.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await,
        message
    );
    // And the list endpoint only ever shows the caller's own.
    assert!(list_ids(&s, &attacker, "contacts").await.is_empty());
    assert_eq!(
        list_ids(&s, &victim, "contacts").await,
        [friend.user_id.as_str()]
    );
    // A cursor taken from the victim's list shows the attacker nothing of it.
    add_contact(&s, &victim, json!({"userId": attacker.user_id})).await;
    let page = json(list_page(&s, &victim, "contacts", "?limit=1").await).await;
    let cursor = page["nextCursor"].as_str().expect("cursor").to_owned();
    let page = json(list_page(&s, &attacker, "contacts", &format!("?cursor={cursor}")).await).await;
    assert_eq!(page["contacts"], json!([]));
}

#[tokio::test]
async fn revoked_expired_and_forged_tokens_are_refused() {
    let s = server().await;
    let owner = register(&s, "tokenholder").await;
    let second = login_ok(&s, "tokenholder").await;
    let other = register(&s, "target").await;
    add_contact(&s, &owner, json!({"userId": other.user_id})).await;

    // Revoke the second device from the first, then reuse its token.
    let resp = authed(
        &s,
        Method::DELETE,
        &format!("/v1/devices/{}", second.device_id),
        &owner.access,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let mut bad = unusable_tokens(&s, &owner).await;
    bad.push(("revoked device", second.access.clone()));
    let contact_path = format!("/v1/contacts/{}", other.user_id);
    for (name, token) in &bad {
        for (method, path, body) in [
            (Method::GET, "/v1/contacts", None),
            (
                Method::POST,
                "/v1/contacts",
                Some(json!({"username": "target"})),
            ),
            (Method::DELETE, contact_path.as_str(), None),
        ] {
            let mut req = authed(&s, method.clone(), path, token);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{name}: {method} {path}"
            );
            expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
    }
    let resp = s.http().get(s.url("/v1/contacts")).send().await.unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Nothing changed.
    assert_eq!(
        list_ids(&s, &owner, "contacts").await,
        [other.user_id.as_str()]
    );
}

#[tokio::test]
async fn adding_contacts_counts_against_the_lookup_limit() {
    let s = builder()
        .env("PASSERELLE__LIMITS__LOOKUP_PER_MINUTE", "3")
        .spawn()
        .await;
    let eager = register(&s, "eager").await;
    let calm = register(&s, "calm").await;
    for name in ["u_one", "u_two"] {
        register(&s, name).await;
    }
    for body in [
        json!({"username": "u_one"}),
        json!({"username": "missing_one"}),
        json!({"username": "u_two"}),
    ] {
        let resp = add_contact(&s, &eager, body).await;
        assert_ne!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let resp = add_contact(&s, &eager, json!({"username": "calm"})).await;
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    expect_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Lookups share the budget.
    expect_error(
        lookup(&s, Some(&eager.access), "calm").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // The refused add changed nothing; another account is unaffected.
    assert_eq!(list_ids(&s, &eager, "contacts").await.len(), 2);
    let resp = add_contact(&s, &calm, json!({"userId": eager.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

/// The JSON of one contact entry has exactly the documented fields.
#[tokio::test]
async fn contact_entries_have_the_documented_shape() {
    let s = server().await;
    let a = register(&s, "shape_a").await;
    let b = register(&s, "shape_b").await;
    add_contact(&s, &a, json!({"userId": b.user_id})).await;
    let page = json(list_page(&s, &a, "contacts", "").await).await;
    let keys: Vec<&str> = page["contacts"][0]
        .as_object()
        .expect("entry")
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "addedAt",
            "avatarBlobId",
            "displayName",
            "userId",
            "username"
        ]
    );
    let top: Vec<&String> = page.as_object().expect("page").keys().collect();
    assert_eq!(top.len(), 2, "{page}");
    assert!(matches!(page["nextCursor"], Value::Null));
}
