//! `DELETE /v1/conversations/{conversation_id}/messages/{message_id}`: the
//! sender retracts a message.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_api_types::ws::{DeletionReason, MessageDeleted};
use passerelle_store::history::{self, Retraction};
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routing::events::publish_stored;
use crate::state::AppState;

/// Retracts one of the caller's own messages (by its `messageId`) within
/// `conversations.retract_window_secs` of sending it: the message and its
/// stream events are deleted, and every member's devices get a `deleted`
/// event (a message withheld by a block: the sender's devices only). It is
/// gone from history at once.
#[utoipa::path(
    delete, path = "/v1/conversations/{conversation_id}/messages/{message_id}",
    operation_id = "retract_message", tag = "conversations",
    security(("bearer" = [])),
    params(
        ("conversation_id" = Uuid, Path, description = "The conversation"),
        ("message_id" = Uuid, Path, description = "The sender's `messageId`"),
    ),
    responses(
        (status = 204, description = "Retracted"),
        (status = 403, description = "Another member's message (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such message in a conversation of the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "Older than the retraction window (`retract_window_passed`)", body = ErrorBody),
    )
)]
pub async fn retract(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, message_id) = path.into_inner();
    let now = passerelle_store::now();
    let window = chrono::Duration::seconds(
        i64::try_from(state.settings.conversations.retract_window_secs).unwrap_or(i64::MAX / 1000),
    );
    let payload = serde_json::to_string(&MessageDeleted {
        conversation_id: conversation,
        message_id,
        reason: DeletionReason::Retracted,
        at: now,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = caller.user_id;
    let outcome = state
        .store
        .transaction(move |conn| {
            history::retract(conn, conversation, user, message_id, window, now, payload)
        })
        .await?;
    match outcome {
        Retraction::Done(events) => {
            publish_stored(&state.fanout, &events).await;
            Ok(HttpResponse::NoContent().finish())
        }
        Retraction::NotFound => Err(ApiError::NotFound),
        Retraction::NotSender => Err(ApiError::Forbidden("only its sender can retract a message")),
        Retraction::TooLate => Err(ApiError::RetractWindowPassed),
    }
}
