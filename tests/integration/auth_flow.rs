//! Register, login, refresh (with rotation and replay detection), logout.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn register_login_refresh_list_and_revoke() {
    let s = server().await;
    let phone = register(&s, "Alice").await;
    assert_eq!(phone.refresh.len(), 43, "32 random bytes, base64url");

    let me = json(get_me(&s, &phone.access).await).await;
    assert_eq!(me["username"], "alice", "usernames are stored lower-cased");
    assert_eq!(me["userId"], phone.user_id.as_str());
    assert_eq!(me["hasPassword"], true);

    let laptop = login_ok(&s, "ALICE").await;
    assert_eq!(laptop.user_id, phone.user_id);
    assert_ne!(
        laptop.device_id, phone.device_id,
        "every login creates a device"
    );

    let rotated = refresh_ok(&s, &laptop.refresh).await;
    assert_eq!(rotated.device_id, laptop.device_id);
    assert_ne!(rotated.refresh, laptop.refresh);
    assert_ne!(rotated.access, laptop.access);

    let list = json(
        authed(&s, Method::GET, "/v1/devices", &rotated.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let devices = list["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0]["id"], phone.device_id.as_str(), "oldest first");
    assert_eq!(devices[0]["name"], "phone");
    assert_eq!(devices[0]["platform"], "android");
    assert_eq!(devices[0]["current"], false);
    assert_eq!(devices[1]["current"], true);

    let path = format!("/v1/devices/{}", phone.device_id);
    let resp = authed(&s, Method::DELETE, &path, &rotated.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        get_me(&s, &phone.access).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    expect_error(
        refresh(&s, &phone.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(get_me(&s, &rotated.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn replaying_a_used_refresh_token_revokes_the_device() {
    let s = server().await;
    let first = register(&s, "bob").await;
    let other = login_ok(&s, "bob").await;
    let second = refresh_ok(&s, &first.refresh).await;

    // The thief replays the first token: refused, and the whole device dies.
    expect_error(
        refresh(&s, &first.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    expect_error(
        refresh(&s, &second.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    expect_error(
        get_me(&s, &second.access).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // Other devices of the account are untouched.
    assert_eq!(get_me(&s, &other.access).await.status(), StatusCode::OK);
    let list = json(
        authed(&s, Method::GET, "/v1/devices", &other.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["devices"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn unknown_refresh_tokens_are_refused() {
    let s = server().await;
    for token in ["", "nope", &"A".repeat(43)] {
        expect_error(
            refresh(&s, token).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
    }
}

#[tokio::test]
async fn register_rules_and_conflicts_change_nothing() {
    let s = server().await;
    for (body, field) in [
        (json!({"username": "ab", "password": PASSWORD}), "username"),
        (
            json!({"username": "a b c", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x".repeat(33), "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "carol", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "carol", "password": PASSWORD, "deviceName": ""}),
            "deviceName",
        ),
        (
            json!({"username": "carol", "password": PASSWORD, "platform": "p".repeat(33)}),
            "platform",
        ),
    ] {
        let resp = s
            .http()
            .post(s.url("/v1/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let message =
            expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(message.starts_with(field), "{message} names {field}");
        assert!(!message.contains(PASSWORD));
    }
    expect_error(
        login(&s, "carol", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    register(&s, "carol").await;
    let resp = s
        .http()
        .post(s.url("/v1/auth/register"))
        .json(&json!({"username": "CAROL", "password": "another password"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::CONFLICT, "username_taken").await;
    expect_error(
        login(&s, "carol", "another password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same() {
    let s = server().await;
    register(&s, "dave").await;
    let wrong = expect_error(
        login(&s, "dave", "not the password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown = expect_error(
        login(&s, "nobody", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let malformed = expect_error(
        login(&s, "x", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, malformed);
}

#[tokio::test]
async fn logout_revokes_only_the_calling_device() {
    let s = server().await;
    let a = register(&s, "erin").await;
    let b = login_ok(&s, "erin").await;
    let resp = authed(&s, Method::POST, "/v1/auth/logout", &a.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        get_me(&s, &a.access).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    expect_error(
        refresh(&s, &a.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    let again = authed(&s, Method::POST, "/v1/auth/logout", &a.access)
        .send()
        .await
        .unwrap();
    expect_error(again, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(get_me(&s, &b.access).await.status(), StatusCode::OK);
    refresh_ok(&s, &b.refresh).await;
}

#[tokio::test]
async fn concurrent_logins_and_refreshes_all_succeed() {
    let s = server().await;
    register(&s, "busy").await;
    let logins = (0..8).map(|_| login(&s, "busy", PASSWORD));
    let mut devices = Vec::new();
    for resp in futures_util::future::join_all(logins).await {
        assert_eq!(resp.status(), StatusCode::OK);
        devices.push(
            json(resp).await["refreshToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for _round in 0..3 {
        let refreshes = devices.iter().map(|t| refresh(&s, t));
        let mut next = Vec::new();
        for resp in futures_util::future::join_all(refreshes).await {
            assert_eq!(
                resp.status(),
                StatusCode::OK,
                "no refresh may fail under concurrency"
            );
            next.push(
                json(resp).await["refreshToken"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        devices = next;
    }
    // Racing the same token: exactly one wins, and the loser's replay revokes the device.
    let token = devices[0].clone();
    let (a, b) = tokio::join!(refresh(&s, &token), refresh(&s, &token));
    let statuses = [a.status(), b.status()];
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
}
