//! `/v1/devices`, including from another account's side.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn rename_own_device() {
    let s = server().await;
    let a = register(&s, "frank").await;
    let path = format!("/v1/devices/{}", a.device_id);
    let resp = authed(&s, Method::PATCH, &path, &a.access)
        .json(&json!({"name": "  Work phone "}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["name"], "Work phone");
    assert_eq!(body["current"], true);
    let resp = authed(&s, Method::PATCH, &path, &a.access)
        .json(&json!({"name": "   "}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let list = json(
        authed(&s, Method::GET, "/v1/devices", &a.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["devices"][0]["name"], "Work phone");
}

#[tokio::test]
async fn another_users_devices_are_invisible() {
    let s = server().await;
    let victim = register(&s, "grace").await;
    let attacker = register(&s, "mallory").await;
    let path = format!("/v1/devices/{}", victim.device_id);

    let resp = authed(&s, Method::PATCH, &path, &attacker.access)
        .json(&json!({"name": "pwned"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = authed(&s, Method::DELETE, &path, &attacker.access)
        .send()
        .await
        .unwrap();
    let message = expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    // Same answer as for an id that does not exist at all.
    let missing = format!("/v1/devices/{}", uuid::Uuid::new_v4());
    let resp = authed(&s, Method::DELETE, &missing, &attacker.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await,
        message
    );

    // The victim's device is untouched.
    let list = json(
        authed(&s, Method::GET, "/v1/devices", &victim.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["devices"][0]["name"], "phone");
    assert_eq!(get_me(&s, &victim.access).await.status(), StatusCode::OK);
    // And the attacker's list only has its own device.
    let list = json(
        authed(&s, Method::GET, "/v1/devices", &attacker.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["devices"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["devices"][0]["id"], attacker.device_id.as_str());
}

#[tokio::test]
async fn revoked_devices_can_do_nothing() {
    let s = server().await;
    let a = register(&s, "heidi").await;
    let b = login_ok(&s, "heidi").await;
    let path = format!("/v1/devices/{}", b.device_id);
    assert_eq!(
        authed(&s, Method::DELETE, &path, &a.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    // Revoking it twice: it is no longer an active device.
    expect_error(
        authed(&s, Method::DELETE, &path, &a.access)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for (method, path) in [
        (Method::GET, "/v1/devices".to_owned()),
        (Method::GET, "/v1/me".to_owned()),
        (Method::DELETE, format!("/v1/devices/{}", a.device_id)),
        (Method::POST, "/v1/auth/logout".to_owned()),
    ] {
        let resp = authed(&s, method, &path, &b.access).send().await.unwrap();
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    assert_eq!(
        get_me(&s, &a.access).await.status(),
        StatusCode::OK,
        "the revoking device is fine"
    );
    let resp = authed(&s, Method::PATCH, &path, &a.access)
        .json(&json!({"name": "back"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
}
