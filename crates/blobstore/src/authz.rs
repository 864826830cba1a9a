//! Who may do what: the `Authorization: Bearer <capability>` of a request,
//! checked with the gateway's keys for exactly this blob and operation.
//! The token is never logged, and a refusal says only the verifier's short
//! reason.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use passerelle_auth::{BlobClaims, BlobOp, CapabilityVerifier};

use crate::error::BlobError;
use crate::id::BlobId;

/// The request's capability, verified for `id` and `op`.
pub fn check(
    req: &HttpRequest,
    verifier: &CapabilityVerifier,
    id: &BlobId,
    op: BlobOp,
) -> Result<BlobClaims, BlobError> {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(BlobError::Unauthorized(
            "send a capability as Authorization: Bearer <token>",
        ))?;
    Ok(verifier.verify(token, id.as_str(), op)?)
}
