//! Integration tests of the gateway's own access tokens: round trip,
//! expiry, foreign keys, algorithm confusion, `alg: none`, audience/issuer,
//! key rotation and the HS256 key set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use passerelle_auth::keys::{Algorithm, KeySet, generate_ed25519_pem};
use passerelle_auth::{AccessTokenConfig, AccessTokens, AuthError, peek_issuer};
use passerelle_domain::{DeviceId, UserId};
use serde_json::json;

const ISS: &str = "https://chat.example.org";
const AUD: &str = "passerelle";

fn cfg(leeway_secs: u64) -> AccessTokenConfig {
    AccessTokenConfig {
        issuer: ISS.into(),
        audience: AUD.into(),
        ttl: Duration::from_secs(900),
        leeway_secs,
    }
}

fn reason<T: std::fmt::Debug>(r: Result<T, AuthError>) -> &'static str {
    match r {
        Err(AuthError::InvalidToken(why)) => why,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

/// Signs arbitrary claims with a PEM private key and the given kid.
fn forge(pem: &str, kid: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn good_claims() -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": UserId::new().as_uuid(), "did": DeviceId::new().as_uuid(), "iat": now,
           "exp": now + 600, "iss": ISS, "aud": AUD, "jti": uuid::Uuid::new_v4()})
}

#[test]
fn issue_then_verify_round_trip() {
    let keys = KeySet::ed25519_from_pem(&generate_ed25519_pem().unwrap(), &[]).unwrap();
    assert_eq!(keys.algorithm(), Algorithm::EdDSA);
    let tokens = AccessTokens::new(keys.clone(), cfg(30));
    assert_eq!(tokens.issuer(), ISS);
    let (user, device) = (UserId::new(), DeviceId::new());
    let issued = tokens.issue(user, device).unwrap();
    assert_eq!(issued.expires_in, 900);
    assert!(!format!("{issued:?}").contains(&issued.token));

    let header = jsonwebtoken::decode_header(&issued.token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(keys.active_kid()));

    let claims = tokens.verify(&issued.token).unwrap();
    assert_eq!(claims, issued.claims);
    assert_eq!(claims.user(), user);
    assert_eq!(claims.device(), device);
    assert_eq!(claims.exp - claims.iat, 900);
    assert_eq!((claims.iss.as_str(), claims.aud.as_str()), (ISS, AUD));
    assert_eq!(claims.jti.get_version_num(), 4);
    assert_ne!(tokens.issue(user, device).unwrap().claims.jti, claims.jti);

    assert_eq!(peek_issuer(&issued.token).as_deref(), Some(ISS));
    assert_eq!(peek_issuer("garbage"), None);
}

#[test]
fn expired_and_claim_checks() {
    let pem = generate_ed25519_pem().unwrap();
    let keys = KeySet::ed25519_from_pem(&pem, &[]).unwrap();
    let kid = keys.active_kid().to_owned();
    let tokens = AccessTokens::new(keys, cfg(0));

    assert!(tokens.verify(&forge(&pem, &kid, &good_claims())).is_ok());

    let mut c = good_claims();
    c["exp"] = json!(chrono::Utc::now().timestamp() - 5);
    assert_eq!(reason(tokens.verify(&forge(&pem, &kid, &c))), "expired");

    let mut c = good_claims();
    c["aud"] = json!("another-service");
    assert_eq!(
        reason(tokens.verify(&forge(&pem, &kid, &c))),
        "wrong audience"
    );

    let mut c = good_claims();
    c["iss"] = json!("https://evil.example.org");
    assert_eq!(
        reason(tokens.verify(&forge(&pem, &kid, &c))),
        "wrong issuer"
    );

    for missing in ["sub", "did", "iat", "exp", "jti", "aud", "iss"] {
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove(missing);
        let why = reason(tokens.verify(&forge(&pem, &kid, &c)));
        assert!(
            why == "missing claim" || why == "malformed",
            "{missing}: {why}"
        );
    }

    // With leeway, a just-expired token still passes.
    let lenient = AccessTokens::new(KeySet::ed25519_from_pem(&pem, &[]).unwrap(), cfg(60));
    let mut c = good_claims();
    c["exp"] = json!(chrono::Utc::now().timestamp() - 5);
    assert!(lenient.verify(&forge(&pem, &kid, &c)).is_ok());
}

