//! `DELETE /v1/conversations/{id}/members/{userId}`: leave a group, or
//! remove a member.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_api_types::ws::ConversationChange;
use passerelle_domain::{Role, UserId};
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Access, Notes, Subject, atomically, publish};
use crate::state::AppState;

/// With the caller's own id: leave. The owner must first hand ownership to
/// another member (409 `owner_must_transfer`) unless they are the last
/// member, in which case the group is deleted. With another member's id:
/// remove them; the owner removes anyone, an admin only plain members.
/// The remaining members and the user who left (or was removed) get
/// `member_left` (or `member_removed`).
#[utoipa::path(
    delete, path = "/v1/conversations/{id}/members/{userId}", operation_id = "remove_member", tag = "conversations",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The group"),
        ("userId" = Uuid, Path, description = "The member to remove, or the caller to leave"),
    ),
    responses(
        (status = 204, description = "Left, or removed"),
        (status = 403, description = "Not allowed to remove this member (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller, or no such member (`not_found`)", body = ErrorBody),
        (status = 409, description = "The owner leaving while others remain (`owner_must_transfer`), a direct conversation (`direct_conversation`), a link room (`link_room`)", body = ErrorBody),
    )
)]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, target) = path.into_inner();
    let target = UserId(target);
    let me = caller.user_id;
    let now = passerelle_store::now();
    let events = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        access.group()?;
        let mut notes = Notes::default();
        if target == me {
            let my_role = access
                .membership
                .map(|m| m.role)
                .ok_or(ApiError::NotFound)?;
            let count = conversations::member_count(conn, id)?;
            if my_role == Role::Owner && count > 1 {
                return Err(ApiError::OwnerMustTransfer);
            }
            conversations::remove_member(conn, id, me)?;
            let mut to = conversations::member_ids(conn, id)?;
            if to.is_empty() {
                conversations::delete(conn, id)?;
            }
            to.push(me);
            notes.push(
                to,
                id,
                ConversationChange::MemberLeft,
                Subject::of(me, me),
                now,
            )?;
        } else {
            let my_role = access.role()?;
            if !my_role.is_manager() {
                return Err(ApiError::Forbidden(
                    "only the owner and admins remove members",
                ));
            }
            let theirs = conversations::membership(conn, id, target)?.ok_or(ApiError::NotFound)?;
            if !my_role.may_remove(theirs.role) {
                return Err(ApiError::Forbidden(
                    "admins remove plain members only; the owner removes anyone",
                ));
            }
            conversations::remove_member(conn, id, target)?;
            let mut to = conversations::member_ids(conn, id)?;
            to.push(target);
            notes.push(
                to,
                id,
                ConversationChange::MemberRemoved,
                Subject::of(target, me),
                now,
            )?;
        }
        Ok(notes.append(conn, now)?)
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::NoContent().finish())
}
