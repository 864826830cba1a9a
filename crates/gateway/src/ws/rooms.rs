//! Link rooms inside a session: `enter_room` (by link), `leave_room` (by
//! conversation id), and leaving every room when the session ends, for
//! whatever reason (close, heartbeat timeout, revocation, token expiry,
//! slow consumer, shutdown). The session remembers the rooms it is in; the
//! record other sessions and nodes see is `room_presence`
//! (`passerelle_store::rooms`).
//!
//! Before leaving, a session lets its own sends in flight finish, so that
//! a message it sent just before leaving cannot be stored after its room
//! was deleted.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use passerelle_api_types::ws::{FrameErrorCode, RoomEntered, RoomLeft, ServerFrame};
use passerelle_store::StoreError;
use passerelle_store::rooms::{Entry, Presence};
use uuid::Uuid;

use super::inbound::{Refusal, frame_text};
use super::replies::Pending;
use super::session::{Conn, Ending};
use crate::rooms::presence;

/// How long an ending session waits for its sends in flight before it
/// leaves its rooms.
const SETTLE: Duration = Duration::from_secs(5);

/// The error frame for a store failure.
pub(super) fn store_refusal(id: Option<String>, e: &StoreError) -> Refusal {
    match e {
        StoreError::Unavailable(_) | StoreError::Transient(_) => Refusal::new(
            id,
            FrameErrorCode::Unavailable,
            "storage unavailable; send the same frame again later",
        ),
        other => {
            tracing::error!(error = %other, "session store operation failed");
            Refusal::new(id, FrameErrorCode::Internal, "internal error")
        }
    }
}

impl Conn {
    pub(super) async fn enter_room(
        &mut self,
        id: Option<String>,
        link: Uuid,
    ) -> Result<(), Ending> {
        let max = self.state.settings.rooms.max_per_session as usize;
        if self.rooms.len() >= max && !self.rooms.values().any(|l| *l == link) {
            let r = Refusal::new(
                id,
                FrameErrorCode::Forbidden,
                format!("a session may be in at most {max} rooms; leave one first"),
            );
            return self.text(r.frame()).await;
        }
        let who = Presence {
            connection: self.id,
            user: self.caller.user_id,
            node: self.state.node,
        };
        // Held before the row exists: if this node is taken for dead
        // meanwhile, the session is closed and its end cleans up.
        self.state.rooms.hold(self.id, who.user.0);
        let result = presence::enter(&self.state.store, &self.state.fanout, link, who).await;
        let frame = match result {
            Ok((
                Entry::Entered {
                    conversation,
                    participants,
                    ..
                },
                at,
            )) => {
                self.rooms.insert(conversation, link);
                frame_text(&ServerFrame::RoomEntered {
                    id,
                    payload: RoomEntered {
                        conversation_id: conversation,
                        participants: participants.into_iter().map(|u| u.0).collect(),
                        at,
                    },
                })
            }
            Ok((Entry::NotFound, _)) => {
                Refusal::new(id, FrameErrorCode::NotFound, "no such room").frame()
            }
            Ok((Entry::Full, _)) => {
                Refusal::new(id, FrameErrorCode::Forbidden, "the room is full").frame()
            }
            Err(e) => store_refusal(id, &e).frame(),
        };
        if self.rooms.is_empty() {
            self.state.rooms.release(self.id);
        }
        self.text(frame).await
    }

    pub(super) async fn leave_room(
        &mut self,
        id: Option<String>,
        conversation: Uuid,
        pending: &mut FuturesUnordered<Pending>,
    ) -> Result<(), Ending> {
        if !self.rooms.contains_key(&conversation) {
            let r = Refusal::new(
                id,
                FrameErrorCode::NotFound,
                "this session is not in that room",
            );
            return self.text(r.frame()).await;
        }
        while let Some(reply) = pending.next().await {
            self.on_reply(reply, pending).await?;
        }
        let result = presence::leave(
            &self.state.store,
            &self.state.fanout,
            conversation,
            self.id,
            "left",
        )
        .await;
        let frame = match result {
            Ok(departure) => {
                self.rooms.remove(&conversation);
                if self.rooms.is_empty() {
                    self.state.rooms.release(self.id);
                }
                // `None`: a sweep took the session out already; it is out
                // all the same.
                let (closed, at) = match departure {
                    Some((d, at)) => (d.closed, at),
                    None => (false, passerelle_store::now()),
                };
                frame_text(&ServerFrame::RoomLeft {
                    id,
                    payload: RoomLeft {
                        conversation_id: conversation,
                        closed,
                        at,
                    },
                })
            }
            Err(e) => store_refusal(id, &e).frame(),
        };
        self.text(frame).await
    }

    /// The session ended: wait (a little) for its sends in flight, then
    /// leave every room it is in. A room it cannot leave now (storage
    /// unavailable) is left by this node's next sweep.
    pub(super) async fn leave_all_rooms(&mut self, pending: &mut FuturesUnordered<Pending>) {
        if self.rooms.is_empty() {
            return;
        }
        let settle = async {
            while let Some(reply) = pending.next().await {
                // The socket may be gone: the reply has nowhere to go.
                let _ = self.on_reply(reply, pending).await;
            }
        };
        let _ = tokio::time::timeout(SETTLE, settle).await;
        let rooms: Vec<Uuid> = self.rooms.drain().map(|(c, _)| c).collect();
        for conversation in rooms {
            if let Err(e) = presence::leave(
                &self.state.store,
                &self.state.fanout,
                conversation,
                self.id,
                "left",
            )
            .await
            {
                tracing::warn!(error = %e, connection = %self.id, "could not leave a link room; the sweep will");
            }
        }
        self.state.rooms.release(self.id);
    }
}
