//! Tests of [`super::ExternalVerifier`] with static PEM keys (Ed25519,
//! ES256, RS256 from a fixture) and with a JWKS served by a tiny HTTP server
//! on 127.0.0.1 (kid selection, rotation-triggered refetch, rate limit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;

const ISS: &str = "https://idp.example.com";
const AUD: &str = "passerelle";

fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    getrandom::fill(&mut s).unwrap();
    s
}

/// A signing key for the tests plus its public forms.
struct TestKey {
    alg: Algorithm,
    enc: EncodingKey,
    public_pem: String,
    jwk: Value,
}

fn ed25519_key() -> TestKey {
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed());
    let der = sk.to_pkcs8_der().unwrap();
    TestKey {
        alg: Algorithm::EdDSA,
        enc: EncodingKey::from_ed_der(der.as_bytes()),
        public_pem: sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
        jwk: json!({"kty":"OKP","crv":"Ed25519","x": URL_SAFE_NO_PAD.encode(sk.verifying_key().as_bytes())}),
    }
}

fn es256_key() -> TestKey {
    let sk = loop {
        if let Ok(sk) = p256::SecretKey::from_slice(&seed()) {
            break sk;
        }
    };
    let der = sk.to_pkcs8_der().unwrap();
    let pk = sk.public_key();
    let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&pk, false);
    TestKey {
        alg: Algorithm::ES256,
        enc: EncodingKey::from_ec_der(der.as_bytes()),
        public_pem: pk.to_public_key_pem(LineEnding::LF).unwrap(),
        jwk: json!({"kty":"EC","crv":"P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())}),
    }
}

fn rsa_key() -> TestKey {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let private = std::fs::read(format!("{dir}rsa-test-private.pem")).unwrap();
    TestKey {
        alg: Algorithm::RS256,
        enc: EncodingKey::from_rsa_pem(&private).unwrap(),
        public_pem: std::fs::read_to_string(format!("{dir}rsa-test-public.pem")).unwrap(),
        jwk: Value::Null,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": "user-42", "exp": now() + 600, "iat": now(),
           "device_id": "dev-7", "preferred_username": "alice"})
}

fn mint(key: &TestKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.enc).unwrap()
}

fn pem_provider(key: &TestKey) -> ProviderConfig {
    ProviderConfig {
        issuer: ISS.into(),
        audience: AUD.into(),
        jwks_url: None,
        public_key_pem: Some(key.public_pem.clone()),
        algorithms: default_algorithms(),
        device_claim: Some("device_id".into()),
        username_claim: Some("preferred_username".into()),
        jwks_refresh_secs: 300,
        jwks_min_refetch_secs: 0,
    }
}

