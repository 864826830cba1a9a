//! The gateway's own token keys: one active signing key plus verify-only
//! older keys (rotation), each named by a `kid`. Ed25519 (EdDSA) is the
//! normal choice and is published as a JWKS; HS256 with a shared secret is
//! supported for simple deployments and is never published.
//!
//! Private keys and secrets live only inside `jsonwebtoken` key types and
//! zeroizing buffers; `KeySet`'s `Debug` shows only the algorithm and kids.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::DecodePublicKey as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::AuthError;

/// The signature algorithm of a [`KeySet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    EdDSA,
    HS256,
}

impl Algorithm {
    pub(crate) fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        }
    }
}

/// The gateway's own token keys: one active signing key plus verify-only
/// older keys, each with a `kid`. Cheap to clone.
#[derive(Clone)]
pub struct KeySet {
    inner: Arc<Inner>,
}

struct Inner {
    algorithm: Algorithm,
    active_kid: String,
    signing: EncodingKey,
    /// Every key that verifies, the active one first.
    verifying: Vec<VerifyKey>,
}

struct VerifyKey {
    kid: String,
    key: DecodingKey,
    /// Raw Ed25519 public key, for the JWKS. None for HS256.
    public: Option<[u8; 32]>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self
            .inner
            .verifying
            .iter()
            .map(|k| k.kid.as_str())
            .collect();
        f.debug_struct("KeySet")
            .field("algorithm", &self.inner.algorithm)
            .field("active_kid", &self.inner.active_kid)
            .field("kids", &kids)
            .finish()
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key (members in lexical order).
pub(crate) fn ed25519_kid(public: &VerifyingKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(public.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn ed25519_verify_key(public: VerifyingKey) -> VerifyKey {
    VerifyKey {
        kid: ed25519_kid(&public),
        key: DecodingKey::from_ed_der(public.as_bytes()),
        public: Some(public.to_bytes()),
    }
}

/// Parses a PEM that is either an Ed25519 PKCS#8 private key or an SPKI
/// public key; only the public half is kept.
fn ed25519_public_from_pem(pem: &str) -> Option<VerifyingKey> {
    if let Ok(sk) = SigningKey::from_pkcs8_pem(pem) {
        return Some(sk.verifying_key());
    }
    VerifyingKey::from_public_key_pem(pem).ok()
}

impl KeySet {
    /// Ed25519 from PKCS#8 PEM text: the first is active (signs), the rest
    /// verify only (old keys during rotation). kid = RFC 7638 JWK thumbprint.
    /// Public-key-only PEMs ("PUBLIC KEY", SPKI) are accepted in `previous`.
    pub fn ed25519_from_pem(active: &str, previous: &[String]) -> Result<KeySet, AuthError> {
        let signing = SigningKey::from_pkcs8_pem(active).map_err(|_| {
            AuthError::Config("active signing key is not an Ed25519 PKCS#8 private key PEM".into())
        })?;
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| AuthError::Internal(format!("encoding Ed25519 key: {e}")))?;
        let encoding = EncodingKey::from_ed_der(der.as_bytes());
        let active_key = ed25519_verify_key(signing.verifying_key());
        let active_kid = active_key.kid.clone();
        let mut verifying = vec![active_key];
        for (i, pem) in previous.iter().enumerate() {
            let public = ed25519_public_from_pem(pem).ok_or_else(|| {
                AuthError::Config(format!(
                    "previous key #{} is not an Ed25519 PKCS#8 private key or SPKI public key PEM",
                    i + 1
                ))
            })?;
            let key = ed25519_verify_key(public);
            if !verifying.iter().any(|k| k.kid == key.kid) {
                verifying.push(key);
            }
        }
        Ok(KeySet {
            inner: Arc::new(Inner {
                algorithm: Algorithm::EdDSA,
                active_kid,
                signing: encoding,
                verifying,
            }),
        })
    }

    /// A directory of `*.pem` Ed25519 private keys (embedded mode). If none
    /// exists, generate one and write it (mode 0600 on unix) as
    /// `ed25519-<UTC yyyymmddHHMMSS>-<kid prefix>.pem`. The active key is the
    /// one whose file name sorts last; the others verify only. Returns the set
    /// and whether a key was generated.
    pub fn ed25519_load_or_generate_dir(dir: &Path) -> Result<(KeySet, bool), AuthError> {
        let shown = dir.display();
        std::fs::create_dir_all(dir)
            .map_err(|e| AuthError::Config(format!("key directory {shown}: {e}")))?;
        let mut files = pem_files(dir)?;
        let mut generated = false;
        if files.is_empty() {
            let pem = generate_ed25519_pem()?;
            let public = ed25519_public_from_pem(&pem)
                .ok_or_else(|| AuthError::Internal("generated key does not parse".into()))?;
            let kid = ed25519_kid(&public);
            let prefix: String = kid.chars().take(8).collect();
            let name = format!(
                "ed25519-{}-{prefix}.pem",
                chrono::Utc::now().format("%Y%m%d%H%M%S")
            );
            let path = dir.join(&name);
            write_private(&path, &pem)
                .map_err(|e| AuthError::Config(format!("writing {}: {e}", path.display())))?;
            tracing::info!(file = %path.display(), kid = %kid, "generated a new Ed25519 token signing key");
            generated = true;
            files = pem_files(dir)?;
        }
        let mut texts = Vec::with_capacity(files.len());
        for path in &files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AuthError::Config(format!("reading {}: {e}", path.display())))?;
            texts.push(text);
        }
        // Sorted ascending: the last file is the active key; the others are
        // kept newest first.
        let active = texts
            .pop()
            .ok_or_else(|| AuthError::Config(format!("no key in {shown}")))?;
        texts.reverse();
        let set = KeySet::ed25519_from_pem(&active, &texts).map_err(|e| match e {
            AuthError::Config(m) => AuthError::Config(format!("{shown}: {m}")),
            other => other,
        })?;
        Ok((set, generated))
    }

