//! `DELETE /v1/blocks/{userId}`: lift a block.

use actix_web::{HttpResponse, web};
use passerelle_domain::UserId;
use passerelle_store::social;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::presence::PairChange;
use crate::state::AppState;

/// Lift a block. Idempotent, like `PUT`: 204 whether or not the user was
/// blocked (or exists), so the pair behaves as set and unset.
#[utoipa::path(
    delete, path = "/v1/blocks/{userId}", operation_id = "unblock_user", tag = "social",
    security(("bearer" = [])),
    params(("userId" = Uuid, Path, description = "A user the caller blocks")),
    responses((status = 204, description = "Not blocked (any more)"))
)]
pub async fn unblock(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let them = UserId(path.into_inner());
    let unblocked = state
        .store
        .run(move |conn| social::unblock(conn, caller.user_id, them))
        .await?;
    if unblocked {
        // What each may see of the other's presence again.
        state
            .presence
            .reannounce_pair(PairChange::Unblocked {
                blocker: caller.user_id,
                blocked: them,
            })
            .await;
    }
    Ok(HttpResponse::NoContent().finish())
}
