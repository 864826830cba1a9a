//! `POST /v1/me/password`: change the password.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ChangePasswordRequest, ErrorBody};
use passerelle_domain::Password;
use passerelle_store::{devices, users};

use super::confirm::confirm_password;
use crate::authn::Caller;
use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::routing::events::revoke_sessions;
use crate::state::AppState;

/// Change the password. Unless `keepOtherDevices` is true, every other device
/// of the account is revoked; the calling device stays signed in.
#[utoipa::path(
    post, path = "/v1/me/password", tag = "account",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Wrong current password (`wrong_password`), or an account without a password (`forbidden`)", body = ErrorBody),
        (status = 422, description = "The new password breaks a rule (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many password checks (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let current = Password::offered(body.current_password)?;
    let new = Password::new_secret(body.new_password)?;
    if !confirm_password(&state, caller, Some(current)).await? {
        return Err(ApiError::Forbidden(
            "this account has no password; it signs in through an identity provider",
        ));
    }
    let hash = state.hasher.hash(&new).await?;
    let now = passerelle_store::now();
    let keep = body.keep_other_devices;
    let (revoked, announced) = state
        .store
        .transaction(move |conn| {
            users::set_password_hash(conn, caller.user_id, &hash, now)?;
            if keep {
                return Ok((Vec::new(), Vec::new()));
            }
            let revoked = devices::revoke_all_except(conn, caller.user_id, caller.device_id, now)?;
            let changes: Vec<Change> = revoked.iter().map(|d| Change::revoked(*d)).collect();
            let announced = device_list::announce(conn, caller.user_id, &changes, now)?;
            Ok((revoked, announced))
        })
        .await?;
    device_list::publish(&state, &announced).await;
    if !revoked.is_empty() {
        let ids: Vec<uuid::Uuid> = revoked.iter().map(|d| d.0).collect();
        revoke_sessions(&state.fanout, caller.user_id, &ids, "password changed").await;
    }
    tracing::info!(user_id = %caller.user_id, revoked_devices = revoked.len(), "password changed");
    Ok(HttpResponse::NoContent().finish())
}
