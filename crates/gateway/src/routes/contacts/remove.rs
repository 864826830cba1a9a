//! `DELETE /v1/contacts/{userId}`: remove a user from the caller's contacts.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_domain::UserId;
use passerelle_store::social;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::presence::PairChange;
use crate::state::AppState;

/// Remove a contact. The other user is not told.
#[utoipa::path(
    delete, path = "/v1/contacts/{userId}", operation_id = "remove_contact", tag = "social",
    security(("bearer" = [])),
    params(("userId" = Uuid, Path, description = "A user in the caller's contacts")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not one of the caller's contacts (`not_found`)", body = ErrorBody),
    )
)]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let them = UserId(path.into_inner());
    let removed = state
        .store
        .run(move |conn| social::remove_contact(conn, caller.user_id, them))
        .await?;
    if !removed {
        return Err(ApiError::NotFound);
    }
    // They may no longer see the caller's presence (`contacts`).
    state
        .presence
        .reannounce_pair(PairChange::ContactRemoved {
            owner: caller.user_id,
            contact: them,
        })
        .await;
    Ok(HttpResponse::NoContent().finish())
}
