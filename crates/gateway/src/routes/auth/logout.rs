//! `POST /v1/auth/logout`: revoke the calling device.

use actix_web::{HttpResponse, web};
use passerelle_store::devices;

use crate::authn::Caller;
use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::routing::events::revoke_sessions;
use crate::state::AppState;

/// Log out: revokes the calling device (its refresh tokens are deleted and
/// its access tokens refused from now on).
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "The device is revoked"))
)]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let now = passerelle_store::now();
    let announced = state
        .store
        .transaction(move |conn| {
            if !devices::revoke(conn, caller.user_id, caller.device_id, now)? {
                return Ok(Vec::new());
            }
            device_list::announce(
                conn,
                caller.user_id,
                &[Change::revoked(caller.device_id)],
                now,
            )
        })
        .await?;
    device_list::publish(&state, &announced).await;
    revoke_sessions(
        &state.fanout,
        caller.user_id,
        &[caller.device_id.0],
        "logged out",
    )
    .await;
    tracing::info!(user_id = %caller.user_id, device_id = %caller.device_id, "logged out");
    Ok(HttpResponse::NoContent().finish())
}
