//! `GET /v1/game-invites/{messageId}`: one game invitation.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, GameInvite};
use passerelle_store::games;
use uuid::Uuid;

use super::to_api;
use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::reading;
use crate::state::AppState;

/// The invitation made by the `game_invite` message `messageId`, for its
/// inviter or its invitee. A pending invitation past `expiresAt` reads as
/// `expired` even before the sweep marks it.
#[utoipa::path(
    get, path = "/v1/game-invites/{messageId}", operation_id = "show_game_invite", tag = "conversations",
    security(("bearer" = [])),
    params(("messageId" = Uuid, Path, description = "The inviter's `messageId` of the `game_invite` message")),
    responses(
        (status = 200, description = "The invitation", body = GameInvite),
        (status = 404, description = "No invitation the caller may know of: an unknown id, someone else's, or one withheld from the caller (`not_found`)", body = ErrorBody),
    )
)]
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let invite = reading(&state, move |conn| {
        games::find(conn, id)?
            .filter(|g| g.visible_to(me))
            .ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(to_api(&invite, passerelle_store::now())))
}
