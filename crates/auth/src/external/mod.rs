//! Verification of access tokens minted by external identity providers
//! (integrators' OIDC/OAuth servers), so their users can reach the gateway
//! without a local password.
//!
//! Each provider is chosen by the token's exact `iss`. Its keys come either
//! from one configured PEM public key or from a JWKS URL, cached for
//! `jwks_refresh_secs` and refetched early (at most every `jwks_min_refetch_secs`, default 10 s) when a token
//! names an unknown `kid`, which is how providers roll their keys. The token's
//! algorithm must be in the provider's list *and* match the key's type; HMAC
//! algorithms are never accepted for external tokens.

mod jwks;
pub(crate) mod keys;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use self::jwks::Jwks;
use self::keys::ProviderKey;
use crate::{AuthError, jwt};

/// Clock skew tolerated on external tokens' `exp`/`nbf`.
const LEEWAY_SECS: u64 = 30;

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}

fn default_refresh_secs() -> u64 {
    300
}

fn default_min_refetch_secs() -> u64 {
    10
}

/// An external identity provider whose access tokens the gateway accepts.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct ProviderConfig {
    /// Must equal the tokens' `iss` exactly.
    pub issuer: String,
    /// Required in the tokens' `aud`.
    pub audience: String,
    /// http(s) URL of a JWKS. Exactly one of this and `public_key_pem`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// One PEM public key (SPKI): RSA, EC P-256 or Ed25519.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// Allowed algorithms among "RS256", "ES256", "EdDSA"; default all three.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Claim holding the provider's device id, e.g. "device_id".
    #[serde(default)]
    pub device_claim: Option<String>,
    /// Claim holding a preferred user name, e.g. "preferred_username".
    #[serde(default)]
    pub username_claim: Option<String>,
    /// JWKS cache lifetime in seconds.
    #[serde(default = "default_refresh_secs")]
    pub jwks_refresh_secs: u64,
    /// Least time between two fetches of the JWKS, in seconds: a token with
    /// an unknown `kid` refetches early, but never more often than this, so
    /// forged kids cannot make the gateway hammer the provider.
    #[serde(default = "default_min_refetch_secs")]
    pub jwks_min_refetch_secs: u64,
}

/// Who an external token says the caller is.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    pub issuer: String,
    /// The token's `sub`.
    pub subject: String,
    /// The value of the provider's `device_claim`, if configured and present.
    pub device_key: Option<String>,
    /// The value of the provider's `username_claim`, if configured and present.
    pub preferred_username: Option<String>,
    /// The token's `exp` (Unix seconds).
    pub expires_at: i64,
}

/// Verifies external providers' tokens. Cheap to clone.
#[derive(Clone)]
pub struct ExternalVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    providers: HashMap<String, Provider>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for ExternalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut issuers: Vec<&str> = self.inner.providers.keys().map(String::as_str).collect();
        issuers.sort_unstable();
        f.debug_struct("ExternalVerifier")
            .field("issuers", &issuers)
            .finish()
    }
}

struct Provider {
    cfg: ProviderConfig,
    algorithms: Vec<Algorithm>,
    source: KeySource,
}

enum KeySource {
    Static(ProviderKey),
    Jwks(Jwks),
}

