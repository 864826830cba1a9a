//! What a finished send or ack hands back to its session, how the session
//! handles it (and forwards acknowledgements), and the `sent` (or `error`)
//! frame answering a `message` frame.

use futures_util::stream::FuturesUnordered;
use passerelle_api_types::ws::{
    DeviceMismatch, DirectoryDevice, FrameErrorBody, FrameErrorCode, Sent, ServerFrame,
};
use passerelle_store::batch::{DeviceRef, Mismatch, Outcome};
use uuid::Uuid;

use super::inbound::{Refusal, frame_text};
use super::session::{Conn, Ending};
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

#[derive(Debug, Default)]
pub(super) struct AckState {
    /// The highest sequence the writer stored.
    confirmed: u64,
    /// The highest sequence sent to the writer.
    forwarded: u64,
    in_flight: bool,
    /// The highest sequence asked for while one was in flight.
    waiting: Option<u64>,
}

pub(super) type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send>>;

impl Conn {
    /// Handles a finished send or ack: its sequence, the next ack, the
    /// frame to send back.
    pub(super) async fn on_reply(
        &mut self,
        reply: Reply,
        pending: &mut FuturesUnordered<Pending>,
    ) -> Result<(), Ending> {
        if let Some((message_id, seq)) = reply.own {
            self.in_flight.remove(&message_id);
            if let (Some(seq), Some(cursor)) = (seq, self.cursor.as_mut()) {
                cursor.own(seq);
            }
        }
        if let Some(stored) = reply.ack_done {
            self.acks.in_flight = false;
            if stored {
                self.acks.confirmed = self.acks.forwarded;
            } else {
                // Not stored: the same ack, sent again, must go through.
                self.acks.forwarded = self.acks.confirmed;
            }
            if let Some(seq) = self.acks.waiting.take() {
                self.ack(seq, pending);
            }
        }
        if let Some(text) = reply.text {
            self.text(text).await?;
        }
        Ok(())
    }

    /// Forwards an acknowledgement to the writer, or folds it into the one
    /// in flight.
    pub(super) fn ack(&mut self, seq: u64, pending: &mut FuturesUnordered<Pending>) {
        let acks = &mut self.acks;
        if seq <= acks.forwarded.max(acks.waiting.unwrap_or(0)) {
            return;
        }
        if acks.in_flight {
            acks.waiting = Some(seq);
            return;
        }
        acks.forwarded = seq;
        acks.in_flight = true;
        let router = self.state.router.clone();
        let (user, device) = (self.caller.user_id, self.caller.device_id);
        pending.push(Box::pin(async move {
            let stored = match router.ack(user, device, seq).await {
                Ok(_) => true,
                Err(e) => {
                    tracing::debug!(error = %e, "ack not stored; the client will ack again");
                    false
                }
            };
            Reply {
                text: None,
                own: None,
                ack_done: Some(stored),
            }
        }));
    }
}

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
        Ok(Outcome::BlobNotFound) => Refusal::new(
            id,
            FrameErrorCode::NotFound,
            "blobId: no such blob of yours; ask POST /v1/blobs for one and upload it first",
        )
        .frame(),
        Ok(Outcome::DeviceMismatch(m)) => frame_text(&ServerFrame::Error {
            id,
            payload: FrameErrorBody {
                code: FrameErrorCode::DeviceMismatch,
                message: format!(
                    "deviceEntries do not match the device directory: {} missing, {} extra, {} stale; fix the sessions and resend the same messageId",
                    m.missing.len(),
                    m.extra.len(),
                    m.stale.len()
                ),
                mismatch: Some(mismatch(&m)),
            },
        }),
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

/// The API form of a refused per-device send's lists.
fn mismatch(m: &Mismatch) -> DeviceMismatch {
    let device = |d: &DeviceRef| DirectoryDevice {
        user_id: d.user.0,
        device_id: d.device.0,
        registration_id: d.registration_id.get(),
    };
    DeviceMismatch {
        missing: m.missing.iter().map(device).collect(),
        extra: m.extra.iter().map(|d| d.0).collect(),
        stale: m.stale.iter().map(device).collect(),
    }
}
