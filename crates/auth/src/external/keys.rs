//! Public keys of external identity providers: parsing one SPKI PEM or a
//! JWKS document into typed keys, and fetching a JWKS over HTTP(S).
//!
//! Only asymmetric signature keys are ever produced here (RSA, EC P-256,
//! Ed25519). Symmetric (`"kty":"oct"`) JWKS entries are dropped, so an
//! external token can never be checked with an HMAC.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::DecodePublicKey as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;

use crate::AuthError;

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: u64 = 1 << 20;
/// Timeout for one JWKS fetch, connection included.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The type of a public key, which fixes the one algorithm it can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    Ed25519,
}

impl KeyKind {
    pub(crate) fn algorithm(self) -> Algorithm {
        match self {
            KeyKind::Rsa => Algorithm::RS256,
            KeyKind::P256 => Algorithm::ES256,
            KeyKind::Ed25519 => Algorithm::EdDSA,
        }
    }
}

/// One verification key of a provider.
#[derive(Clone)]
pub(crate) struct ProviderKey {
    pub(crate) kid: Option<String>,
    pub(crate) kind: KeyKind,
    pub(crate) key: DecodingKey,
}

impl ProviderKey {
    pub(crate) fn usable_for(&self, alg: Algorithm) -> bool {
        self.kind.algorithm() == alg
    }
}

/// Parses the algorithms a provider allows; only RS256, ES256 and EdDSA.
pub(crate) fn parse_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// One PEM public key (SPKI "PUBLIC KEY"; PKCS#1 "RSA PUBLIC KEY" also
/// works for RSA): Ed25519, EC P-256 or RSA.
pub(crate) fn key_from_pem(pem: &str) -> Result<ProviderKey, AuthError> {
    if let Ok(vk) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
        return Ok(ProviderKey {
            kid: None,
            kind: KeyKind::Ed25519,
            key: DecodingKey::from_ed_der(vk.as_bytes()),
        });
    }
    if let Ok(pk) = p256::PublicKey::from_public_key_pem(pem) {
        let uncompressed = pk.to_encoded_point(false);
        return Ok(ProviderKey {
            kid: None,
            kind: KeyKind::P256,
            key: DecodingKey::from_ec_der(uncompressed.as_bytes()),
        });
    }
    match DecodingKey::from_rsa_pem(pem.as_bytes()) {
        Ok(key) => Ok(ProviderKey {
            kid: None,
            kind: KeyKind::Rsa,
            key,
        }),
        Err(_) => Err(AuthError::Config(
            "public_key_pem is not an RSA, EC P-256 or Ed25519 public key PEM".into(),
        )),
    }
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Turns one JWKS entry into a key, or None when it is not a usable
/// signature key (symmetric, encryption-only, other curve, unsupported
/// pinned `alg`, invalid point).
fn key_from_jwk(jwk: &Jwk) -> Option<ProviderKey> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let (kind, key) = match &jwk.algorithm {
        AlgorithmParameters::RSA(p) => (
            KeyKind::Rsa,
            DecodingKey::from_rsa_components(&p.n, &p.e).ok()?,
        ),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            let (x, y) = (b64url(&p.x)?, b64url(&p.y)?);
            let mut sec1 = Vec::with_capacity(65);
            sec1.push(0x04);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            p256::PublicKey::from_sec1_bytes(&sec1).ok()?;
            (KeyKind::P256, DecodingKey::from_ec_der(&sec1))
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            let x: [u8; 32] = b64url(&p.x)?.try_into().ok()?;
            ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?;
            (KeyKind::Ed25519, DecodingKey::from_ed_der(&x))
        }
        // "oct" (HMAC) keys and anything else are never used.
        _ => return None,
    };
    if let Some(pinned) = &jwk.common.key_algorithm {
        let pinned = match pinned {
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::ES256 => Algorithm::ES256,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            _ => return None,
        };
        if pinned != kind.algorithm() {
            return None;
        }
    }
    Some(ProviderKey {
        kid: jwk.common.key_id.clone(),
        kind,
        key,
    })
}

/// Parses a JWKS document, keeping the usable signature keys. A document
/// that is not `{"keys":[...]}` is an error; unusable entries are skipped.
pub(crate) fn parse_jwks(body: &str) -> Result<Vec<ProviderKey>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("JWKS is not JSON: {e}"))?;
    let entries = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| "JWKS has no \"keys\" array".to_owned())?;
    let keys: Vec<ProviderKey> = entries
        .iter()
        .filter_map(|e| serde_json::from_value::<Jwk>(e.clone()).ok())
        .filter_map(|jwk| key_from_jwk(&jwk))
        .collect();
    if keys.len() < entries.len() {
        tracing::debug!(
            skipped = entries.len() - keys.len(),
            "ignored JWKS entries that are not usable signature keys"
        );
    }
    Ok(keys)
}

/// True when `url` is an absolute http or https URL with a host.
pub(crate) fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/'))
}

pub(crate) fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .max_redirects(3)
        .build()
        .into()
}

/// Fetches and parses a JWKS. Blocking: call it inside `spawn_blocking`.
pub(crate) fn fetch_jwks(agent: &ureq::Agent, url: &str) -> Result<Vec<ProviderKey>, String> {
    let mut response = agent
        .get(url)
        .header("accept", "application/json")
        .call()
        .map_err(|e| format!("fetching {url}: {e}"))?;
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_string()
        .map_err(|e| format!("reading {url}: {e}"))?;
    parse_jwks(&body).map_err(|e| format!("{url}: {e}"))
}