fn validate(cfg: &ProviderConfig) -> Result<Provider, AuthError> {
    let who = &cfg.issuer;
    if cfg.issuer.is_empty() || cfg.audience.is_empty() {
        return Err(AuthError::Config(
            "external provider needs a non-empty issuer and audience".into(),
        ));
    }
    if cfg.algorithms.is_empty() {
        return Err(AuthError::Config(format!(
            "provider {who}: algorithms is empty"
        )));
    }
    let mut algorithms = Vec::new();
    for name in &cfg.algorithms {
        let alg = keys::parse_algorithm(name).ok_or_else(|| {
            AuthError::Config(format!(
                "provider {who}: algorithm {name:?} is not one of RS256, ES256, EdDSA"
            ))
        })?;
        if !algorithms.contains(&alg) {
            algorithms.push(alg);
        }
    }
    let source = match (&cfg.jwks_url, &cfg.public_key_pem) {
        (Some(url), None) => {
            if !keys::is_http_url(url) {
                return Err(AuthError::Config(format!(
                    "provider {who}: jwks_url must be an http or https URL"
                )));
            }
            KeySource::Jwks(Jwks::new(
                url.clone(),
                Duration::from_secs(cfg.jwks_refresh_secs),
                Duration::from_secs(cfg.jwks_min_refetch_secs),
            ))
        }
        (None, Some(pem)) => {
            let key = keys::key_from_pem(pem)
                .map_err(|e| AuthError::Config(format!("provider {who}: {e}")))?;
            if !algorithms.contains(&key.kind.algorithm()) {
                return Err(AuthError::Config(format!(
                    "provider {who}: the {:?} public key needs {:?} in algorithms",
                    key.kind,
                    key.kind.algorithm()
                )));
            }
            KeySource::Static(key)
        }
        _ => {
            return Err(AuthError::Config(format!(
                "provider {who}: set exactly one of jwks_url and public_key_pem"
            )));
        }
    };
    Ok(Provider {
        cfg: cfg.clone(),
        algorithms,
        source,
    })
}

impl ExternalVerifier {
    /// Validates the providers: exactly one of `jwks_url` / `public_key_pem`,
    /// known non-empty algorithms, a parsable PEM, distinct issuers.
    pub fn new(providers: Vec<ProviderConfig>) -> Result<Self, AuthError> {
        let mut map = HashMap::new();
        for cfg in &providers {
            let provider = validate(cfg)?;
            if map.insert(cfg.issuer.clone(), provider).is_some() {
                return Err(AuthError::Config(format!(
                    "external provider {} is configured twice",
                    cfg.issuer
                )));
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                providers: map,
                agent: keys::http_agent(),
            }),
        })
    }

    pub fn knows_issuer(&self, iss: &str) -> bool {
        self.inner.providers.contains_key(iss)
    }

    /// Verifies a token from a configured provider, chosen by its exact
    /// `iss`: algorithm allowed and matching the key type, signature, `exp`
    /// (required), `aud`, `iss`, and a string `sub`.
    pub async fn verify(&self, token: &str) -> Result<ExternalIdentity, AuthError> {
        let header = jwt::header(token)?;
        let iss = crate::access::peek_issuer(token).ok_or(AuthError::InvalidToken("malformed"))?;
        let provider = self
            .inner
            .providers
            .get(&iss)
            .ok_or(AuthError::InvalidToken("wrong issuer"))?;
        let alg = header.alg;
        if !provider.algorithms.contains(&alg) {
            return Err(AuthError::InvalidToken("unsupported algorithm"));
        }
        let key = match &provider.source {
            KeySource::Static(key) => {
                if !key.usable_for(alg) {
                    return Err(AuthError::InvalidToken("unsupported algorithm"));
                }
                key.clone()
            }
            KeySource::Jwks(jwks) => {
                jwks.key_for(&self.inner, header.kid.as_deref(), alg)
                    .await?
            }
        };
        check(provider, &key, alg, token)
    }
}

/// Signature and claim checks once the key is chosen.
fn check(
    provider: &Provider,
    key: &ProviderKey,
    alg: Algorithm,
    token: &str,
) -> Result<ExternalIdentity, AuthError> {
    let cfg = &provider.cfg;
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_audience(&[&cfg.audience]);
    validation.set_issuer(&[&cfg.issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
        .map_err(|e| jwt::reject(&e))?;
    let claims = data.claims;
    let subject = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(AuthError::InvalidToken("missing claim")),
    };
    let expires_at = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(AuthError::InvalidToken("malformed"))?;
    let device_key = cfg
        .device_claim
        .as_deref()
        .and_then(|c| claims.get(c))
        .and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let preferred_username = cfg
        .username_claim
        .as_deref()
        .and_then(|c| claims.get(c))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok(ExternalIdentity {
        issuer: cfg.issuer.clone(),
        subject,
        device_key,
        preferred_username,
        expires_at,
    })
}
