//! `POST /v1/message-requests/{conversationId}/accept`: accept a request.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Conversation, ErrorBody};
use passerelle_store::conversations;
use uuid::Uuid;

use super::accept_now;
use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{atomically, publish, view};
use crate::state::AppState;

/// Accept a message request to the caller, pending or declined: the
/// conversation becomes an ordinary one, and both users' devices get
/// `request_accepted`. Messages withheld while it was declined stay
/// withheld.
#[utoipa::path(
    post, path = "/v1/message-requests/{conversationId}/accept", operation_id = "accept_message_request", tag = "conversations",
    security(("bearer" = [])),
    params(("conversationId" = Uuid, Path, description = "The direct conversation that is a request to the caller")),
    responses(
        (status = 200, description = "Accepted: the conversation as the caller now sees it", body = Conversation),
        (status = 404, description = "No request to the caller for this conversation: an unknown id, someone else's request, the caller's own request, or one already accepted (`not_found`)", body = ErrorBody),
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, events) = atomically(&state, move |conn| {
        let events = accept_now(conn, id, me, now)?.ok_or(ApiError::NotFound)?;
        let c = conversations::find(conn, id)?.ok_or(ApiError::NotFound)?;
        let membership = conversations::membership(conn, id, me)?;
        Ok((view(conn, &c, me, membership)?, events))
    })
    .await?;
    publish(&state, &events).await;
    Ok(HttpResponse::Ok().json(conversation))
}
