//! `DELETE /v1/conversations/{id}/join-link`: revoke the join link.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_api_types::ws::ConversationChange;
use passerelle_store::conversations;
use uuid::Uuid;

use super::{Access, Notes, Subject, atomically, publish};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Revoke the group's join link: the owner and admins. Idempotent (204
/// when there was none); every member gets `join_link_changed` when there
/// was one.
#[utoipa::path(
    delete, path = "/v1/conversations/{id}/join-link", operation_id = "revoke_join_link", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group")),
    responses(
        (status = 204, description = "Revoked (or there was none)"),
        (status = 403, description = "Not the owner or an admin (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "A direct conversation (`direct_conversation`) or a link room (`link_room`)", body = ErrorBody),
    )
)]
pub async fn revoke_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let events = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        let c = access.group()?;
        if !access.role()?.may_edit() {
            return Err(ApiError::Forbidden(
                "only the owner and admins manage the join link",
            ));
        }
        let mut notes = Notes::default();
        if c.join_token.is_some() {
            conversations::set_join_token(conn, id, None, now)?;
            notes.push(
                conversations::member_ids(conn, id)?,
                id,
                ConversationChange::JoinLinkChanged,
                Subject::by(me),
                now,
            )?;
        }
        Ok(notes.append(conn, now)?)
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::NoContent().finish())
}
