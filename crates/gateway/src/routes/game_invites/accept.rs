//! `POST /v1/game-invites/{messageId}/accept`.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, GameInvite};
use passerelle_store::games::GameState;
use uuid::Uuid;

use super::{Party, decide};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Accept a pending invitation (the invitee only): `accepted`, and a `game` event on both users' devices.
#[utoipa::path(
    post, path = "/v1/game-invites/{messageId}/accept", operation_id = "accept_game_invite", tag = "conversations",
    security(("bearer" = [])),
    params(("messageId" = Uuid, Path, description = "The inviter's `messageId` of the `game_invite` message")),
    responses(
        (status = 200, description = "The invitation in its new state", body = GameInvite),
        (status = 403, description = "The caller is the inviter (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No invitation the caller may know of (`not_found`)", body = ErrorBody),
        (status = 409, description = "No longer pending: answered, cancelled or expired (`invite_not_pending`)", body = ErrorBody),
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let invite = decide(
        &state,
        caller.user_id,
        path.into_inner(),
        Party::Invitee,
        GameState::Accepted,
    )
    .await?;
    Ok(HttpResponse::Ok().json(invite))
}
