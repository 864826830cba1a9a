//! `POST /v1/conversations/{id}/join-link`: a new join link.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ws::ConversationChange;
use passerelle_api_types::{ErrorBody, JoinLink};
use passerelle_store::conversations;
use uuid::Uuid;

use super::{Access, Notes, Subject, atomically, publish};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Create the group's join link, replacing (and so revoking) the previous
/// one: the owner and admins. The token is a random UUID (v4); whoever
/// holds it may join with `POST /v1/join/{token}`. Every member gets
/// `join_link_changed` (without the token).
#[utoipa::path(
    post, path = "/v1/conversations/{id}/join-link", operation_id = "create_join_link", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group")),
    responses(
        (status = 201, description = "The new join link", body = JoinLink),
        (status = 403, description = "Not the owner or an admin (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "A direct conversation (`direct_conversation`) or a link room (`link_room`)", body = ErrorBody),
    )
)]
pub async fn create_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (token, events) = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        access.group()?;
        if !access.role()?.may_edit() {
            return Err(ApiError::Forbidden(
                "only the owner and admins manage the join link",
            ));
        }
        let token = Uuid::new_v4();
        conversations::set_join_token(conn, id, Some(token), now)?;
        let mut notes = Notes::default();
        notes.push(
            conversations::member_ids(conn, id)?,
            id,
            ConversationChange::JoinLinkChanged,
            Subject::by(me),
            now,
        )?;
        Ok((token, notes.append(conn, now)?))
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::Created().json(JoinLink { token }))
}