    /// HS256 with a shared secret (at least 32 bytes, else a Config error);
    /// kid = "hs256-" + first 8 hex chars of SHA-256(secret). Never published.
    pub fn hs256(secret: &[u8]) -> Result<KeySet, AuthError> {
        if secret.len() < 32 {
            return Err(AuthError::Config(
                "the HS256 secret must be at least 32 bytes".into(),
            ));
        }
        let digest = Sha256::digest(secret);
        let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        let kid = format!("hs256-{hex}");
        Ok(KeySet {
            inner: Arc::new(Inner {
                algorithm: Algorithm::HS256,
                active_kid: kid.clone(),
                signing: EncodingKey::from_secret(secret),
                verifying: vec![VerifyKey {
                    kid,
                    key: DecodingKey::from_secret(secret),
                    public: None,
                }],
            }),
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.inner.algorithm
    }

    pub fn active_kid(&self) -> &str {
        &self.inner.active_kid
    }

    /// JWKS document with the public keys; `{"keys":[]}` for HS256.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .inner
            .verifying
            .iter()
            .filter_map(|k| {
                k.public.map(|p| {
                    serde_json::json!({
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": URL_SAFE_NO_PAD.encode(p),
                        "kid": k.kid,
                        "alg": "EdDSA",
                        "use": "sig",
                    })
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    pub(crate) fn signing_key(&self) -> &EncodingKey {
        &self.inner.signing
    }

    pub(crate) fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.inner
            .verifying
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| &k.key)
    }
}

fn pem_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, AuthError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| AuthError::Config(format!("key directory {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry
            .map_err(|e| AuthError::Config(format!("key directory {}: {e}", dir.display())))?;
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|x| x == "pem") {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// A new Ed25519 private key as PKCS#8 PEM (for `passerelle keys generate`).
pub fn generate_ed25519_pem() -> Result<String, AuthError> {
    let mut seed = Seed([0u8; 32]);
    getrandom::fill(&mut seed.0)
        .map_err(|e| AuthError::Internal(format!("random number generator: {e}")))?;
    let key = SigningKey::from_bytes(&seed.0);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| AuthError::Internal(format!("encoding Ed25519 key: {e}")))?;
    Ok(pem.to_string())
}

/// A 32-byte buffer wiped on drop.
struct Seed([u8; 32]);
impl Drop for Seed {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}
