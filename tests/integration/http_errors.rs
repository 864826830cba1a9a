//! Bad input of every kind gets a clear 4xx in the documented shape and
//! changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn malformed_bodies_are_refused_and_change_nothing() {
    let s = server().await;
    let url = s.url("/v1/auth/register");
    let post_raw = |body: &'static str, ct: Option<&'static str>| {
        let mut req = s.http().post(&url).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let cases = [
        (
            "{\"username\": \"nina\", ",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "not valid JSON",
        ),
        (
            "{\"username\": \"nina\", \"password\": \"correct horse\", \"admin\": true}",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "unknown field `admin`",
        ),
        (
            "{\"username\": 42, \"password\": \"correct horse\"}",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "invalid type",
        ),
        (
            "{\"password\": \"correct horse\"}",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "missing field `username`",
        ),
        (
            "[]",
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "",
        ),
        (
            "{\"username\": \"nina\", \"password\": \"correct horse\"}",
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/json",
        ),
        (
            "{\"username\": \"nina\", \"password\": \"correct horse\"}",
            Some("text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "",
        ),
        (
            "{\"username\": \"nina\", \"password\": \"correct horse\"}",
            Some("application/octet-stream"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "",
        ),
    ];
    for (body, ct, status, code, hint) in cases {
        let message = expect_error(post_raw(body, ct).await.unwrap(), status, code).await;
        assert!(
            message.contains(hint),
            "{message:?} should mention {hint:?}"
        );
    }
    let huge = json!({"username": "nina", "password": "p".repeat(20_000)});
    let resp = s.http().post(&url).json(&huge).send().await.unwrap();
    expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    expect_error(
        login(&s, "nina", "correct horse").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn unknown_paths_methods_and_bad_ids() {
    let s = server().await;
    let a = register(&s, "oscar").await;
    let resp = s
        .http()
        .get(s.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = s.http().get(s.url("/v1/auth/login")).send().await.unwrap();
    expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let resp = authed(&s, Method::PUT, "/v1/me", &a.access)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let resp = authed(&s, Method::DELETE, "/v1/devices/not-a-uuid", &a.access)
        .send()
        .await
        .unwrap();
    let message = expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;
    assert!(
        message.contains("UUID") || message.contains("uuid"),
        "{message}"
    );
    assert_eq!(get_me(&s, &a.access).await.status(), StatusCode::OK);
}
