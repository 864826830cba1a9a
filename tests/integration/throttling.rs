//! Login and registration throttles: per username, per address, and shared
//! by all nodes when Redis is configured.

use passerelle_test_support::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

async fn limited(resp: reqwest::Response) {
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=3600).contains(&retry), "retry after {retry}");
    expect_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn login_is_throttled_per_username() {
    let s = builder()
        .env("PASSERELLE__LIMITS__LOGIN_PER_USERNAME", "3")
        .env("PASSERELLE__LIMITS__LOGIN_WINDOW_SECS", "60")
        .spawn()
        .await;
    register(&s, "yara").await;
    register(&s, "zack").await;
    for _ in 0..3 {
        expect_error(
            login(&s, "yara", "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // Even the right password is refused now: the guesser learns nothing.
    limited(login(&s, "YARA", PASSWORD).await).await;
    // Another username from the same address is not affected.
    assert_eq!(login(&s, "zack", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_is_throttled_per_address_across_usernames() {
    let s = builder()
        .env("PASSERELLE__LIMITS__LOGIN_PER_ADDRESS", "4")
        .env("PASSERELLE__LIMITS__LOGIN_WINDOW_SECS", "60")
        .spawn()
        .await;
    for i in 0..4 {
        expect_error(
            login(&s, &format!("spray{i}"), PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    limited(login(&s, "spray9", PASSWORD).await).await;
}

#[tokio::test]
async fn registration_is_throttled_per_address() {
    let s = builder()
        .env("PASSERELLE__LIMITS__REGISTER_PER_ADDRESS", "2")
        .spawn()
        .await;
    register(&s, "reg_one").await;
    register(&s, "reg_two").await;
    let resp = s
        .http()
        .post(s.url("/v1/auth/register"))
        .json(&json!({"username": "reg_three", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    limited(resp).await;
    expect_error(
        login(&s, "reg_three", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let s = builder()
        .env("PASSERELLE__LIMITS__REGISTER_PER_ADDRESS", "1")
        .env("PASSERELLE__SERVER__TRUST_FORWARDED_FOR", "true")
        .spawn()
        .await;
    let reg = |name: &str, ip: &str| {
        s.http()
            .post(s.url("/v1/auth/register"))
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
    };
    assert_eq!(
        reg("fwd_a", "192.0.2.1").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        reg("fwd_b", "192.0.2.2").await.unwrap().status(),
        StatusCode::CREATED
    );
    limited(reg("fwd_c", "192.0.2.1").await.unwrap()).await;

    let untrusted = builder()
        .env("PASSERELLE__LIMITS__REGISTER_PER_ADDRESS", "1")
        .spawn()
        .await;
    let reg2 = |name: &str, ip: &str| {
        untrusted
            .http()
            .post(untrusted.url("/v1/auth/register"))
            .header("x-forwarded-for", ip.to_owned())
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
    };
    assert_eq!(
        reg2("fwd_d", "192.0.2.1").await.unwrap().status(),
        StatusCode::CREATED
    );
    limited(reg2("fwd_e", "192.0.2.2").await.unwrap()).await;
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis backend (-- --include-ignored)"]
async fn throttles_are_shared_by_all_nodes() {
    // Redis is set explicitly, so this test means the same on either backend.
    let a = builder()
        .env("REDIS_URL", Backend::redis_url())
        .env("PASSERELLE__LIMITS__LOGIN_PER_USERNAME", "3")
        .spawn()
        .await;
    assert!(a.logs().iter().all(|l| !l.contains("redis unreachable")));
    let b: TestServer = builder()
        .same_deployment_as(&a)
        .env("REDIS_URL", Backend::redis_url())
        .env("PASSERELLE__LIMITS__LOGIN_PER_USERNAME", "3")
        .spawn()
        .await;
    register(&a, "shared").await;
    expect_error(
        login(&a, "shared", "wrong one").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    expect_error(
        login(&b, "shared", "wrong two").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    expect_error(
        login(&a, "shared", "wrong three").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    limited(login(&b, "shared", PASSWORD).await).await;
    limited(login(&a, "shared", PASSWORD).await).await;
    let fallback = a
        .logs()
        .iter()
        .chain(b.logs().iter())
        .any(|l| l.contains("per-node counters"));
    assert!(!fallback, "counted in Redis, not per node");
}
