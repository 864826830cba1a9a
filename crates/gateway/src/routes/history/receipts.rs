//! `GET /v1/conversations/{conversation_id}/messages/{message_id}/receipts`:
//! the sender of a message asks how far it got (delivered to and read by
//! how many of its recipients, and who in small conversations).

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, MessageReceipts, ReachState, RecipientReceipt};
use passerelle_store::receipts;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The delivery and read state of one of the caller's own messages (by the
/// `messageId` they chose), computed now from the recipients' delivery and
/// read markers. Recipients are the members other than the sender who were
/// members when it was sent; a recipient counts as reading only with
/// `readReceipts` on (and never in a message request); a recipient on
/// either side of a block with the sender, or from whom the message was
/// withheld, counts as neither delivered nor read. `members` lists every
/// recipient when there are at most 100. Anyone but the sender (other
/// members included), a non-member and an unknown message get the same
/// 404.
#[utoipa::path(
    get, path = "/v1/conversations/{conversation_id}/messages/{message_id}/receipts",
    operation_id = "message_receipts", tag = "conversations",
    security(("bearer" = [])),
    params(
        ("conversation_id" = Uuid, Path, description = "The conversation"),
        ("message_id" = Uuid, Path, description = "The sender's `messageId`"),
    ),
    responses(
        (status = 200, description = "The message's delivery and read state", body = MessageReceipts),
        (status = 404, description = "Not the caller's message in a conversation of theirs, or no such message (`not_found`)", body = ErrorBody),
    )
)]
pub async fn receipts(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, message_id) = path.into_inner();
    let user = caller.user_id;
    let now = passerelle_store::now();
    let found = state
        .store
        .run(move |conn| receipts::of_message(conn, conversation, user, message_id, now))
        .await?;
    let Some(r) = found else {
        return Err(ApiError::NotFound);
    };
    Ok(HttpResponse::Ok().json(MessageReceipts {
        conversation_id: conversation,
        message_id,
        server_id: r.server_id,
        recipients: r.recipients,
        delivered: r.delivered,
        read: r.read,
        delivery_state: ReachState::of(r.delivered, r.recipients),
        read_state: ReachState::of(r.read, r.recipients),
        members: r.members.map(|list| {
            list.into_iter()
                .map(|m| RecipientReceipt {
                    user_id: m.user_id.0,
                    delivered: m.delivered,
                    read: m.read,
                })
                .collect()
        }),
    }))
}
