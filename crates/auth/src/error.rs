//! The one error type of the crate. Its messages are safe to log and to map
//! to HTTP answers: they never contain token text, passwords or key material.

/// Why an authentication operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token was rejected. The reason is a short, fixed phrase such as
    /// `"expired"`, `"bad signature"`, `"unknown key id"`, `"wrong audience"`,
    /// `"wrong issuer"`, `"unsupported algorithm"`, `"missing claim"`,
    /// `"not yet valid"` or `"malformed"`; it never includes token text.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// Bad key material or settings, found at startup.
    #[error("authentication configuration error: {0}")]
    Config(String),
    /// The JWKS of an external identity provider could not be fetched.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// Something that should not happen (a failed worker task, a corrupt
    /// stored hash, the OS random number generator failing).
    #[error("internal authentication error: {0}")]
    Internal(String),
}

impl AuthError {
    /// The short reason of an [`AuthError::InvalidToken`], if it is one.
    pub fn token_reason(&self) -> Option<&'static str> {
        match self {
            AuthError::InvalidToken(r) => Some(r),
            _ => None,
        }
    }
}
