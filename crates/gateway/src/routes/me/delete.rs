//! `DELETE /v1/me`: delete the account.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{DeleteAccountRequest, ErrorBody};
use passerelle_domain::Password;
use passerelle_store::users;

use super::confirm::confirm_password;
use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{atomically, depart_all, publish};
use crate::routing::events::revoke_sessions;
use crate::state::AppState;

/// Delete the account and every row about it (devices, tokens). Accounts
/// with a password must confirm it in the body; accounts from an external
/// identity provider send `{}`. The account leaves its groups first: a
/// group it owned passes to its longest-standing admin (else member), one
/// it was alone in is deleted.
#[utoipa::path(
    delete, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Missing or wrong password (`wrong_password`)", body = ErrorBody),
        (status = 429, description = "Too many password checks (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let offered = body
        .into_inner()
        .password
        .map(Password::offered)
        .transpose()?;
    confirm_password(&state, caller, offered).await?;
    let now = passerelle_store::now();
    let events = atomically(&state, move |conn| {
        let events = depart_all(conn, caller.user_id, now)?;
        users::delete(conn, caller.user_id)?;
        Ok(events)
    })
    .await?;
    publish(&state, &events).await;
    revoke_sessions(&state.fanout, caller.user_id, &[], "account deleted").await;
    tracing::info!(user_id = %caller.user_id, "account deleted");
    Ok(HttpResponse::NoContent().finish())
}
