//! `POST /v1/invites/{conversationId}/decline`: decline an invitation.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_api_types::ws::ConversationChange;
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Notes, Subject, atomically, publish};
use crate::state::AppState;

/// Decline a pending invitation. `invite_declined` goes to the inviter's
/// devices and the caller's own (so their other devices drop it), not to
/// the other members.
#[utoipa::path(
    post, path = "/v1/invites/{conversationId}/decline", operation_id = "decline_invite", tag = "conversations",
    security(("bearer" = [])),
    params(("conversationId" = Uuid, Path, description = "The group the caller is invited to")),
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "No pending invitation to this conversation (`not_found`)", body = ErrorBody),
    )
)]
pub async fn decline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let events = atomically(&state, move |conn| {
        let invite = conversations::take_invite(conn, id, me)?.ok_or(ApiError::NotFound)?;
        let mut notes = Notes::default();
        notes.push(
            vec![invite.inviter_id, me],
            id,
            ConversationChange::InviteDeclined,
            Subject::of(me, me),
            now,
        )?;
        Ok(notes.append(conn, now)?)
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::NoContent().finish())
}
