//! `POST /v1/blobs`: a capability to upload one new blob.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{BlobGrant, BlobPurpose, ErrorBody, UploadRequest};
use passerelle_auth::BlobOp;
use passerelle_store::blobs::{self, Purpose};

use crate::authn::Caller;
use crate::blobs::valid_sha256;
use crate::error::ApiError;
use crate::routes::auth::throttle;
use crate::state::AppState;

/// Grants the caller the upload of one new blob of at most `size` bytes
/// (and, with `sha256`, of exactly those bytes), valid for
/// `blobs.upload_ttl_secs`. The blob store refuses a second upload to the
/// same id. A message or attachment blob can then be named by the caller's
/// messages (`blobId`), an avatar blob by their profile (`avatarBlobId`).
#[utoipa::path(
    post, path = "/v1/blobs", operation_id = "grant_upload", tag = "blobs",
    security(("bearer" = [])),
    request_body = UploadRequest,
    responses(
        (status = 201, description = "The upload capability", body = BlobGrant),
        (status = 413, description = "`size` over `blobs.max_bytes` (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "`size` of 0, or a malformed `sha256` (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many upload grants (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UploadRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let max = state.blobs.settings().max_bytes;
    if body.size == 0 {
        return Err(ApiError::Validation("size: must be at least 1".into()));
    }
    if body.size > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "size: a blob may be at most {max} bytes"
        )));
    }
    if let Some(d) = &body.sha256
        && !valid_sha256(d)
    {
        return Err(ApiError::Validation(
            "sha256: 64 lowercase hexadecimal digits".into(),
        ));
    }
    let per_minute = state.blobs.settings().uploads_per_minute;
    throttle::check(
        &state,
        &format!("blobs:user:{}", caller.user_id),
        per_minute,
        60,
    )
    .await?;
    let purpose = match body.purpose {
        BlobPurpose::Message => Purpose::Message,
        BlobPurpose::Attachment => Purpose::Attachment,
        BlobPurpose::Avatar => Purpose::Avatar,
    };
    let id = blobs::new_id();
    let (row_id, owner, size, digest) =
        (id.clone(), caller.user_id, body.size, body.sha256.clone());
    let now = passerelle_store::now();
    state
        .store
        .run(move |c| blobs::insert(c, &row_id, owner, purpose, size, digest.as_deref(), now))
        .await?;
    let grant = state.blobs.grant(
        caller.user_id.0,
        &id,
        BlobOp::Put,
        Some(body.size),
        body.sha256,
    )?;
    metrics::counter!("passerelle_blob_grants_total", "op" => "put").increment(1);
    Ok(HttpResponse::Created().json(grant))
}
