//! `POST /v1/conversations/{id}/members`: bring a user into a group.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ws::ConversationChange;
use passerelle_api_types::{AddMemberRequest, AddMemberResponse, AddOutcome, ErrorBody};
use passerelle_domain::{AddPolicy, Role, UserId};
use passerelle_store::{conversations, social, users};
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Access, Notes, Subject, atomically, check_room, publish};
use crate::state::AppState;

/// Bring `userId` into a group according to its add policy. `direct`: the
/// owner and admins add them at once (201 `added`; every member, the new
/// one included, gets `member_added`). `invite`: any member invites them
/// (201 `invited`; the members and the invitee get `member_invited`; 200
/// when an invitation is already pending, which is kept). A user who
/// blocks the caller, or whom the caller blocks, is the same 404 as an
/// unknown id.
#[utoipa::path(
    post, path = "/v1/conversations/{id}/members", operation_id = "add_member", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added, or invited", body = AddMemberResponse),
        (status = 200, description = "Already invited", body = AddMemberResponse),
        (status = 403, description = "Not a member, or a plain member of a group whose add policy is `direct` (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller; or no such user, or a block between the two (`not_found`)", body = ErrorBody),
        (status = 409, description = "Already a member (`already_member`), the group is full (`member_cap_reached`), a direct conversation (`direct_conversation`), a link room (`link_room`)", body = ErrorBody),
    )
)]
pub async fn add(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: web::Json<AddMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let them = UserId(body.into_inner().user_id);
    let now = passerelle_store::now();
    let (answer, created, events) = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        let c = access.group()?.clone();
        if !access.role()?.may_add(c.add_policy) {
            return Err(ApiError::Forbidden(
                "only the owner and admins add members to this group",
            ));
        }
        // Membership is visible to members, so say so before anything
        // that could reveal a block.
        if them == me || conversations::membership(conn, id, them)?.is_some() {
            return Err(ApiError::AlreadyMember);
        }
        if users::existing(conn, &[them])?.is_empty()
            || !social::blocked_pairs(conn, me, &[them])?.is_empty()
        {
            return Err(ApiError::NotFound);
        }
        check_room(conn, &c)?;
        let mut notes = Notes::default();
        let (outcome, at, created) = match c.add_policy {
            AddPolicy::Direct => {
                conversations::add_member(conn, id, them, Role::Member, now)?;
                conversations::take_invite(conn, id, them)?;
                notes.push(
                    conversations::member_ids(conn, id)?,
                    id,
                    ConversationChange::MemberAdded,
                    Subject::of(them, me).with_role(Role::Member),
                    now,
                )?;
                (AddOutcome::Added, now, true)
            }
            AddPolicy::Invite => {
                let (invite, created) = conversations::invite(conn, id, them, me, now)?;
                if created {
                    let mut to = conversations::member_ids(conn, id)?;
                    to.push(them);
                    notes.push(
                        to,
                        id,
                        ConversationChange::MemberInvited,
                        Subject::of(them, me),
                        now,
                    )?;
                }
                (AddOutcome::Invited, invite.created_at, created)
            }
        };
        let answer = AddMemberResponse {
            user_id: them.0,
            outcome,
            at,
        };
        Ok((answer, created, notes.append(conn, now)?))
    })
    .await?;
    publish(&state, &events).await;
    Ok(if created {
        HttpResponse::Created().json(answer)
    } else {
        HttpResponse::Ok().json(answer)
    })
}
