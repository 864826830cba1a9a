//! Blob capabilities from the gateway's side: upload grants (one new blob,
//! size-capped, signed so that the published keys verify them, refused
//! for bad sizes and digests); a message may only carry its sender's own
//! message or attachment blob; download grants only for readers of a
//! message that carries the blob (the history rule: members, not those who
//! joined later, not a blocker of the sender, never after a retraction),
//! avatars by the profile rule; everything else is the same 404. The bytes
//! themselves: `blob_flow.rs`.

use passerelle_auth::{BlobOp, CapabilityVerifier};
use passerelle_client::ws::ServerFrame;
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// `POST /v1/blobs` for `purpose` and `size`; asserts 201.
pub async fn upload_grant(s: &TestServer, d: &Device, purpose: &str, size: u64) -> Value {
    let resp = call(
        s,
        d,
        Method::POST,
        "/v1/blobs",
        Some(json!({"purpose": purpose, "size": size})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    json(resp).await
}

/// `POST /v1/blobs/{id}/download`, signed in as `d` or anonymous.
pub async fn download_grant(s: &TestServer, d: Option<&Device>, id: &str) -> reqwest::Response {
    let mut req = s.http().post(s.url(&format!("/v1/blobs/{id}/download")));
    if let Some(d) = d {
        req = req.bearer_auth(&d.access);
    }
    req.send().await.expect("download grant")
}

/// The capability verifier a standalone blob store would build.
async fn verifier(s: &TestServer) -> CapabilityVerifier {
    let jwks = s
        .http()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .text()
        .await
        .expect("text");
    CapabilityVerifier::from_jwks(&jwks, "passerelle", 0).expect("verifier")
}

/// Sends `message` with `blob` on `conn`; the answer (`sent` or `error`),
/// passing over stream events that come first.
pub async fn send_with_blob(
    conn: &mut passerelle_client::Connection,
    mut message: passerelle_client::ws::SendMessage,
    blob: &str,
) -> ServerFrame {
    message.blob_id = Some(blob.to_owned());
    conn.send_message(message).await.expect("send");
    loop {
        let frame = next(conn).await;
        if matches!(frame, ServerFrame::Sent { .. } | ServerFrame::Error { .. }) {
            return frame;
        }
    }
}

#[tokio::test]
async fn upload_grants_are_signed_capabilities_for_one_new_blob() {
    let s = server().await;
    let alice = register(&s, "bl_alice").await;
    let digest = "ab".repeat(32);
    let resp = call(
        &s,
        &alice,
        Method::POST,
        "/v1/blobs",
        Some(json!({"purpose": "attachment", "size": 4096, "sha256": digest})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let grant = json(resp).await;
    let id = grant["blobId"].as_str().expect("blobId");
    assert!(id.len() == 33 && id.starts_with('b'), "{id}");
    assert!(
        grant["url"]
            .as_str()
            .expect("url")
            .ends_with(&format!("/v1/blobs/{id}")),
        "{grant}"
    );
    assert_eq!(grant["maxBytes"], 4096);
    let claims = verifier(&s)
        .await
        .verify(grant["token"].as_str().expect("token"), id, BlobOp::Put)
        .expect("the published keys verify it");
    assert_eq!(claims.max_bytes, Some(4096));
    assert_eq!(claims.sha256.as_deref(), Some(digest.as_str()));
    assert_eq!(claims.sub.to_string(), alice.user_id);
    // It is for that blob and that operation only.
    let v = verifier(&s).await;
    let token = grant["token"].as_str().expect("token");
    assert!(v.verify(token, id, BlobOp::Get).is_err());
    assert!(v.verify(token, "b0", BlobOp::Put).is_err());
    // The access token is not a capability either.
    assert!(v.verify(&alice.access, id, BlobOp::Put).is_err());
    // Each grant names a new blob.
    let other = upload_grant(&s, &alice, "message", 10).await;
    assert_ne!(other["blobId"], grant["blobId"]);

    // Refusals.
    for (body, status, code) in [
        (
            json!({"purpose": "message", "size": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"purpose": "message", "size": 104_857_601_u64}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            json!({"purpose": "message", "size": 1, "sha256": "AB"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"purpose": "music", "size": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"purpose": "message", "size": -1}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"purpose": "message", "size": 1, "bytes": "AAAA"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ] {
        let resp = call(&s, &alice, Method::POST, "/v1/blobs", Some(body.clone())).await;
        expect_error(resp, status, code).await;
    }
    let resp = s
        .http()
        .post(s.url("/v1/blobs"))
        .json(&json!({"purpose": "message", "size": 1}))
        .send()
        .await
        .expect("post");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn messages_carry_only_their_senders_own_blobs() {
    let s = server().await;
    let alice = register(&s, "bs_alice").await;
    let bob = register(&s, "bs_bob").await;
    let mine = upload_grant(&s, &alice, "message", 100).await;
    let mine = mine["blobId"].as_str().expect("id").to_owned();
    let avatar = upload_grant(&s, &alice, "avatar", 100).await;
    let avatar = avatar["blobId"].as_str().expect("id").to_owned();
    let (mut a, _) = ws_resumed(&s, &alice, None).await;
    let (mut b, _) = ws_resumed(&s, &bob, None).await;

    // Bob names Alice's blob: refused, so it cannot hand anyone a
    // download right to her bytes.
    let refusals = [
        (send_with_blob(&mut b, message_to(&alice.user_id), &mine).await),
        (send_with_blob(&mut a, message_to(&bob.user_id), "bunknown").await),
        (send_with_blob(&mut a, message_to(&bob.user_id), &avatar).await),
    ];
    for frame in refusals {
        match frame {
            ServerFrame::Error { payload, .. } => {
                assert_eq!(
                    payload.code,
                    passerelle_client::ws::FrameErrorCode::NotFound,
                    "{payload:?}"
                );
                assert!(payload.message.contains("blobId"), "{}", payload.message);
            }
            other => panic!("expected not_found, got {other:?}"),
        }
    }
    quiet(&mut b, 200).await;
    // Her own message blob goes through, and reaches Bob with its blobId.
    let m = message_to(&bob.user_id);
    match send_with_blob(&mut a, m.clone(), &mine).await {
        ServerFrame::Sent { payload, .. } => assert_eq!(payload.message_id, m.message_id),
        other => panic!("expected sent, got {other:?}"),
    }
    match next(&mut b).await {
        ServerFrame::Message { payload, .. } => {
            assert_eq!(payload.blob_id.as_deref(), Some(mine.as_str()));
        }
        other => panic!("expected the message, got {other:?}"),
    }
}

#[tokio::test]
async fn downloads_are_granted_to_readers_of_a_message_that_carries_the_blob() {
    let s = server().await;
    let alice = register(&s, "bd_alice").await;
    let bob = register(&s, "bd_bob").await;
    let carol = register(&s, "bd_carol").await;
    let dave = register(&s, "bd_dave").await;
    let group = group_with(&s, &alice, "bd-group", &[&bob, &carol]).await;
    let blob = upload_grant(&s, &alice, "attachment", 100).await;
    let blob = blob["blobId"].as_str().expect("id").to_owned();
    let (mut a, _) = ws_resumed(&s, &alice, None).await;

    // Before any message carries it, only its uploader may fetch it.
    let unknown = not_found_body(download_grant(&s, Some(&bob), "bnothing").await).await;
    let refused = not_found_body(download_grant(&s, Some(&bob), &blob).await).await;
    assert_eq!(refused, unknown, "the same 404");
    assert_eq!(
        download_grant(&s, Some(&alice), &blob).await.status(),
        StatusCode::OK
    );

    // Carol blocks Alice, then Alice posts it in the group.
    assert_eq!(
        set_block(&s, &carol, &alice.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    let m = message_in(&group);
    assert!(matches!(
        send_with_blob(&mut a, m.clone(), &blob).await,
        ServerFrame::Sent { .. }
    ));
    // Bob, a member, may; the capability names the blob and `get`.
    let resp = download_grant(&s, Some(&bob), &blob).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let grant = json(resp).await;
    verifier(&s)
        .await
        .verify(grant["token"].as_str().expect("token"), &blob, BlobOp::Get)
        .expect("a get capability");
    assert!(grant.get("maxBytes").is_none());
    // Carol blocks the sender: the message is not hers to read. Dave is
    // not a member; Dave joining later does not see it either; anonymous
    // callers get nothing; a malformed id is the same 404.
    for who in [Some(&carol), Some(&dave), None] {
        assert_eq!(
            not_found_body(download_grant(&s, who, &blob).await).await,
            unknown
        );
    }
    assert_eq!(
        add_member(&s, &alice, &group, &dave.user_id).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        not_found_body(download_grant(&s, Some(&dave), &blob).await).await,
        unknown
    );
    assert_eq!(
        not_found_body(download_grant(&s, Some(&bob), "..%2F..%2Fetc").await).await,
        unknown
    );
    let resp = s
        .http()
        .post(s.url(&format!("/v1/blobs/{blob}/download")))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("post");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Retracted: nobody is granted it any more, its sender included.
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/conversations/{group}/messages/{}", m.message_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "retract");
    for who in [&alice, &bob] {
        assert_eq!(
            not_found_body(download_grant(&s, Some(who), &blob).await).await,
            unknown
        );
    }
    // And it cannot be sent again.
    match send_with_blob(&mut a, message_in(&group), &blob).await {
        ServerFrame::Error { payload, .. } => {
            assert_eq!(
                payload.code,
                passerelle_client::ws::FrameErrorCode::NotFound
            );
        }
        other => panic!("expected not_found, got {other:?}"),
    }
}

#[tokio::test]
async fn avatar_downloads_follow_the_profile_rule() {
    let s = server().await;
    let alice = register(&s, "ba_alice").await;
    let bob = register(&s, "ba_bob").await;
    let blob = upload_grant(&s, &alice, "avatar", 100).await;
    let blob = blob["blobId"].as_str().expect("id").to_owned();
    // Not her avatar yet: only a blob id.
    assert_eq!(
        download_grant(&s, None, &blob).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        patch_me(&s, &alice, json!({"avatarBlobId": blob}))
            .await
            .status(),
        StatusCode::OK
    );
    // Public profile: anyone, signed in or not.
    for who in [None, Some(&bob), Some(&alice)] {
        assert_eq!(
            download_grant(&s, who, &blob).await.status(),
            StatusCode::OK
        );
    }
    // Contacts only: Bob is not one; Alice still is herself.
    assert_eq!(
        patch_me(&s, &alice, json!({"profileVisibility": "contacts"}))
            .await
            .status(),
        StatusCode::OK
    );
    for who in [None, Some(&bob)] {
        assert_eq!(
            download_grant(&s, who, &blob).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        download_grant(&s, Some(&alice), &blob).await.status(),
        StatusCode::OK
    );
    let resp = add_contact(&s, &alice, json!({"userId": bob.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        download_grant(&s, Some(&bob), &blob).await.status(),
        StatusCode::OK
    );
    // A replaced avatar is granted to nobody but... nobody.
    assert_eq!(
        patch_me(&s, &alice, json!({"avatarBlobId": null}))
            .await
            .status(),
        StatusCode::OK
    );
    for who in [Some(&bob), Some(&alice)] {
        assert_eq!(
            download_grant(&s, who, &blob).await.status(),
            StatusCode::NOT_FOUND
        );
    }
}