#[test]
fn foreign_keys_and_forged_algorithms_are_refused() {
    let pem = generate_ed25519_pem().unwrap();
    let keys = KeySet::ed25519_from_pem(&pem, &[]).unwrap();
    let kid = keys.active_kid().to_owned();
    let tokens = AccessTokens::new(keys.clone(), cfg(30));

    // Another Ed25519 key, claiming our kid.
    let other_pem = generate_ed25519_pem().unwrap();
    assert_eq!(
        reason(tokens.verify(&forge(&other_pem, &kid, &good_claims()))),
        "bad signature"
    );
    // Another Ed25519 key under its own kid.
    let other = AccessTokens::new(KeySet::ed25519_from_pem(&other_pem, &[]).unwrap(), cfg(30));
    let foreign = other.issue(UserId::new(), DeviceId::new()).unwrap().token;
    assert_eq!(reason(tokens.verify(&foreign)), "unknown key id");

    // Algorithm confusion: HS256 keyed with the public key bytes (raw and as
    // the JWKS x string).
    let x = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_owned();
    let raw = URL_SAFE_NO_PAD.decode(&x).unwrap();
    for secret in [raw.as_slice(), x.as_bytes(), pem.as_bytes()] {
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        let t = jsonwebtoken::encode(&header, &good_claims(), &EncodingKey::from_secret(secret))
            .unwrap();
        assert_eq!(reason(tokens.verify(&t)), "unsupported algorithm");
    }

    // alg: none, with and without a signature part.
    let h = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let p = URL_SAFE_NO_PAD.encode(good_claims().to_string());
    assert_eq!(
        reason(tokens.verify(&format!("{h}.{p}."))),
        "unsupported algorithm"
    );
    assert_eq!(
        reason(tokens.verify(&format!("{h}.{p}.c2ln"))),
        "unsupported algorithm"
    );

    // RS256 header.
    let h = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": kid}).to_string());
    assert_eq!(
        reason(tokens.verify(&format!("{h}.{p}.c2ln"))),
        "unsupported algorithm"
    );

    // Missing kid.
    let mut header = Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = None;
    let t = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(reason(tokens.verify(&t)), "unknown key id");

    for junk in ["", "a.b", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9.e30"] {
        assert_eq!(reason(tokens.verify(junk)), "malformed", "{junk:?}");
    }
}

#[test]
fn rotation_keeps_old_tokens_valid() {
    let old_pem = generate_ed25519_pem().unwrap();
    let old_keys = KeySet::ed25519_from_pem(&old_pem, &[]).unwrap();
    let old_tokens = AccessTokens::new(old_keys.clone(), cfg(30));
    let old_token = old_tokens.issue(UserId::new(), DeviceId::new()).unwrap();

    // New active key; the old one is kept as verify-only (private PEM here,
    // public SPKI PEM below).
    let new_pem = generate_ed25519_pem().unwrap();
    let rotated = KeySet::ed25519_from_pem(&new_pem, std::slice::from_ref(&old_pem)).unwrap();
    assert_ne!(rotated.active_kid(), old_keys.active_kid());
    let tokens = AccessTokens::new(rotated.clone(), cfg(30));
    assert_eq!(tokens.verify(&old_token.token).unwrap(), old_token.claims);
    let new_token = tokens.issue(UserId::new(), DeviceId::new()).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&new_token.token)
            .unwrap()
            .kid
            .as_deref(),
        Some(rotated.active_kid())
    );
    assert!(tokens.verify(&new_token.token).is_ok());
    // The old-only set does not know the new key.
    assert_eq!(
        reason(old_tokens.verify(&new_token.token)),
        "unknown key id"
    );

    let jwks = rotated.jwks();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![rotated.active_kid(), old_keys.active_kid()]);

    // Public-key-only PEM for the previous key.
    let sk = <ed25519_dalek::SigningKey as ed25519_dalek::pkcs8::DecodePrivateKey>::from_pkcs8_pem(
        &old_pem,
    )
    .unwrap();
    let spki = ed25519_dalek::pkcs8::EncodePublicKey::to_public_key_pem(
        &sk.verifying_key(),
        ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF,
    )
    .unwrap();
    let with_spki = KeySet::ed25519_from_pem(&new_pem, &[spki]).unwrap();
    assert!(
        AccessTokens::new(with_spki, cfg(30))
            .verify(&old_token.token)
            .is_ok()
    );

    // A public key cannot be the active (signing) key; junk is refused.
    assert!(matches!(
        KeySet::ed25519_from_pem("not a pem", &[]),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        KeySet::ed25519_from_pem(&new_pem, &["junk".to_owned()]),
        Err(AuthError::Config(_))
    ));
}

#[test]
fn hs256_round_trip_and_no_jwks() {
    assert!(matches!(
        KeySet::hs256(b"too short"),
        Err(AuthError::Config(_))
    ));
    let secret = b"an HS256 secret of at least 32 bytes!!";
    let keys = KeySet::hs256(secret).unwrap();
    assert_eq!(keys.algorithm(), Algorithm::HS256);
    assert!(keys.active_kid().starts_with("hs256-"));
    assert_eq!(keys.active_kid().len(), "hs256-".len() + 8);
    assert_eq!(keys.jwks(), json!({"keys": []}));
    assert!(!format!("{keys:?}").contains("HS256 secret"));

    let tokens = AccessTokens::new(keys.clone(), cfg(30));
    let issued = tokens.issue(UserId::new(), DeviceId::new()).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&issued.token).unwrap().alg,
        jsonwebtoken::Algorithm::HS256
    );
    assert_eq!(tokens.verify(&issued.token).unwrap(), issued.claims);

    // Another secret: unknown kid; same kid with a wrong secret: bad signature.
    let other = AccessTokens::new(
        KeySet::hs256(b"a different secret, also 32 bytes+").unwrap(),
        cfg(30),
    );
    assert_eq!(
        reason(tokens.verify(&other.issue(UserId::new(), DeviceId::new()).unwrap().token)),
        "unknown key id"
    );
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(keys.active_kid().into());
    let t = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(b"a different secret, also 32 bytes+"),
    )
    .unwrap();
    assert_eq!(reason(tokens.verify(&t)), "bad signature");

    // An EdDSA token is refused by an HS256 set.
    let ed = AccessTokens::new(
        KeySet::ed25519_from_pem(&generate_ed25519_pem().unwrap(), &[]).unwrap(),
        cfg(30),
    );
    let t = ed.issue(UserId::new(), DeviceId::new()).unwrap().token;
    assert_eq!(reason(tokens.verify(&t)), "unsupported algorithm");
}
