//! `GET /v1/me`: the caller's account.

use actix_web::{HttpResponse, web};
use passerelle_api_types::Me;
use passerelle_store::users;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's account.
#[utoipa::path(
    get, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, description = "The account", body = Me))
)]
pub async fn show(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let row = state
        .store
        .run(move |conn| users::find(conn, caller.user_id))
        .await?
        .ok_or(ApiError::Unauthorized("account deleted"))?;
    Ok(HttpResponse::Ok().json(super::to_api(row)))
}