fn reason(r: Result<ExternalIdentity, AuthError>) -> &'static str {
    match r {
        Err(AuthError::InvalidToken(why)) => why,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

async fn static_key_checks(key: TestKey) {
    let v = ExternalVerifier::new(vec![pem_provider(&key)]).unwrap();
    assert!(v.knows_issuer(ISS));
    assert!(!v.knows_issuer("https://idp.example.com/"));

    let c = claims();
    let id = v.verify(&mint(&key, None, &c)).await.unwrap();
    assert_eq!(
        id,
        ExternalIdentity {
            issuer: ISS.into(),
            subject: "user-42".into(),
            device_key: Some("dev-7".into()),
            preferred_username: Some("alice".into()),
            expires_at: c["exp"].as_i64().unwrap(),
        }
    );
    // A kid in the header does not matter with a single static key.
    assert!(v.verify(&mint(&key, Some("whatever"), &c)).await.is_ok());

    let mut bad = claims();
    bad["aud"] = json!("someone-else");
    assert_eq!(
        reason(v.verify(&mint(&key, None, &bad)).await),
        "wrong audience"
    );

    let mut bad = claims();
    bad["exp"] = json!(now() - 3600);
    assert_eq!(reason(v.verify(&mint(&key, None, &bad)).await), "expired");

    let mut bad = claims();
    bad["iss"] = json!("https://evil.example.com");
    assert_eq!(
        reason(v.verify(&mint(&key, None, &bad)).await),
        "wrong issuer"
    );

    let mut bad = claims();
    bad.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        reason(v.verify(&mint(&key, None, &bad)).await),
        "missing claim"
    );

    let mut bad = claims();
    bad.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        reason(v.verify(&mint(&key, None, &bad)).await),
        "missing claim"
    );

    // Optional claims absent: identity fields are None.
    let mut plain = claims();
    plain.as_object_mut().unwrap().remove("device_id");
    plain.as_object_mut().unwrap().remove("preferred_username");
    let id = v.verify(&mint(&key, None, &plain)).await.unwrap();
    assert_eq!((id.device_key, id.preferred_username), (None, None));

    // Tampered payload.
    let token = mint(&key, None, &claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims();
    forged["sub"] = json!("admin");
    let forged_payload = URL_SAFE_NO_PAD.encode(forged.to_string());
    parts[1] = &forged_payload;
    assert_eq!(reason(v.verify(&parts.join(".")).await), "bad signature");

    // The algorithm is not in the provider's list.
    let mut narrow = pem_provider(&key);
    narrow.algorithms = default_algorithms()
        .into_iter()
        .filter(|a| keys::parse_algorithm(a) != Some(key.alg))
        .collect();
    // ...which for a static key is refused at startup,
    assert!(matches!(
        ExternalVerifier::new(vec![narrow]),
        Err(AuthError::Config(_))
    ));
    // and a token whose alg does not match the key type is refused.
    let other = if key.alg == Algorithm::EdDSA {
        es256_key()
    } else {
        ed25519_key()
    };
    let mut claims_other = claims();
    claims_other["sub"] = json!("mallory");
    assert_eq!(
        reason(v.verify(&mint(&other, None, &claims_other)).await),
        "unsupported algorithm"
    );
}

#[tokio::test]
async fn ed25519_pem_provider() {
    static_key_checks(ed25519_key()).await;
}

#[tokio::test]
async fn es256_pem_provider() {
    static_key_checks(es256_key()).await;
}

#[tokio::test]
async fn rs256_pem_provider() {
    static_key_checks(rsa_key()).await;
}

#[tokio::test]
async fn alg_not_in_list_is_refused() {
    let ed = ed25519_key();
    let es = es256_key();
    // JWKS-less setup: two providers would need two issuers, so use the
    // static EdDSA key but only allow EdDSA, then present an ES256 token.
    let mut cfg = pem_provider(&ed);
    cfg.algorithms = vec!["EdDSA".into()];
    let v = ExternalVerifier::new(vec![cfg]).unwrap();
    assert_eq!(
        reason(v.verify(&mint(&es, None, &claims())).await),
        "unsupported algorithm"
    );

    // HS256 is never accepted for external tokens, even signed with the
    // public key bytes (algorithm confusion).
    let hs_key = EncodingKey::from_secret(ed.public_pem.as_bytes());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &hs_key).unwrap();
    assert_eq!(reason(v.verify(&token).await), "unsupported algorithm");

    // alg: none.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    assert_eq!(
        reason(v.verify(&format!("{none_header}.{payload}.")).await),
        "unsupported algorithm"
    );
    assert_eq!(reason(v.verify("not a token").await), "malformed");
}

