//! `POST /v1/message-requests/{conversationId}/decline`: decline a request.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_api_types::ws::ConversationChange;
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Notes, Subject, atomically, publish};
use crate::state::AppState;

/// Decline a pending message request to the caller: it leaves the inbox,
/// and the requester's later messages in the conversation are withheld
/// from the caller (the requester still gets ordinary acknowledgements and
/// is told nothing). `request_declined` goes to the caller's devices only.
/// Declining again answers 204 and changes nothing; sending a message in
/// the conversation, adding the requester as a contact or accepting undoes
/// it.
#[utoipa::path(
    post, path = "/v1/message-requests/{conversationId}/decline", operation_id = "decline_message_request", tag = "conversations",
    security(("bearer" = [])),
    params(("conversationId" = Uuid, Path, description = "The direct conversation that is a request to the caller")),
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "No request to the caller for this conversation: an unknown id, someone else's request, the caller's own request, or one already accepted (`not_found`)", body = ErrorBody),
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
        let (request, changed) =
            conversations::decline_request(conn, id, me, now)?.ok_or(ApiError::NotFound)?;
        let mut notes = Notes::default();
        if changed {
            notes.push(
                vec![me],
                id,
                ConversationChange::RequestDeclined,
                Subject::of(request.requester_id, me),
                now,
            )?;
        }
        Ok(notes.append(conn, now)?)
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::NoContent().finish())
}
