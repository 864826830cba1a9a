//! `PUT /v1/blocks/{userId}`: block a user.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_domain::UserId;
use passerelle_store::social;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::presence::PairChange;
use crate::state::AppState;

/// Block a user. Idempotent: blocking again changes nothing (the first
/// block's time is kept). Works whether or not they blocked the caller, so
/// the answer reveals nothing about their blocks.
#[utoipa::path(
    put, path = "/v1/blocks/{userId}", operation_id = "block_user", tag = "social",
    security(("bearer" = [])),
    params(("userId" = Uuid, Path, description = "The user to block")),
    responses(
        (status = 204, description = "Blocked (or already was)"),
        (status = 404, description = "No such user (`not_found`)", body = ErrorBody),
        (status = 422, description = "The caller themself (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn block(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let them = UserId(path.into_inner());
    if them == caller.user_id {
        return Err(ApiError::Validation("you cannot block yourself".into()));
    }
    let now = passerelle_store::now();
    // An unknown id fails the foreign key: `NotFound`, i.e. 404. Who
    // blocks whom is not logged.
    let blocked = state
        .store
        .run(move |conn| social::block(conn, caller.user_id, them, now))
        .await?;
    if blocked {
        // Neither sees the other's presence any more.
        state
            .presence
            .reannounce_pair(PairChange::Blocked {
                blocker: caller.user_id,
                blocked: them,
            })
            .await;
    }
    Ok(HttpResponse::NoContent().finish())
}
