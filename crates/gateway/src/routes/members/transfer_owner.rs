//! `POST /v1/conversations/{id}/owner`: hand ownership to another member.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ws::ConversationChange;
use passerelle_api_types::{Conversation, ErrorBody, TransferOwnershipRequest};
use passerelle_domain::{Role, UserId};
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Access, Notes, Subject, atomically, publish, view};
use crate::state::AppState;

/// The owner makes another member the owner and becomes an admin. Every
/// member gets `owner_transferred`.
#[utoipa::path(
    post, path = "/v1/conversations/{id}/owner", operation_id = "transfer_ownership", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group")),
    request_body = TransferOwnershipRequest,
    responses(
        (status = 200, description = "The group, seen by the caller (now an admin)", body = Conversation),
        (status = 403, description = "Not the owner (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller, or `userId` is not a member (`not_found`)", body = ErrorBody),
        (status = 409, description = "A direct conversation (`direct_conversation`) or a link room (`link_room`)", body = ErrorBody),
        (status = 422, description = "The caller's own id (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn transfer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: web::Json<TransferOwnershipRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let target = UserId(body.into_inner().user_id);
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, events) = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        let c = access.group()?.clone();
        if access.role()? != Role::Owner {
            return Err(ApiError::Forbidden("only the owner hands over ownership"));
        }
        if target == me {
            return Err(ApiError::Validation(
                "userId: you already own this group".into(),
            ));
        }
        conversations::membership(conn, id, target)?.ok_or(ApiError::NotFound)?;
        conversations::set_role(conn, id, target, Role::Owner)?;
        conversations::set_role(conn, id, me, Role::Admin)?;
        let mut notes = Notes::default();
        notes.push(
            conversations::member_ids(conn, id)?,
            id,
            ConversationChange::OwnerTransferred,
            Subject::of(target, me).with_role(Role::Owner),
            now,
        )?;
        let events = notes.append(conn, now)?;
        let membership = conversations::membership(conn, id, me)?;
        Ok((view(conn, &c, me, membership)?, events))
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::Ok().json(conversation))
}