#[test]
fn config_validation() {
    let key = ed25519_key();
    let mut both = pem_provider(&key);
    both.jwks_url = Some("https://idp.example.com/jwks".into());
    assert!(matches!(
        ExternalVerifier::new(vec![both]),
        Err(AuthError::Config(_))
    ));

    let mut neither = pem_provider(&key);
    neither.public_key_pem = None;
    assert!(matches!(
        ExternalVerifier::new(vec![neither]),
        Err(AuthError::Config(_))
    ));

    let mut bad_url = pem_provider(&key);
    bad_url.public_key_pem = None;
    bad_url.jwks_url = Some("file:///etc/passwd".into());
    assert!(matches!(
        ExternalVerifier::new(vec![bad_url]),
        Err(AuthError::Config(_))
    ));

    for algs in [vec![], vec!["HS256".to_owned()], vec!["none".to_owned()]] {
        let mut cfg = pem_provider(&key);
        cfg.algorithms = algs;
        assert!(matches!(
            ExternalVerifier::new(vec![cfg]),
            Err(AuthError::Config(_))
        ));
    }

    let mut bad_pem = pem_provider(&key);
    bad_pem.public_key_pem =
        Some("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into());
    assert!(matches!(
        ExternalVerifier::new(vec![bad_pem]),
        Err(AuthError::Config(_))
    ));

    let dup = vec![pem_provider(&key), pem_provider(&key)];
    assert!(matches!(
        ExternalVerifier::new(dup),
        Err(AuthError::Config(_))
    ));

    // Serde: defaults and unknown fields.
    let cfg: ProviderConfig =
        serde_json::from_value(json!({"issuer": ISS, "audience": AUD, "jwks_url": "https://x/j"}))
            .unwrap();
    assert_eq!(cfg.algorithms, default_algorithms());
    assert_eq!(cfg.jwks_refresh_secs, 300);
    assert!(
        serde_json::from_value::<ProviderConfig>(
            json!({"issuer": ISS, "audience": AUD, "jwks_url": "https://x/j", "secret": "x"})
        )
        .is_err()
    );
}

/// A one-thread HTTP server answering every request with the current body.
struct JwksServer {
    url: String,
    body: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    fn start(body: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let body = Arc::new(Mutex::new(body.to_string()));
        let hits = Arc::new(AtomicUsize::new(0));
        let (b, h) = (Arc::clone(&body), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                let body = b.lock().unwrap().clone();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(resp.as_bytes());
            }
        });
        Self { url, body, hits }
    }

    fn set(&self, body: Value) {
        *self.body.lock().unwrap() = body.to_string();
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn jwk_with(key: &TestKey, kid: &str) -> Value {
    let mut j = key.jwk.clone();
    j["kid"] = json!(kid);
    j["use"] = json!("sig");
    j
}

fn jwks_provider(url: &str) -> ProviderConfig {
    ProviderConfig {
        issuer: ISS.into(),
        audience: AUD.into(),
        jwks_url: Some(url.into()),
        public_key_pem: None,
        algorithms: default_algorithms(),
        device_claim: Some("device_id".into()),
        username_claim: None,
        jwks_refresh_secs: 300,
        jwks_min_refetch_secs: 0,
    }
}

#[tokio::test]
async fn jwks_selects_by_kid_and_refetches_on_rotation() {
    let k1 = ed25519_key();
    let k2 = es256_key();
    let k3 = ed25519_key();
    // An HMAC key in the set must be ignored, whatever its kid.
    let oct = json!({"kty":"oct","k": URL_SAFE_NO_PAD.encode(b"0123456789abcdef0123456789abcdef"),"kid":"hmac"});
    let server =
        JwksServer::start(json!({"keys": [jwk_with(&k1, "k1"), jwk_with(&k2, "k2"), oct]}));
    let v = ExternalVerifier::new(vec![jwks_provider(&server.url)]).unwrap();

    let id = v.verify(&mint(&k1, Some("k1"), &claims())).await.unwrap();
    assert_eq!(id.subject, "user-42");
    assert_eq!(id.device_key.as_deref(), Some("dev-7"));
    assert_eq!(id.preferred_username, None);
    assert!(v.verify(&mint(&k2, Some("k2"), &claims())).await.is_ok());
    assert_eq!(server.hits(), 1, "the JWKS is cached");

    // A kid naming a key of another type.
    assert_eq!(
        reason(v.verify(&mint(&k1, Some("k2"), &claims())).await),
        "unsupported algorithm"
    );
    // Signed with the wrong key under a valid kid.
    assert_eq!(
        reason(v.verify(&mint(&k3, Some("k1"), &claims())).await),
        "bad signature"
    );
    // HS256 with the oct key's kid.
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some("hmac".into()),
            ..Header::new(Algorithm::HS256)
        },
        &claims(),
        &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
    )
    .unwrap();
    assert_eq!(reason(v.verify(&hs).await), "unsupported algorithm");
    // No kid: k1 is the only EdDSA key in the set, so it is used.
    assert!(v.verify(&mint(&k1, None, &claims())).await.is_ok());
    assert_eq!(server.hits(), 1);

    // Rotation: the provider now publishes k3; a token with its kid triggers
    // one refetch and verifies.
    server.set(json!({"keys": [jwk_with(&k3, "k3"), jwk_with(&k1, "k1")]}));
    let id = v.verify(&mint(&k3, Some("k3"), &claims())).await.unwrap();
    assert_eq!(id.subject, "user-42");
    assert_eq!(server.hits(), 2);
    // A kid nobody publishes: refetched, still unknown.
    assert_eq!(
        reason(v.verify(&mint(&k3, Some("nope"), &claims())).await),
        "unknown key id"
    );
    assert_eq!(server.hits(), 3);
    // k2 was dropped by the provider.
    assert_eq!(
        reason(v.verify(&mint(&k2, Some("k2"), &claims())).await),
        "unknown key id"
    );
}

