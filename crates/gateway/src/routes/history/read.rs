//! `PUT /v1/conversations/{conversation_id}/read`: a member marks a
//! conversation read up to a message.

use actix_web::{HttpResponse, web};
use passerelle_api_types::ws::ReadEvent;
use passerelle_api_types::{ErrorBody, MarkReadRequest, ReadMarker};
use passerelle_store::read_markers::{self, Marker, Marking};
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routing::events::publish_stored;
use crate::state::AppState;

/// Moves the caller's read marker to `serverId`, a message of the
/// conversation they can see (as in their history). Markers only move
/// forward: an older or equal one changes nothing and answers the current
/// marker. When it moves, a `read` event goes to the caller's devices and,
/// in a direct conversation, to the peer's (unless the caller turned
/// `readReceipts` off, a block stands either way, or it is a message
/// request), and the peer's messages up to it become read. Group members
/// are not told.
#[utoipa::path(
    put, path = "/v1/conversations/{conversation_id}/read",
    operation_id = "mark_read", tag = "conversations",
    security(("bearer" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation")),
    request_body = MarkReadRequest,
    responses(
        (status = 200, description = "The caller's marker (moved, or where it already stood)", body = ReadMarker),
        (status = 404, description = "Not a member, or no such message the caller can see in it (`not_found`)", body = ErrorBody),
    )
)]
pub async fn read(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: web::Json<MarkReadRequest>,
) -> Result<HttpResponse, ApiError> {
    let conversation = path.into_inner();
    let up_to = body.into_inner().server_id;
    let now = passerelle_store::now();
    let user = caller.user_id;
    let payload = serde_json::to_string(&ReadEvent {
        conversation_id: conversation,
        user_id: user.0,
        up_to,
        at: now,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let outcome = state
        .store
        .transaction(move |conn| read_markers::mark(conn, conversation, user, up_to, now, payload))
        .await?;
    let marker = match outcome {
        Marking::NotFound => return Err(ApiError::NotFound),
        Marking::Unchanged(marker) => marker,
        Marking::Moved { marker, events } => {
            publish_stored(&state.fanout, &events).await;
            marker
        }
    };
    Ok(HttpResponse::Ok().json(to_api(conversation, marker)))
}

fn to_api(conversation: Uuid, m: Marker) -> ReadMarker {
    ReadMarker {
        conversation_id: conversation,
        up_to: m.up_to,
        read_at: m.read_at,
    }
}
