//! `DELETE /v1/devices/{deviceId}`: revoke one of the caller's devices.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_domain::DeviceId;
use passerelle_store::devices;
use uuid::Uuid;

use crate::authn::Caller;
use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::routing::events::revoke_sessions;
use crate::state::AppState;

/// Revoke a device: its refresh tokens are deleted and its access tokens are
/// refused from now on, even before they expire. Revoking the calling device
/// is a logout.
#[utoipa::path(
    delete, path = "/v1/devices/{deviceId}", tag = "devices",
    security(("bearer" = [])),
    params(("deviceId" = Uuid, Path, description = "One of the caller's devices")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such active device of the caller (`not_found`)", body = ErrorBody),
    )
)]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let device_id = DeviceId(path.into_inner());
    let now = passerelle_store::now();
    let announced = state
        .store
        .transaction(move |conn| {
            if !devices::revoke(conn, caller.user_id, device_id, now)? {
                return Ok(None);
            }
            device_list::announce(conn, caller.user_id, &[Change::revoked(device_id)], now)
                .map(Some)
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    device_list::publish(&state, &announced).await;
    revoke_sessions(
        &state.fanout,
        caller.user_id,
        &[device_id.0],
        "device revoked",
    )
    .await;
    tracing::info!(user_id = %caller.user_id, device_id = %device_id, "device revoked");
    Ok(HttpResponse::NoContent().finish())
}
