//! `PUT /v1/blobs/{id}` with a `put` capability: the body streams to the
//! backend through a SHA-256. Everything that can be refused without the
//! body is refused first (id, capability, `Content-Length` against both
//! caps, digest, and, in the backend, create-only), so an oversized or
//! replayed upload is never read. Answers 201 `{"id", "size", "sha256"}`.

use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use passerelle_auth::BlobOp;
use serde_json::json;

use crate::authz;
use crate::backend::Upload;
use crate::digest::Sha256Hex;
use crate::error::BlobError;
use crate::id::BlobId;
use crate::state::AppState;

/// The header a client announces its body's digest in, when its capability
/// names none.
pub const DIGEST_HEADER: &str = "x-content-sha256";

pub async fn put(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    body: web::Payload,
) -> Result<HttpResponse, BlobError> {
    let id = BlobId::parse(&path)?;
    let claims = authz::check(&req, &state.verifier, &id, BlobOp::Put)?;
    let len = content_length(&req)?;
    if let Some(max) = claims.max_bytes
        && len > max
    {
        return Err(BlobError::TooLarge(format!(
            "the capability allows at most {max} bytes"
        )));
    }
    if len > state.max_blob_bytes {
        return Err(BlobError::TooLarge(format!(
            "blobs are at most {} bytes",
            state.max_blob_bytes
        )));
    }
    let sha256 = match &claims.sha256 {
        Some(digest) => Sha256Hex::parse(digest).ok_or(BlobError::Unauthorized(
            "the capability's digest is malformed",
        ))?,
        None => {
            let header = req
                .headers()
                .get(DIGEST_HEADER)
                .ok_or(BlobError::DigestRequired)?;
            Sha256Hex::from_header(header.to_str().unwrap_or_default())?
        }
    };
    let upload = Upload { id, len, sha256 };
    let body = body.map(|chunk| {
        chunk
            .inspect(|c| metrics::counter!("blobstore_bytes_in_total").increment(c.len() as u64))
            .map_err(|_| BlobError::DigestMismatch("the body was cut short; nothing was stored"))
    });
    if let Err(e) = state.storage.put(&upload, body).await {
        tracing::info!(blob = %upload.id, size = len, code = e.code(), "upload refused");
        return Err(e);
    }
    metrics::counter!("blobstore_blobs_stored_total").increment(1);
    tracing::info!(blob = %upload.id, size = len, "stored");
    Ok(HttpResponse::Created().json(json!({
        "id": upload.id.as_str(),
        "size": upload.len,
        "sha256": upload.sha256.as_str(),
    })))
}

/// `Content-Length` is required: the size caps are checked against it
/// before the body is read. A request with neither `Content-Length` nor
/// `Transfer-Encoding` has an empty body (RFC 9112, 6.3), so it counts as
/// `Content-Length: 0`; a chunked one is refused with 411.
fn content_length(req: &HttpRequest) -> Result<u64, BlobError> {
    let Some(value) = req.headers().get(CONTENT_LENGTH) else {
        return if req.headers().contains_key(TRANSFER_ENCODING) {
            Err(BlobError::LengthRequired)
        } else {
            Ok(0)
        };
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or(BlobError::InvalidHeader("Content-Length must be a number"))
}
