//! `PUT /v1/devices/current/registration`: re-register the calling device.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Device, ErrorBody, ReregisterRequest};
use passerelle_domain::RegistrationId;
use passerelle_store::devices;

use crate::authn::Caller;
use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::state::AppState;

/// Re-register the calling device after its encryption state was reset:
/// it gets a new registration number (the one given, or one the server
/// picks), and the device's owner (other devices), everyone who shares a
/// conversation with them and everyone who has them as a contact get a
/// `devices` event (`reregistered`). From then on, per-device messages
/// made for the old number are refused as `stale`. Only the device itself
/// can do this: it is the one whose state changed. Giving the current
/// number changes nothing and announces nothing.
#[utoipa::path(
    put, path = "/v1/devices/current/registration", operation_id = "reregister_device", tag = "devices",
    security(("bearer" = [])),
    request_body = ReregisterRequest,
    responses(
        (status = 200, description = "The device with its registration number", body = Device),
        (status = 401, description = "Missing, expired or revoked token (`unauthorized`)", body = ErrorBody),
        (status = 422, description = "`registrationId` out of range (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn reregister(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReregisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let to = body
        .registration_id
        .map(|r| RegistrationId::parse(u64::from(r)))
        .transpose()?;
    let now = passerelle_store::now();
    let (row, changed, announced) = state
        .store
        .transaction(move |conn| {
            let Some((row, changed)) =
                devices::reregister(conn, caller.user_id, caller.device_id, to)?
            else {
                return Ok(None);
            };
            let announced = if changed {
                device_list::announce(
                    conn,
                    caller.user_id,
                    &[Change::reregistered(row.id, row.registration_id)],
                    now,
                )?
            } else {
                Vec::new()
            };
            Ok(Some((row, changed, announced)))
        })
        .await?
        // The caller's token was checked against an active device; it was
        // revoked in between.
        .ok_or(ApiError::Unauthorized("device revoked"))?;
    device_list::publish(&state, &announced).await;
    tracing::info!(user_id = %caller.user_id, device_id = %caller.device_id, changed, "device re-registered");
    Ok(HttpResponse::Ok().json(super::to_api(row, caller.device_id)))
}
