//! `GET /v1/devices`: the caller's active devices.

use actix_web::{HttpResponse, web};
use passerelle_api_types::DeviceList;
use passerelle_store::devices;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// List the caller's active devices, oldest first.
#[utoipa::path(
    get, path = "/v1/devices", tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, description = "Active devices", body = DeviceList))
)]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let rows = state
        .store
        .run(move |conn| devices::list_active(conn, caller.user_id))
        .await?;
    let devices = rows
        .into_iter()
        .map(|row| super::to_api(row, caller.device_id))
        .collect();
    Ok(HttpResponse::Ok().json(DeviceList { devices }))
}
