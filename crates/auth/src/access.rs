//! The gateway's own access tokens: short-lived JWTs naming a user and one of
//! their devices, signed with the active key of a [`KeySet`].
//!
//! Verification trusts nothing in the token header except the `kid` used to
//! pick a key: the algorithm is fixed by the key set, so `alg: none`, HS256
//! against an EdDSA set (the public-key-as-HMAC-secret confusion) or RS256
//! are refused before any signature check.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Header, Validation};
use passerelle_domain::{DeviceId, UserId};
use uuid::Uuid;

use crate::keys::KeySet;
use crate::{AuthError, jwt};

/// Claims of a gateway access token.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: Uuid,
    /// The device (login session) of that user.
    pub did: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Unique token id (UUID v4).
    pub jti: Uuid,
}

impl AccessClaims {
    pub fn user(&self) -> UserId {
        UserId(self.sub)
    }

    pub fn device(&self) -> DeviceId {
        DeviceId(self.did)
    }
}

/// Settings for issuing and verifying access tokens.
#[derive(Debug, Clone)]
pub struct AccessTokenConfig {
    pub issuer: String,
    pub audience: String,
    /// Lifetime of an issued token.
    pub ttl: Duration,
    /// Clock skew tolerated on `exp`, in seconds.
    pub leeway_secs: u64,
}

/// A freshly issued token. `Debug` hides the token text.
#[derive(Clone)]
pub struct IssuedToken {
    pub token: String,
    /// Seconds until expiry.
    pub expires_in: u64,
    pub claims: AccessClaims,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("claims", &self.claims)
            .finish()
    }
}

/// Issues and verifies the gateway's own access tokens. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AccessTokens {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: KeySet,
    cfg: AccessTokenConfig,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(keys: KeySet, cfg: AccessTokenConfig) -> Self {
        let mut validation = Validation::new(keys.algorithm().jwt());
        validation.leeway = cfg.leeway_secs;
        validation.set_audience(&[&cfg.audience]);
        validation.set_issuer(&[&cfg.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Self {
            inner: Arc::new(Inner {
                keys,
                cfg,
                validation,
            }),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.cfg.issuer
    }

    /// Signs a new token for `user` on `device` with the active key.
    pub fn issue(&self, user: UserId, device: DeviceId) -> Result<IssuedToken, AuthError> {
        let keys = &self.inner.keys;
        let ttl = self.inner.cfg.ttl.as_secs();
        let now = chrono::Utc::now().timestamp();
        let ttl_i64 = i64::try_from(ttl)
            .map_err(|_| AuthError::Config("access token ttl is too large".into()))?;
        let claims = AccessClaims {
            sub: user.as_uuid(),
            did: device.as_uuid(),
            iat: now,
            exp: now.saturating_add(ttl_i64),
            iss: self.inner.cfg.issuer.clone(),
            aud: self.inner.cfg.audience.clone(),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(keys.algorithm().jwt());
        header.kid = Some(keys.active_kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, keys.signing_key())
            .map_err(|e| AuthError::Internal(format!("signing access token: {:?}", e.kind())))?;
        Ok(IssuedToken {
            token,
            expires_in: ttl,
            claims,
        })
    }

    /// Verifies a token issued by this gateway: algorithm fixed by the key
    /// set, `kid` must name a known key, then signature, `exp` (with leeway),
    /// `iss`, `aud`, and the claims sub/did/iat/exp/jti must all be present.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let keys = &self.inner.keys;
        let header = jwt::header(token)?;
        if header.alg != keys.algorithm().jwt() {
            return Err(AuthError::InvalidToken("unsupported algorithm"));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or(AuthError::InvalidToken("unknown key id"))?;
        let key = keys
            .decoding_key(kid)
            .ok_or(AuthError::InvalidToken("unknown key id"))?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.inner.validation)
            .map_err(|e| jwt::reject(&e))?;
        Ok(data.claims)
    }
}

/// Reads the `iss` claim WITHOUT verifying anything, to pick a verifier.
/// Returns None on a malformed token or a missing/non-string `iss`.
pub fn peek_issuer(token: &str) -> Option<String> {
    let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}