#[tokio::test]
async fn jwks_refetch_is_rate_limited_and_failures_keep_the_cache() {
    let k1 = ed25519_key();
    let k2 = ed25519_key();
    let server = JwksServer::start(json!({"keys": [jwk_with(&k1, "k1")]}));
    let mut cfg = jwks_provider(&server.url);
    cfg.jwks_min_refetch_secs = 10;
    let v = ExternalVerifier::new(vec![cfg]).unwrap();
    assert!(v.verify(&mint(&k1, Some("k1"), &claims())).await.is_ok());
    assert_eq!(server.hits(), 1);
    // Unknown kids within 10 s of the last fetch do not hit the server.
    for _ in 0..3 {
        assert_eq!(
            reason(v.verify(&mint(&k2, Some("k2"), &claims())).await),
            "unknown key id"
        );
    }
    assert_eq!(server.hits(), 1);

    // A provider whose JWKS cannot be fetched at all is Unavailable.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/jwks", dead.local_addr().unwrap());
    drop(dead);
    let v = ExternalVerifier::new(vec![jwks_provider(&dead_url)]).unwrap();
    assert!(matches!(
        v.verify(&mint(&k1, Some("k1"), &claims())).await,
        Err(AuthError::Unavailable(_))
    ));

    // Once fetched, a broken JWKS endpoint keeps the cached keys in use.
    let server = JwksServer::start(json!({"keys": [jwk_with(&k1, "k1")]}));
    let mut cfg = jwks_provider(&server.url);
    cfg.jwks_refresh_secs = 0; // always stale: every verify tries to refetch
    let v = ExternalVerifier::new(vec![cfg]).unwrap();
    assert!(v.verify(&mint(&k1, Some("k1"), &claims())).await.is_ok());
    server.set(json!("this is not a JWKS"));
    assert!(v.verify(&mint(&k1, Some("k1"), &claims())).await.is_ok());
    assert!(server.hits() >= 2);
}

#[test]
fn jwks_parsing_skips_unusable_keys() {
    let ed = ed25519_key();
    let mut enc = jwk_with(&ed, "enc");
    enc["use"] = json!("enc");
    let mut pinned_wrong = jwk_with(&ed, "pinned");
    pinned_wrong["alg"] = json!("ES256");
    let doc = json!({"keys": [
        jwk_with(&ed, "ok"),
        enc,
        pinned_wrong,
        {"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"short"},
        {"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA","kid":"p384"},
        {"kty":"oct","k":"c2VjcmV0","kid":"hmac"},
        {"nonsense": true}
    ]});
    let keys = keys::parse_jwks(&doc.to_string()).unwrap();
    let kids: Vec<_> = keys.iter().map(|k| k.kid.clone().unwrap()).collect();
    assert_eq!(kids, vec!["ok"]);
    assert!(keys::parse_jwks("[]").is_err());
    assert!(keys::parse_jwks("nope").is_err());
}
