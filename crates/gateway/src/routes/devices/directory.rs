//! `GET /v1/users/{userId}/devices`: another user's device directory.

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::{DirectoryEntry, ErrorBody, UserDevices};
use passerelle_domain::UserId;
use passerelle_store::device_directory;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::users::throttle_lookup;
use crate::state::AppState;

/// A user's active devices with their registration numbers, oldest first:
/// what a per-device message to them must address. Readable by every
/// signed-in user the owner has not blocked (anyone who may send them a
/// message or a message request); a block answers exactly like an unknown
/// user. Device names only when the owner shares them
/// (`shareDeviceNames`). Counted against the lookup throttle
/// (`limits.lookup_per_minute`), like username lookups.
#[utoipa::path(
    get, path = "/v1/users/{userId}/devices", operation_id = "user_devices", tag = "devices",
    security(("bearer" = [])),
    params(("userId" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "The user's active devices", body = UserDevices),
        (status = 401, description = "Missing, expired or revoked token (`unauthorized`)", body = ErrorBody),
        (status = 404, description = "No such user the caller may see (`not_found`)", body = ErrorBody),
        (status = 429, description = "Too many lookups (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn directory(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let target = UserId(path.into_inner());
    if target != caller.user_id {
        throttle_lookup(&state, &req, Some(&caller)).await?;
    }
    let found = state
        .store
        .run(move |conn| device_directory::read(conn, caller.user_id, target))
        .await?
        .ok_or(ApiError::NotFound)?;
    let devices = found
        .devices
        .into_iter()
        .map(|d| DirectoryEntry {
            id: d.id.0,
            registration_id: d.registration_id.get(),
            created_at: d.created_at,
            name: if found.names_shared { d.name } else { None },
        })
        .collect();
    Ok(HttpResponse::Ok().json(UserDevices {
        user_id: target.0,
        devices,
    }))
}
