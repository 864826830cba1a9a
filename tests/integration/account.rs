//! `/v1/me`: profile, password change, account deletion.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn display_name_set_and_cleared() {
    let s = server().await;
    let a = register(&s, "ivan").await;
    let resp = authed(&s, Method::PATCH, "/v1/me", &a.access)
        .json(&json!({"displayName": " Ivan K. "}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["displayName"], "Ivan K.");
    assert_eq!(
        json(get_me(&s, &a.access).await).await["displayName"],
        "Ivan K."
    );
    let resp = authed(&s, Method::PATCH, "/v1/me", &a.access)
        .json(&json!({"displayName": "x".repeat(65)}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        json(get_me(&s, &a.access).await).await["displayName"],
        "Ivan K.",
        "a refused change changes nothing"
    );
    let resp = authed(&s, Method::PATCH, "/v1/me", &a.access)
        .json(&json!({"displayName": null}))
        .send()
        .await
        .unwrap();
    assert!(json(resp).await["displayName"].is_null());
}

#[tokio::test]
async fn password_change_revokes_other_devices_unless_asked() {
    let s = server().await;
    let a = register(&s, "judy").await;
    let b = login_ok(&s, "judy").await;
    let c = login_ok(&s, "judy").await;

    let resp = authed(&s, Method::POST, "/v1/me/password", &a.access)
        .json(&json!({"currentPassword": "wrong password", "newPassword": "new password 1"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "wrong_password").await;
    assert_eq!(
        get_me(&s, &b.access).await.status(),
        StatusCode::OK,
        "a refused change revokes nothing"
    );

    let resp = authed(&s, Method::POST, "/v1/me/password", &a.access)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "new password 1", "keepOtherDevices": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(get_me(&s, &b.access).await.status(), StatusCode::OK);
    expect_error(
        login(&s, "judy", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        login(&s, "judy", "new password 1").await.status(),
        StatusCode::OK
    );

    let resp = authed(&s, Method::POST, "/v1/me/password", &a.access)
        .json(&json!({"currentPassword": "new password 1", "newPassword": "new password 2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for other in [&b, &c] {
        expect_error(
            get_me(&s, &other.access).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        expect_error(
            refresh(&s, &other.refresh).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
    }
    assert_eq!(
        get_me(&s, &a.access).await.status(),
        StatusCode::OK,
        "the calling device stays"
    );
    refresh_ok(&s, &a.refresh).await;

    let resp = authed(&s, Method::POST, "/v1/me/password", &a.access)
        .json(&json!({"currentPassword": "new password 2", "newPassword": "short"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn account_deletion_needs_the_password_and_removes_everything() {
    let s = server().await;
    let a = register(&s, "kim").await;
    let b = login_ok(&s, "kim").await;
    let other = register(&s, "lee").await;

    let resp = authed(&s, Method::DELETE, "/v1/me", &a.access)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "wrong_password").await;
    let resp = authed(&s, Method::DELETE, "/v1/me", &a.access)
        .json(&json!({"password": "nope nope"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "wrong_password").await;
    assert_eq!(get_me(&s, &b.access).await.status(), StatusCode::OK);

    let resp = authed(&s, Method::DELETE, "/v1/me", &a.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for d in [&a, &b] {
        expect_error(
            get_me(&s, &d.access).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        expect_error(
            refresh(&s, &d.refresh).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
    }
    expect_error(
        login(&s, "kim", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // The name is free again, and the new account shares nothing with the old.
    let again = register(&s, "kim").await;
    assert_ne!(again.user_id, a.user_id);
    let list = json(
        authed(&s, Method::GET, "/v1/devices", &again.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["devices"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        get_me(&s, &other.access).await.status(),
        StatusCode::OK,
        "other accounts untouched"
    );
}
