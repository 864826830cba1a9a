//! `POST /v1/blobs/{blobId}/download`: a capability to download one blob.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{BlobGrant, ErrorBody};
use passerelle_auth::BlobOp;
use passerelle_domain::{Viewer, profile_visible};
use passerelle_store::blobs::{self, Purpose};
use passerelle_store::social;
use uuid::Uuid;

use crate::authn::MaybeCaller;
use crate::blobs::valid_id;
use crate::error::ApiError;
use crate::state::AppState;

/// Grants the download of a blob the caller may read, valid for
/// `blobs.download_ttl_secs`:
///
/// - a **message or attachment** blob: its uploader, and every member who
///   may read one of the uploader's messages that carries it (the same rule
///   as history: member when it was sent, not withheld from them by a
///   block, not expired, not retracted);
/// - a blob a **per-device** message addressed to one device: that device
///   only (not the user's other devices), while the message is there;
/// - an **avatar** blob that is its owner's current `avatarBlobId`: whoever
///   may see the owner's profile (anonymous callers too, for `everyone`).
///
/// Anything else, including an unknown id, answers the same 404. A blob
/// whose message was retracted or expired is never granted again.
#[utoipa::path(
    post, path = "/v1/blobs/{blobId}/download", operation_id = "grant_download", tag = "blobs",
    security((), ("bearer" = [])),
    params(("blobId" = String, Path, description = "The blob's id")),
    responses(
        (status = 200, description = "The download capability", body = BlobGrant),
        (status = 401, description = "An `Authorization` header with an unusable token (`unauthorized`)", body = ErrorBody),
        (status = 404, description = "No such blob the caller may read (`not_found`)", body = ErrorBody),
    )
)]
pub async fn download(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if !valid_id(&id) {
        return Err(ApiError::NotFound);
    }
    let viewer = caller.0.as_ref().map(|c| c.user_id);
    let viewer_device = caller.0.as_ref().map(|c| c.device_id);
    let now = passerelle_store::now();
    let lookup = id.clone();
    let allowed = state
        .store
        .run(move |c| {
            let Some(blob) = blobs::find(c, &lookup)? else {
                return Ok(false);
            };
            if blob.doomed_at.is_some() {
                return Ok(false);
            }
            match (blob.purpose, viewer) {
                (Purpose::Avatar, _) => {
                    if !blobs::is_current_avatar(c, &blob)? {
                        return Ok(false);
                    }
                    let Some(profile) = social::profile_by_id(c, blob.owner)? else {
                        return Ok(false);
                    };
                    let seen_by = match viewer {
                        None => Viewer::Anonymous,
                        Some(v) if v == blob.owner => Viewer::Owner,
                        Some(v) => Viewer::User(social::relation(c, blob.owner, v)?),
                    };
                    Ok(profile_visible(profile.profile_visibility, seen_by))
                }
                (_, Some(v)) => Ok(blobs::message_readable(c, &blob, v, now)?
                    || match viewer_device {
                        Some(d) => blobs::entry_readable(c, &blob, d, now)?,
                        None => false,
                    }),
                (_, None) => Ok(false),
            }
        })
        .await?;
    if !allowed {
        return Err(ApiError::NotFound);
    }
    let user = viewer.map_or(Uuid::nil(), |u| u.0);
    let grant = state.blobs.grant(user, &id, BlobOp::Get, None, None)?;
    metrics::counter!("passerelle_blob_grants_total", "op" => "get").increment(1);
    Ok(HttpResponse::Ok().json(grant))
}
