//! `PATCH /v1/conversations/{id}`: change a group's settings, or the
//! disappearing-message timer of a group or direct conversation.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ws::{ConversationChange, ConversationEvent};
use passerelle_api_types::{Conversation, ErrorBody, UpdateConversationRequest};
use passerelle_domain::{ConversationKind, GroupTitle, check_member_cap};
use passerelle_store::conversations::{self, GroupChange};
use uuid::Uuid;

use super::{Access, Notes, Subject, add_policy, atomically, publish, view, visibility};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Change the title (`null` removes it), visibility, add policy or member
/// cap of a group: its owner and admins; every member gets `updated`. The
/// disappearing-message timer (`disappearSecs`, `null` for off) is set by a
/// group's owner and admins or by either member of a direct conversation;
/// every member gets `timer_changed`, and messages sent from then on expire
/// after it. A field equal to its current value, or an empty body, changes
/// nothing and tells no one.
#[utoipa::path(
    patch, path = "/v1/conversations/{id}", operation_id = "update_conversation", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group")),
    request_body = UpdateConversationRequest,
    responses(
        (status = 200, description = "The group after the change", body = Conversation),
        (status = 403, description = "Not the owner or an admin (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "A group setting on a direct conversation (`direct_conversation`), or a link room (`link_room`)", body = ErrorBody),
        (status = 422, description = "A malformed title, a member cap out of range or below the member count, or a timer out of range (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: web::Json<UpdateConversationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let max_cap = state.settings.conversations.max_member_cap;
    let change = GroupChange {
        title: body
            .title
            .map(|t| {
                t.as_deref()
                    .map(GroupTitle::parse)
                    .transpose()
                    .map(|t| t.map(GroupTitle::into_string))
            })
            .transpose()?,
        visibility: body.visibility.map(visibility),
        add_policy: body.add_policy.map(add_policy),
        member_cap: body
            .member_cap
            .map(|c| check_member_cap(c, max_cap))
            .transpose()?,
    };
    let timer = body.disappear_secs;
    if let Some(Some(secs)) = timer
        && !(1..=UpdateConversationRequest::MAX_DISAPPEAR_SECS).contains(&secs)
    {
        return Err(ApiError::Validation(format!(
            "disappearSecs: must be 1 to {} (or null for off)",
            UpdateConversationRequest::MAX_DISAPPEAR_SECS
        )));
    }
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, events) = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        if access.conversation.kind == ConversationKind::Direct && change.is_empty() {
            // Either member of a direct conversation sets its timer.
            access.role()?;
        } else {
            access.group()?;
            if !access.role()?.may_edit() {
                return Err(ApiError::Forbidden(
                    "only the owner and admins may change a group",
                ));
            }
        }
        if let Some(cap) = change.member_cap {
            let count = conversations::member_count(conn, id)?;
            if cap < count {
                return Err(ApiError::Validation(format!(
                    "memberCap: must be at least the member count ({count})"
                )));
            }
        }
        let mut notes = Notes::default();
        if let Some(secs) = timer
            && secs != access.conversation.disappear_secs
        {
            conversations::set_timer(conn, id, secs, now)?;
            // Members who block the caller are not told who changed it (a
            // timer change must not be a way to reach someone who blocked
            // you); they see the new timer on the conversation.
            let members = conversations::member_ids(conn, id)?;
            let blockers = passerelle_store::social::blocks_between(conn, &members, &[me])?;
            notes.push_event(
                members
                    .into_iter()
                    .filter(|u| !blockers.contains(&(*u, me)))
                    .collect(),
                ConversationEvent {
                    conversation_id: id,
                    change: ConversationChange::TimerChanged,
                    user_id: None,
                    actor_id: Some(me.0),
                    role: None,
                    disappear_secs: secs,
                    at: now,
                },
            )?;
        }
        if !change.is_empty() {
            conversations::update(conn, id, &change, now)?;
            notes.push(
                conversations::member_ids(conn, id)?,
                id,
                ConversationChange::Updated,
                Subject::by(me),
                now,
            )?;
        }
        let events = notes.append(conn, now)?;
        let c = conversations::find(conn, id)?.ok_or(ApiError::NotFound)?;
        Ok((view(conn, &c, me, access.membership)?, events))
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::Ok().json(conversation))
}
