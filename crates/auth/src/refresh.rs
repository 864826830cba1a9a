//! Opaque refresh tokens. The client holds 32 random bytes (base64url, no
//! padding); the database only stores their SHA-256 digest, so a leaked table
//! cannot be replayed. Tokens are high-entropy, so a plain (unsalted) hash is
//! enough and lets the store look a token up by its digest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// A new refresh token and the digest to store.
///
/// # Panics
/// If the operating system's random number generator fails, which leaves no
/// safe way to continue.
pub fn generate() -> (SecretString, [u8; 32]) {
    let mut bytes = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("the OS random number generator failed: {e}");
    }
    let token = URL_SAFE_NO_PAD.encode(bytes);
    bytes.fill(0);
    let d = digest(&token);
    (SecretString::from(token), d)
}

/// The SHA-256 digest of a refresh token as presented by a client.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn tokens_are_random_and_digests_match() {
        let (a, da) = generate();
        let (b, db) = generate();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(da, db);
        assert_eq!(a.expose_secret().len(), 43);
        assert_eq!(digest(a.expose_secret()), da);
        assert!(!format!("{a:?}").contains(a.expose_secret()));
    }
}
