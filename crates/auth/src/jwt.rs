//! Small helpers shared by the own-token ([`crate::access`]) and the
//! external-token ([`crate::external`]) verifiers: mapping `jsonwebtoken`
//! errors to short, safe reasons, and reading a token header.

use jsonwebtoken::errors::{Error as JwtError, ErrorKind};

use crate::AuthError;

/// Maps a `jsonwebtoken` error to an [`AuthError::InvalidToken`] with a fixed
/// reason. The library's own messages are dropped: some quote claim values.
pub(crate) fn reject(err: &JwtError) -> AuthError {
    AuthError::InvalidToken(reason(err.kind()))
}

fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_) => "unsupported algorithm",
        _ => "malformed",
    }
}

/// Decodes the header without verifying anything. An unknown `alg` (such as
/// `"none"`) is reported as "unsupported algorithm", anything else as
/// "malformed".
pub(crate) fn header(token: &str) -> Result<jsonwebtoken::Header, AuthError> {
    jsonwebtoken::decode_header(token).map_err(|e| {
        // `alg: none` and other unknown names fail to deserialise into
        // `Algorithm`, which surfaces as a JSON error mentioning "variant".
        match e.kind() {
            ErrorKind::Json(j) if j.to_string().contains("unknown variant") => {
                AuthError::InvalidToken("unsupported algorithm")
            }
            other => AuthError::InvalidToken(reason(other)),
        }
    })
}
