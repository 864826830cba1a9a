//! What a finished send or ack hands back to its session, and the `sent`
//! (or `error`) frame answering a `message` frame.

use passerelle_api_types::ws::{FrameErrorCode, Sent, ServerFrame};
use passerelle_store::batch::Outcome;
use uuid::Uuid;

use super::inbound::{Refusal, frame_text};
use crate::routing::writer::RouteError;

/// A finished send or ack: the frame to send back (if any); for a send, its
/// message id and the sequence of the message in this device's stream; for
/// an ack, that it is done.
pub(super) struct Reply {
    pub text: Option<String>,
    pub own: Option<(Uuid, Option<u64>)>,
    /// For an ack: whether it was stored.
    pub ack_done: Option<bool>,
}

pub(super) type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send>>;

/// The reply to a `message` frame.
pub(super) fn sent_reply(id: Option<String>, result: Result<Outcome, RouteError>) -> String {
    match result {
        Ok(Outcome::Sent {
            message,
            sender_seq,
            duplicate,
            ..
        }) => frame_text(&ServerFrame::Sent {
            id,
            payload: Sent {
                message_id: message.message_id,
                server_id: message.id,
                server_timestamp: message.created_at,
                seq: sender_seq,
                duplicate,
            },
        }),
        Ok(Outcome::RecipientNotFound) => {
            Refusal::new(id, FrameErrorCode::NotFound, "no such recipient").frame()
        }
        Ok(Outcome::ConversationNotFound) => {
            Refusal::new(id, FrameErrorCode::NotFound, "no such conversation").frame()
        }
        Ok(Outcome::ReplyNotFound) => Refusal::new(
            id,
            FrameErrorCode::NotFound,
            "replyTo: no such message in this conversation",
        )
        .frame(),
        Ok(Outcome::NotDirect) => Refusal::new(
            id,
            FrameErrorCode::ValidationFailed,
            "game_invite: game invitations are for direct conversations only; the invitee is the other member",
        )
        .frame(),
        Ok(Outcome::MessageIdTaken) => Refusal::new(
            id,
            FrameErrorCode::MessageIdTaken,
            "messageId belongs to another sender's message; use a new one",
        )
        .frame(),
        Ok(Outcome::Acked { .. }) => {
            Refusal::new(id, FrameErrorCode::Internal, "unexpected outcome").frame()
        }
        Err(RouteError::Unavailable(_)) | Err(RouteError::Closed) => Refusal::new(
            id,
            FrameErrorCode::Unavailable,
            "storage unavailable; send the same frame again later",
        )
        .frame(),
        Err(RouteError::Internal(e)) => {
            tracing::error!(error = %e, "send failed");
            Refusal::new(id, FrameErrorCode::Internal, "internal error").frame()
        }
    }
}
