//! Integrators: access tokens of an external identity provider are accepted,
//! and its users and devices are created on first sight. The test plays the
//! provider: it makes keys, serves its own JWKS on loopback, signs tokens.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

const ISSUER: &str = "https://idp.example.test";
const AUDIENCE: &str = "chat-app";

fn random32() -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out
}

/// An Ed25519 key of the provider: its signing PEM and its public JWK.
fn ed_key(kid: &str) -> (String, Value) {
    let key = ed25519_dalek::SigningKey::from_bytes(&random32());
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.verifying_key().as_bytes()), "kid": kid, "alg": "EdDSA", "use": "sig"});
    (pem, jwk)
}

/// Serves `jwks` at `http://127.0.0.1:<port>/jwks` until the test ends.
async fn serve_jwks(jwks: Arc<Mutex<Value>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = jwks.lock().unwrap().to_string();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/jwks")
}

fn token(pem: &str, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    encode(
        &header,
        &claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn claims(sub: &str, extra: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 600});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

#[tokio::test]
async fn provider_tokens_create_users_and_devices_on_first_sight() {
    let (pem, jwk) = ed_key("idp-1");
    let jwks = Arc::new(Mutex::new(json!({"keys": [jwk]})));
    let url = serve_jwks(jwks.clone()).await;
    let s = builder()
        .env(
            "PASSERELLE__AUTH__EXTERNAL_PROVIDERS",
            format!("[{{issuer=\"{ISSUER}\", audience=\"{AUDIENCE}\", jwks_url=\"{url}\", device_claim=\"device_id\", username_claim=\"preferred_username\", jwks_min_refetch_secs=0}}]"),
        )
        .spawn()
        .await;

    let phone = token(
        &pem,
        "idp-1",
        claims(
            "user-42",
            json!({"preferred_username": "Olivia", "device_id": "phone-1"}),
        ),
    );
    let me = json(get_me(&s, &phone).await).await;
    assert_eq!(me["username"], "olivia");
    assert_eq!(me["hasPassword"], false);
    let user_id = me["userId"].as_str().unwrap().to_owned();

    // Same subject, same device: same account, one device.
    let again = token(
        &pem,
        "idp-1",
        claims("user-42", json!({"device_id": "phone-1"})),
    );
    assert_eq!(
        json(get_me(&s, &again).await).await["userId"],
        user_id.as_str()
    );
    // Another device claim: a second device of the same account.
    let laptop = token(
        &pem,
        "idp-1",
        claims("user-42", json!({"device_id": "laptop-1"})),
    );
    let list = json(
        authed(&s, Method::GET, "/v1/devices", &laptop)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[1]["current"], true);

    // A second subject whose preferred name is taken gets a generated one.
    let other = token(
        &pem,
        "idp-1",
        claims("user-43", json!({"preferred_username": "olivia"})),
    );
    let me2 = json(get_me(&s, &other).await).await;
    assert_ne!(me2["userId"], user_id.as_str());
    assert!(me2["username"].as_str().unwrap().starts_with("u_"), "{me2}");

    // Revoking the laptop device refuses its tokens, even new ones.
    let phone_device = devices[0]["id"].as_str().unwrap();
    let laptop_device = devices[1]["id"].as_str().unwrap();
    assert_ne!(phone_device, laptop_device);
    let resp = authed(
        &s,
        Method::DELETE,
        &format!("/v1/devices/{laptop_device}"),
        &phone,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let new_laptop = token(
        &pem,
        "idp-1",
        claims("user-42", json!({"device_id": "laptop-1"})),
    );
    expect_error(
        get_me(&s, &new_laptop).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_eq!(get_me(&s, &phone).await.status(), StatusCode::OK);

    // The provider rotates its key: the gateway refetches the JWKS.
    let (pem2, jwk2) = ed_key("idp-2");
    jwks.lock().unwrap()["keys"]
        .as_array_mut()
        .unwrap()
        .push(jwk2);
    let rotated = token(
        &pem2,
        "idp-2",
        claims("user-42", json!({"device_id": "phone-1"})),
    );
    assert_eq!(
        json(get_me(&s, &rotated).await).await["userId"],
        user_id.as_str()
    );
}

#[tokio::test]
async fn bad_provider_tokens_are_refused() {
    let (pem, jwk) = ed_key("idp-1");
    let url = serve_jwks(Arc::new(Mutex::new(json!({"keys": [jwk]})))).await;
    let s = builder()
        .env(
            "PASSERELLE__AUTH__EXTERNAL_PROVIDERS",
            format!("[{{issuer=\"{ISSUER}\", audience=\"{AUDIENCE}\", jwks_url=\"{url}\"}}]"),
        )
        .spawn()
        .await;
    let good = token(&pem, "idp-1", claims("u1", json!({})));
    assert_eq!(get_me(&s, &good).await.status(), StatusCode::OK, "control");

    let now = chrono::Utc::now().timestamp();
    let (stranger_pem, _) = ed_key("idp-1");
    let mut wrong_aud = claims("u1", json!({}));
    wrong_aud["aud"] = json!("another-app");
    let mut expired = claims("u1", json!({}));
    expired["exp"] = json!(now - 600);
    let mut unknown_issuer = claims("u1", json!({}));
    unknown_issuer["iss"] = json!("https://evil.example.test");
    let mut no_sub = claims("u1", json!({}));
    no_sub.as_object_mut().unwrap().remove("sub");
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("idp-1".into());
    let hmac = encode(
        &hs,
        &claims("u1", json!({})),
        &EncodingKey::from_secret(b"guess the key of the provider!!!"),
    )
    .unwrap();
    for (name, t) in [
        ("wrong audience", token(&pem, "idp-1", wrong_aud)),
        ("expired", token(&pem, "idp-1", expired)),
        ("unknown issuer", token(&pem, "idp-1", unknown_issuer)),
        ("no subject", token(&pem, "idp-1", no_sub)),
        (
            "signed by another key",
            token(&stranger_pem, "idp-1", claims("u1", json!({}))),
        ),
        ("unknown kid", token(&pem, "nope", claims("u1", json!({})))),
        ("hmac", hmac),
    ] {
        let resp = get_me(&s, &t).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
    // A provider token can never pass as one of the gateway's own.
    let mut own_issuer = claims("u1", json!({}));
    own_issuer["iss"] = json!("passerelle");
    own_issuer["aud"] = json!("passerelle");
    expect_error(
        get_me(&s, &token(&pem, "idp-1", own_issuer)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn provider_with_a_pem_key_from_the_settings_file() {
    let secret = p256::SecretKey::from_slice(&random32()).unwrap();
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let signing_pem = p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&secret, LineEnding::LF)
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passerelle.toml");
    std::fs::write(
        &file,
        format!(
            "[[auth.external_providers]]\nissuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\nalgorithms = [\"ES256\"]\npublic_key_pem = \"\"\"\n{public_pem}\"\"\"\n"
        ),
    )
    .unwrap();
    let s = builder()
        .env("PASSERELLE_CONFIG", file.to_string_lossy())
        .spawn()
        .await;
    let es = encode(
        &Header::new(Algorithm::ES256),
        &claims("pem-user", json!({})),
        &EncodingKey::from_ec_pem(signing_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let me = json(get_me(&s, &es).await).await;
    assert!(me["username"].as_str().unwrap().starts_with("u_"));
    // An EdDSA token is not among this provider's algorithms.
    let (ed_pem, _) = ed_key("k");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = None;
    let ed = encode(
        &header,
        &claims("pem-user", json!({})),
        &EncodingKey::from_ed_pem(ed_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    expect_error(
        get_me(&s, &ed).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}
