//! Access tokens from the attacker's side: expired, forged, `alg: none`,
//! algorithm confusion, wrong audience, tokens in the query string; and key
//! rotation and HS256 from the operator's side.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use passerelle_test_support::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The server's own signing key, read from its data directory.
pub(crate) fn server_key_pem(s: &TestServer) -> String {
    let dir = s.data_dir().join("keys");
    let mut pems: Vec<_> = std::fs::read_dir(&dir)
        .expect("keys dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    pems.sort();
    std::fs::read_to_string(pems.last().expect("a key")).expect("read key")
}

pub(crate) async fn active_kid(s: &TestServer) -> String {
    let jwks = json(
        s.http()
            .get(s.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    jwks["keys"][0]["kid"].as_str().expect("kid").to_owned()
}

pub(crate) fn claims(d: &Device, exp: i64, aud: &str) -> Value {
    json!({"sub": d.user_id, "did": d.device_id, "iat": now() - 10, "exp": exp, "iss": "passerelle", "aud": aud, "jti": uuid::Uuid::new_v4()})
}

pub(crate) fn sign_ed(pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).expect("pem"),
    )
    .expect("sign")
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused() {
    let s = server().await;
    let d = register(&s, "peggy").await;
    let pem = server_key_pem(&s);
    let kid = active_kid(&s).await;

    // Control: a token we sign with the server's key is accepted, so each
    // refusal below is caused by the one thing that differs.
    let good = sign_ed(&pem, &kid, &claims(&d, now() + 300, "passerelle"));
    assert_eq!(get_me(&s, &good).await.status(), StatusCode::OK);

    let expired = sign_ed(&pem, &kid, &claims(&d, now() - 120, "passerelle"));
    let wrong_aud = sign_ed(&pem, &kid, &claims(&d, now() + 300, "someone-else"));
    let mut no_kid_header = Header::new(Algorithm::EdDSA);
    no_kid_header.kid = None;
    let no_kid = encode(
        &no_kid_header,
        &claims(&d, now() + 300, "passerelle"),
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();

    let other_pem = std::process::Command::new(BIN)
        .args(["keys", "generate"])
        .output()
        .expect("keys generate");
    let other_pem = String::from_utf8(other_pem.stdout).expect("pem");
    assert!(other_pem.contains("PRIVATE KEY"));
    let other_key = sign_ed(&other_pem, &kid, &claims(&d, now() + 300, "passerelle"));

    // `alg: none`, unsigned.
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        B64.encode(claims(&d, now() + 300, "passerelle").to_string())
    );
    // Algorithm confusion: HS256 keyed with the published public key.
    let jwks = json(
        s.http()
            .get(s.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let public = B64.decode(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let confused = encode(
        &hs_header,
        &claims(&d, now() + 300, "passerelle"),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    // A valid token with its payload changed (user id swapped).
    let victim = register(&s, "victim").await;
    let parts: Vec<&str> = good.split('.').collect();
    let tampered_payload = B64.encode(claims(&victim, now() + 300, "passerelle").to_string());
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);

    for (name, token) in [
        ("expired", expired),
        ("wrong audience", wrong_aud),
        ("no kid", no_kid),
        ("other key", other_key),
        ("alg none", none),
        ("hs256 confusion", confused),
        ("tampered", tampered),
        ("garbage", "not.a.jwt".to_owned()),
        ("empty segments", "..".to_owned()),
    ] {
        let resp = get_me(&s, &token).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            resp.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn tokens_only_travel_in_the_authorization_header() {
    let s = server().await;
    let d = register(&s, "quinn").await;
    for url in [
        s.url(&format!("/v1/me?access_token={}", d.access)),
        s.url(&format!("/v1/me?token={}", d.access)),
    ] {
        let resp = s.http().get(url).send().await.unwrap();
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let resp = s
        .http()
        .get(s.url("/v1/me"))
        .header("cookie", format!("access_token={}", d.access))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s
        .http()
        .get(s.url("/v1/me"))
        .header("authorization", format!("Basic {}", d.access))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s
        .http()
        .get(s.url("/v1/me"))
        .header("authorization", format!("bearer {}", d.access))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the scheme is case-insensitive"
    );
}

#[tokio::test]
async fn short_lived_tokens_expire() {
    let s = builder()
        .env("PASSERELLE__AUTH__ACCESS_TOKEN_TTL_SECS", "1")
        .env("PASSERELLE__AUTH__LEEWAY_SECS", "0")
        .spawn()
        .await;
    let d = register(&s, "rita").await;
    let resp = s
        .http()
        .post(s.url("/v1/auth/login"))
        .json(&json!({"username": "rita", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["expiresIn"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    expect_error(
        get_me(&s, &d.access).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let fresh = refresh_ok(&s, &d.refresh).await;
    assert_eq!(get_me(&s, &fresh.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn rotated_keys_keep_old_tokens_valid_and_publish_both() {
    let first = server().await;
    let d = register(&first, "sam").await;
    let old_kid = active_kid(&first).await;
    let old_key = std::fs::read_dir(first.data_dir().join("keys"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();

    let new_pem = String::from_utf8(
        std::process::Command::new(BIN)
            .args(["keys", "generate"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let new_key = first.data_dir().join("next.pem");
    std::fs::write(&new_key, &new_pem).unwrap();
    let second = builder()
        .same_deployment_as(&first)
        .env(
            "PASSERELLE__AUTH__SIGNING_KEY_FILE",
            new_key.to_string_lossy(),
        )
        .env(
            "PASSERELLE__AUTH__PREVIOUS_KEY_FILES",
            format!("[\"{}\"]", old_key.to_string_lossy()),
        )
        .spawn()
        .await;

    assert_eq!(
        get_me(&second, &d.access).await.status(),
        StatusCode::OK,
        "old-key token still valid"
    );
    let jwks = json(
        second
            .http()
            .get(second.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&old_kid.as_str()));
    let fresh = login_ok(&second, "sam").await;
    let header = jsonwebtoken::decode_header(&fresh.access).unwrap();
    let new_kid = header.kid.expect("kid");
    assert_ne!(new_kid, old_kid);
    assert!(kids.contains(&new_kid.as_str()));
    // The old node does not know the new key yet: a new-key token is refused there.
    expect_error(
        get_me(&first, &fresh.access).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn hs256_mode_works_and_publishes_no_key() {
    let s = builder()
        .env("PASSERELLE__AUTH__ALGORITHM", "HS256")
        .env(
            "PASSERELLE__AUTH__HS256_SECRET",
            "a shared secret of at least thirty-two bytes",
        )
        .spawn()
        .await;
    let d = register(&s, "tina").await;
    assert_eq!(
        jsonwebtoken::decode_header(&d.access).unwrap().alg,
        Algorithm::HS256
    );
    assert_eq!(get_me(&s, &d.access).await.status(), StatusCode::OK);
    let jwks = json(
        s.http()
            .get(s.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(jwks, json!({"keys": []}));
    // An EdDSA token (e.g. from a misconfigured node) is refused.
    let pem = String::from_utf8(
        std::process::Command::new(BIN)
            .args(["keys", "generate"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let header = jsonwebtoken::decode_header(&d.access).unwrap();
    let forged = sign_ed(
        &pem,
        header.kid.as_deref().unwrap_or("x"),
        &claims(&d, now() + 300, "passerelle"),
    );
    expect_error(
        get_me(&s, &forged).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // A weak secret is refused at start-up.
    let weak = std::process::Command::new(BIN)
        .arg("serve")
        .env("PASSERELLE__DATA_DIR", s.data_dir())
        .env("PASSERELLE__SERVER__BIND", "127.0.0.1:0")
        .env("PASSERELLE__AUTH__ALGORITHM", "HS256")
        .env("PASSERELLE__AUTH__HS256_SECRET", "short")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!weak.status.success());
}

/// Tokens that speak for `d` but must be refused: expired (signed with the
/// server's own key), another key, a tampered payload, garbage. For other
/// modules' attacker-side tests.
pub(crate) async fn unusable_tokens(s: &TestServer, d: &Device) -> Vec<(&'static str, String)> {
    let pem = server_key_pem(s);
    let kid = active_kid(s).await;
    let good = sign_ed(&pem, &kid, &claims(d, now() + 300, "passerelle"));
    let parts: Vec<&str> = good.split('.').collect();
    let mut other = claims(d, now() + 300, "passerelle");
    other["sub"] = json!(uuid::Uuid::new_v4());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(other.to_string()),
        parts[2]
    );
    let other_pem = std::process::Command::new(BIN)
        .args(["keys", "generate"])
        .output()
        .expect("keys generate");
    let other_pem = String::from_utf8(other_pem.stdout).expect("pem");
    vec![
        (
            "expired",
            sign_ed(&pem, &kid, &claims(d, now() - 120, "passerelle")),
        ),
        (
            "other key",
            sign_ed(&other_pem, &kid, &claims(d, now() + 300, "passerelle")),
        ),
        ("tampered", tampered),
        ("garbage", "not.a.jwt".to_owned()),
    ]
}
