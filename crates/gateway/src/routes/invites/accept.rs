//! `POST /v1/invites/{conversationId}/accept`: accept an invitation.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Conversation, ErrorBody};
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{atomically, join_now, publish};
use crate::state::AppState;

/// Accept a pending invitation: the caller becomes a member and every
/// member gets `member_joined`. A full group refuses (409) and the
/// invitation stays.
#[utoipa::path(
    post, path = "/v1/invites/{conversationId}/accept", operation_id = "accept_invite", tag = "conversations",
    security(("bearer" = [])),
    params(("conversationId" = Uuid, Path, description = "The group the caller is invited to")),
    responses(
        (status = 200, description = "A member now", body = Conversation),
        (status = 404, description = "No pending invitation to this conversation (`not_found`)", body = ErrorBody),
        (status = 409, description = "The group is full (`member_cap_reached`)", body = ErrorBody),
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, events) = atomically(&state, move |conn| {
        let c = conversations::lock(conn, id)?.ok_or(ApiError::NotFound)?;
        conversations::find_invite(conn, id, me)?.ok_or(ApiError::NotFound)?;
        join_now(conn, &c, me, now)
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::Ok().json(conversation))
}
