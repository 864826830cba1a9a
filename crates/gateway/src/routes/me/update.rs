//! `PATCH /v1/me`: change the display name.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, Me, UpdateMeRequest};
use passerelle_domain::DisplayName;
use passerelle_store::users;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Set or clear (`null`) the display name.
#[utoipa::path(
    patch, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account", body = Me),
        (status = 422, description = "Invalid display name (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let name = body
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?
        .map(DisplayName::into_string);
    let now = passerelle_store::now();
    let row = state
        .store
        .run(move |conn| users::set_display_name(conn, caller.user_id, name.as_deref(), now))
        .await?
        .ok_or(ApiError::Unauthorized("account deleted"))?;
    Ok(HttpResponse::Ok().json(super::to_api(row)))
}
