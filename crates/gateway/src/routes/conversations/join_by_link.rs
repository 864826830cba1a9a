//! `POST /v1/join/{token}`: join a group by its join link.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Conversation, ErrorBody};
use passerelle_domain::ConversationKind;
use passerelle_store::conversations;
use uuid::Uuid;

use super::{atomically, join_now, publish, view};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Join the group whose current join link is `token` (private or public),
/// like an accepted invitation: 201 when joined now, 200 when already a
/// member. An unknown, replaced or revoked token is 404. Every member gets
/// `member_joined`.
#[utoipa::path(
    post, path = "/v1/join/{token}", operation_id = "join_by_link", tag = "conversations",
    security(("bearer" = [])),
    params(("token" = Uuid, Path, description = "The join link's token")),
    responses(
        (status = 201, description = "Joined", body = Conversation),
        (status = 200, description = "Already a member", body = Conversation),
        (status = 404, description = "No group has this join link (`not_found`)", body = ErrorBody),
        (status = 409, description = "The group is full (`member_cap_reached`)", body = ErrorBody),
    )
)]
pub async fn join_by_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, events) = atomically(&state, move |conn| {
        let found = conversations::find_by_join_token(conn, token)?.ok_or(ApiError::NotFound)?;
        // Under the lock, the link must still be this one (not replaced or
        // revoked since it was read).
        let c = conversations::lock(conn, found.id)?
            .filter(|c| c.kind == ConversationKind::Group && c.join_token == Some(token))
            .ok_or(ApiError::NotFound)?;
        if let Some(membership) = conversations::membership(conn, c.id, me)? {
            return Ok((view(conn, &c, me, Some(membership))?, None));
        }
        let (conversation, events) = join_now(conn, &c, me, now)?;
        Ok((conversation, Some(events)))
    })
    .await?;
    match events {
        Some(events) => {
            publish(&state, &events).await;
            Ok(HttpResponse::Created().json(conversation))
        }
        None => Ok(HttpResponse::Ok().json(conversation)),
    }
}
