//! `PATCH /v1/devices/{deviceId}`: rename one of the caller's devices.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Device, ErrorBody, RenameDeviceRequest};
use passerelle_domain::{DeviceId, DeviceName};
use passerelle_store::devices;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Rename one of the caller's active devices.
#[utoipa::path(
    patch, path = "/v1/devices/{deviceId}", tag = "devices",
    security(("bearer" = [])),
    params(("deviceId" = Uuid, Path, description = "One of the caller's devices")),
    request_body = RenameDeviceRequest,
    responses(
        (status = 200, description = "The renamed device", body = Device),
        (status = 404, description = "No such active device of the caller (`not_found`)", body = ErrorBody),
        (status = 422, description = "Invalid name (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn rename(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: web::Json<RenameDeviceRequest>,
) -> Result<HttpResponse, ApiError> {
    let device_id = DeviceId(path.into_inner());
    let name = DeviceName::parse(&body.name)?;
    let row = state
        .store
        .run(move |conn| devices::rename(conn, caller.user_id, device_id, name.as_str()))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(super::to_api(row, caller.device_id)))
}
