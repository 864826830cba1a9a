//! Blob capabilities: short-lived grants that let their holder put, get or
//! delete **one** blob in the blob store. The gateway signs them with its
//! token key ([`CapabilityIssuer`]); the blob store checks them
//! ([`CapabilityVerifier`]) with the same key set when it runs in the
//! gateway's process, or with the public keys the gateway publishes at
//! `/.well-known/jwks.json` when it runs on its own. Either way the blob
//! store needs no database and never calls the gateway per request.
//!
//! A capability is a JWT whose audience is [`BLOB_AUDIENCE`], so an access
//! token is never a capability and a capability is never an access token
//! (the two audiences differ and each verifier requires its own). Like the
//! access-token verifier, the algorithm comes from the keys, never from the
//! token, and the `kid` must name a known key.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::external::keys::{
    KeyKind, ProviderKey, fetch_jwks, http_agent, key_from_pem, parse_jwks,
};
use crate::keys::KeySet;
use crate::{AuthError, jwt};

/// The `aud` of every blob capability.
pub const BLOB_AUDIENCE: &str = "passerelle-blobs";

/// What a capability allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobOp {
    /// Upload the blob once (`PUT`), at most `maxBytes` long.
    Put,
    /// Download it (`GET`, `HEAD`, ranges included).
    Get,
    /// Delete it (`DELETE`): only the gateway's retention grants these.
    Delete,
}

/// The claims of a blob capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobClaims {
    pub iss: String,
    pub aud: String,
    /// The user it was granted to; the nil UUID for the gateway's own
    /// grants (retention).
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    /// Unique grant id (UUID v4).
    pub jti: Uuid,
    /// The blob: 1 to 128 of `[A-Za-z0-9_-]`.
    pub blob: String,
    pub op: BlobOp,
    /// `put`: the most bytes the upload may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// `put`: the SHA-256 (lowercase hex) the uploaded bytes must have;
    /// when absent, the uploader's `x-content-sha256` header is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What the gateway grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub user: Uuid,
    pub blob: String,
    pub op: BlobOp,
    pub ttl: Duration,
    pub max_bytes: Option<u64>,
    pub sha256: Option<String>,
}

/// A signed capability. `Debug` hides the token.
#[derive(Clone)]
pub struct IssuedCapability {
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for IssuedCapability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCapability")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Signs capabilities with the gateway's active key. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CapabilityIssuer {
    keys: KeySet,
    issuer: Arc<str>,
}

impl CapabilityIssuer {
    pub fn new(keys: KeySet, issuer: &str) -> Self {
        Self {
            keys,
            issuer: Arc::from(issuer),
        }
    }

    pub fn issue(&self, grant: Grant) -> Result<IssuedCapability, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(grant.ttl.as_secs())
            .map_err(|_| AuthError::Config("capability ttl is too large".into()))?;
        let claims = BlobClaims {
            iss: self.issuer.to_string(),
            aud: BLOB_AUDIENCE.to_owned(),
            sub: grant.user,
            iat: now,
            exp: now.saturating_add(ttl),
            jti: Uuid::new_v4(),
            blob: grant.blob,
            op: grant.op,
            max_bytes: grant.max_bytes,
            sha256: grant.sha256,
        };
        let mut header = Header::new(self.keys.algorithm().jwt());
        header.kid = Some(self.keys.active_kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, self.keys.signing_key())
            .map_err(|e| AuthError::Internal(format!("signing capability: {:?}", e.kind())))?;
        Ok(IssuedCapability {
            token,
            expires_at: claims.exp,
        })
    }
}

/// Where a verifier's keys come from.
#[derive(Clone)]
enum Keys {
    /// The gateway's own key set (the blob store in the gateway's process).
    Own(KeySet),
    /// Ed25519 public keys (from the gateway's JWKS, or a PEM file).
    Public(Vec<ProviderKey>),
}

/// Checks capabilities. Cheap to clone.
#[derive(Clone)]
pub struct CapabilityVerifier {
    keys: Keys,
    validation: Arc<Validation>,
}

