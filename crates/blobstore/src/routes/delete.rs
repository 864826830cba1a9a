//! `DELETE /v1/blobs/{id}` with a `delete` capability: 204, also when the
//! blob is already gone (idempotent).

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_auth::BlobOp;

use crate::authz;
use crate::error::BlobError;
use crate::id::BlobId;
use crate::state::AppState;

pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BlobError> {
    let id = BlobId::parse(&path)?;
    authz::check(&req, &state.verifier, &id, BlobOp::Delete)?;
    state.storage.delete(&id).await?;
    metrics::counter!("blobstore_blobs_deleted_total").increment(1);
    tracing::info!(blob = %id, "deleted");
    Ok(HttpResponse::NoContent().finish())
}
