//! `PUT /v1/conversations/{id}/members/{userId}/role`: promote or demote a
//! member.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ws::ConversationChange;
use passerelle_api_types::{AssignableRole, ErrorBody, Member, SetRoleRequest};
use passerelle_domain::{Role, UserId};
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Access, Notes, Subject, atomically, publish};
use crate::state::AppState;

/// Make a member an admin, or an admin a plain member: the owner only.
/// Every member gets `role_changed` (not when the role was already that).
#[utoipa::path(
    put, path = "/v1/conversations/{id}/members/{userId}/role", operation_id = "set_member_role", tag = "conversations",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The group"),
        ("userId" = Uuid, Path, description = "A member other than the owner"),
    ),
    request_body = SetRoleRequest,
    responses(
        (status = 200, description = "The member with the new role", body = Member),
        (status = 403, description = "Not the owner (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller, or no such member (`not_found`)", body = ErrorBody),
        (status = 409, description = "A direct conversation (`direct_conversation`) or a link room (`link_room`)", body = ErrorBody),
        (status = 422, description = "The owner's own role: hand over ownership instead (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn set_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<SetRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, target) = path.into_inner();
    let target = UserId(target);
    let role = match body.into_inner().role {
        AssignableRole::Admin => Role::Admin,
        AssignableRole::Member => Role::Member,
    };
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (member, events) = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        access.group()?;
        if !access.role()?.may_assign_roles() {
            return Err(ApiError::Forbidden("only the owner changes roles"));
        }
        if target == me {
            return Err(ApiError::Validation(
                "userId: the owner's role changes only by handing over ownership".into(),
            ));
        }
        let mut theirs = conversations::membership(conn, id, target)?.ok_or(ApiError::NotFound)?;
        let mut notes = Notes::default();
        if theirs.role != role {
            conversations::set_role(conn, id, target, role)?;
            theirs.role = role;
            notes.push(
                conversations::member_ids(conn, id)?,
                id,
                ConversationChange::RoleChanged,
                Subject::of(target, me).with_role(role),
                now,
            )?;
        }
        let member = super::member(conn, target, theirs)?;
        Ok((member, notes.append(conn, now)?))
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::Ok().json(member))
}