impl std::fmt::Debug for CapabilityVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Own(k) => format!("{k:?}"),
            Keys::Public(k) => format!("{} public keys", k.len()),
        };
        f.debug_struct("CapabilityVerifier")
            .field("keys", &keys)
            .finish()
    }
}

impl CapabilityVerifier {
    fn with(keys: Keys, algorithm: jsonwebtoken::Algorithm, issuer: &str, leeway: u64) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = leeway;
        validation.set_audience(&[BLOB_AUDIENCE]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Self {
            keys,
            validation: Arc::new(validation),
        }
    }

    /// Verifies with the gateway's own key set.
    pub fn from_key_set(keys: KeySet, issuer: &str, leeway_secs: u64) -> Self {
        let alg = keys.algorithm().jwt();
        Self::with(Keys::Own(keys), alg, issuer, leeway_secs)
    }

    /// Verifies with the Ed25519 keys of a JWKS document (what the gateway
    /// serves at `/.well-known/jwks.json`).
    pub fn from_jwks(document: &str, issuer: &str, leeway_secs: u64) -> Result<Self, AuthError> {
        let keys = parse_jwks(document).map_err(AuthError::Config)?;
        Self::from_public(keys, issuer, leeway_secs)
    }

    /// Verifies with one Ed25519 public key (SPKI PEM). The key's id is its
    /// RFC 7638 thumbprint, as the gateway names it, so the gateway's
    /// capabilities (which always carry a `kid`) verify with it.
    pub fn from_public_pem(pem: &str, issuer: &str, leeway_secs: u64) -> Result<Self, AuthError> {
        use ed25519_dalek::pkcs8::DecodePublicKey;
        let mut key = key_from_pem(pem)?;
        if let Ok(public) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            key.kid = Some(crate::keys::ed25519_kid(&public));
        }
        Self::from_public(vec![key], issuer, leeway_secs)
    }

    /// Fetches the gateway's JWKS from `url` (blocking: call it at start,
    /// off the async workers) and verifies with its Ed25519 keys.
    pub fn fetch(url: &str, issuer: &str, leeway_secs: u64) -> Result<Self, AuthError> {
        let keys = fetch_jwks(&http_agent(), url).map_err(AuthError::Config)?;
        Self::from_public(keys, issuer, leeway_secs)
    }

    fn from_public(
        keys: Vec<ProviderKey>,
        issuer: &str,
        leeway_secs: u64,
    ) -> Result<Self, AuthError> {
        let keys: Vec<ProviderKey> = keys
            .into_iter()
            .filter(|k| k.kind == KeyKind::Ed25519)
            .collect();
        if keys.is_empty() {
            return Err(AuthError::Config(
                "no Ed25519 key to check blob capabilities with".into(),
            ));
        }
        Ok(Self::with(
            Keys::Public(keys),
            jsonwebtoken::Algorithm::EdDSA,
            issuer,
            leeway_secs,
        ))
    }

    fn key(&self, kid: Option<&str>) -> Option<&DecodingKey> {
        match &self.keys {
            Keys::Own(set) => set.decoding_key(kid?),
            Keys::Public(keys) => match kid {
                Some(kid) => keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid))
                    .map(|k| &k.key),
                // A single key without a kid (a PEM file) verifies tokens
                // that name none.
                None if keys.len() == 1 && keys[0].kid.is_none() => Some(&keys[0].key),
                None => None,
            },
        }
    }

    /// Checks a capability: algorithm, known `kid`, signature, `exp` (with
    /// leeway), `iss`, `aud`; then that it is for `blob` and allows `op`.
    pub fn verify(&self, token: &str, blob: &str, op: BlobOp) -> Result<BlobClaims, AuthError> {
        let header = jwt::header(token)?;
        if header.alg != self.validation.algorithms[0] {
            return Err(AuthError::InvalidToken("unsupported algorithm"));
        }
        let key = self
            .key(header.kid.as_deref())
            .ok_or(AuthError::InvalidToken("unknown key id"))?;
        let claims = jsonwebtoken::decode::<BlobClaims>(token, key, &self.validation)
            .map_err(|e| jwt::reject(&e))?
            .claims;
        if claims.blob != blob {
            return Err(AuthError::InvalidToken("for another blob"));
        }
        if claims.op != op {
            return Err(AuthError::InvalidToken("for another operation"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_ed25519_pem;

    fn keys() -> KeySet {
        keys_and_pem().0
    }

    fn keys_and_pem() -> (KeySet, String) {
        let pem = generate_ed25519_pem().expect("pem");
        (KeySet::ed25519_from_pem(&pem, &[]).expect("keys"), pem)
    }

    fn grant(op: BlobOp) -> Grant {
        Grant {
            user: Uuid::new_v4(),
            blob: "b_1".into(),
            op,
            ttl: Duration::from_secs(60),
            max_bytes: Some(10),
            sha256: None,
        }
    }

    #[test]
    fn a_capability_is_for_one_blob_and_one_operation() {
        let (keys, pem) = keys_and_pem();
        let issuer = CapabilityIssuer::new(keys.clone(), "gw");
        let cap = issuer.issue(grant(BlobOp::Put)).expect("issue");
        let own = CapabilityVerifier::from_key_set(keys.clone(), "gw", 0);
        let claims = own.verify(&cap.token, "b_1", BlobOp::Put).expect("valid");
        assert_eq!(claims.max_bytes, Some(10));
        assert_eq!(claims.exp, cap.expires_at);
        assert!(own.verify(&cap.token, "b_2", BlobOp::Put).is_err(), "blob");
        assert!(own.verify(&cap.token, "b_1", BlobOp::Get).is_err(), "op");
        // The published keys verify it the same way.
        let public = CapabilityVerifier::from_jwks(&keys.jwks().to_string(), "gw", 0)
            .expect("jwks verifier");
        assert!(public.verify(&cap.token, "b_1", BlobOp::Put).is_ok());
        // So does the public key alone (a PEM file).
        let public_pem = {
            use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
            let signing = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).expect("signing key");
            signing
                .verifying_key()
                .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .expect("public pem")
        };
        let from_pem = CapabilityVerifier::from_public_pem(&public_pem, "gw", 0).expect("pem");
        assert!(from_pem.verify(&cap.token, "b_1", BlobOp::Put).is_ok());
        // Another issuer name, another key set: refused.
        let other = CapabilityVerifier::from_key_set(keys.clone(), "other", 0);
        assert!(other.verify(&cap.token, "b_1", BlobOp::Put).is_err());
        let stranger = CapabilityVerifier::from_key_set(self::keys(), "gw", 0);
        assert!(stranger.verify(&cap.token, "b_1", BlobOp::Put).is_err());
    }

    #[test]
    fn access_tokens_are_not_capabilities_and_expired_ones_are_refused() {
        use crate::access::{AccessTokenConfig, AccessTokens};
        use passerelle_domain::{DeviceId, UserId};
        let keys = keys();
        let tokens = AccessTokens::new(
            keys.clone(),
            AccessTokenConfig {
                issuer: "gw".into(),
                audience: "gw".into(),
                ttl: Duration::from_secs(60),
                leeway_secs: 0,
            },
        );
        let access = tokens
            .issue(UserId(Uuid::new_v4()), DeviceId(Uuid::new_v4()))
            .expect("access");
        let verifier = CapabilityVerifier::from_key_set(keys.clone(), "gw", 0);
        assert!(verifier.verify(&access.token, "b_1", BlobOp::Get).is_err());
        // And a capability is not an access token.
        let cap = CapabilityIssuer::new(keys.clone(), "gw")
            .issue(grant(BlobOp::Get))
            .expect("issue");
        assert!(tokens.verify(&cap.token).is_err());
        // Expired.
        let mut old = grant(BlobOp::Get);
        old.ttl = Duration::ZERO;
        let cap = CapabilityIssuer::new(keys, "gw").issue(old).expect("issue");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(verifier.verify(&cap.token, "b_1", BlobOp::Get).is_err());
    }
}
