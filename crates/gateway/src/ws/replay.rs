//! The device stream inside a session: `resume` (replay from the database
//! after the client's position, then `synced`), live events through the
//! [`Cursor`], catch-up on a gap, `truncated` when retention removed events,
//! and the resync the hub orders when the bus may have lost something.
//! A session never hands a client its own message back: by sequence once its
//! `sent` was handled, by id while the send is still in flight.

use std::sync::Arc;

use passerelle_api_types::ws::{ServerFrame, Synced, Truncated, close};
use passerelle_store::streams::EventKind;
use passerelle_store::{devices, streams};
use uuid::Uuid;

use super::cursor::{Cursor, Step};
use super::inbound::{Refusal, frame_text};
use super::session::{Conn, Ending};
use crate::routing::events;
use passerelle_api_types::ws::FrameErrorCode;

impl Conn {
    pub(super) async fn resume(
        &mut self,
        id: Option<String>,
        after: Option<u64>,
    ) -> Result<(), Ending> {
        let device = self.caller.device_id;
        let state = match self
            .state
            .store
            .run(move |c| streams::state(c, device))
            .await
        {
            Ok(Some(s)) => s,
            Ok(None) => return Err(Some((close::REVOKED, "device not found".into()))),
            Err(e) => {
                let r = Refusal::new(
                    id,
                    FrameErrorCode::Unavailable,
                    format!("storage unavailable: {e}"),
                );
                return self.text(r.frame()).await;
            }
        };
        let mut position = after.unwrap_or(state.acked_seq).min(state.last_seq);
        if let Some(oldest) = state.oldest_seq.filter(|&o| position + 1 < o) {
            let t = ServerFrame::Truncated {
                id: id.clone(),
                payload: Truncated {
                    requested_after: position,
                    oldest_seq: oldest,
                },
            };
            self.text(frame_text(&t)).await?;
            position = oldest - 1;
        } else if state.oldest_seq.is_none() && position < state.last_seq {
            // Everything after the position was removed by retention.
            let t = ServerFrame::Truncated {
                id: id.clone(),
                payload: Truncated {
                    requested_after: position,
                    oldest_seq: state.last_seq + 1,
                },
            };
            self.text(frame_text(&t)).await?;
            position = state.last_seq;
        }
        self.cursor = Some(Cursor::at(position));
        self.catch_up().await?;
        let last_seq = self.cursor.as_ref().map_or(position, Cursor::position);
        self.text(frame_text(&ServerFrame::Synced {
            id,
            payload: Synced { last_seq },
        }))
        .await
    }

    /// Sends what the database holds after the cursor, in order.
    async fn catch_up(&mut self) -> Result<(), Ending> {
        let page = self.state.settings.ws.replay_page.max(1);
        let (user, device) = (self.caller.user_id, self.caller.device_id);
        loop {
            let Some(after) = self.cursor.as_ref().map(Cursor::position) else {
                return Ok(());
            };
            let batch = self
                .state
                .store
                .run(move |c| streams::read(c, user, device, after, page))
                .await
                .map_err(|e| Some((close::INTERNAL, format!("stream unavailable: {e}"))))?;
            let full = batch.len() == page as usize;
            if let Some(first) = batch.first()
                && first.seq > after + 1
            {
                // Retention removed events this session had not sent yet.
                self.truncated(None, after, first.seq).await?;
            }
            for event in &batch {
                let step = match self.cursor.as_mut() {
                    Some(c) => c.replayed(event.seq),
                    None => Step::Skip,
                };
                let own_copy = event.kind == EventKind::Message
                    && event.message.as_ref().is_some_and(|m| {
                        m.sender_device_id == self.caller.device_id
                            && self.in_flight.contains(&m.message_id)
                    });
                // An event whose message is gone (deleted with its sender's
                // account) has nothing left to show: passed over.
                if step == Step::Send
                    && !own_copy
                    && let Some(frame) = events::stream_event(event)
                {
                    self.text(frame.frame_text()).await?;
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Tells the client that the events after `after` and before `oldest`
    /// were removed by retention.
    async fn truncated(
        &mut self,
        id: Option<String>,
        after: u64,
        oldest: u64,
    ) -> Result<(), Ending> {
        let t = ServerFrame::Truncated {
            id,
            payload: Truncated {
                requested_after: after,
                oldest_seq: oldest,
            },
        };
        self.text(frame_text(&t)).await
    }

    pub(super) async fn on_live(&mut self, seq: u64, text: &Arc<str>) -> Result<(), Ending> {
        // This session's own message may come back live before its `sent`
        // reply was handled (replies are not always polled first when many
        // are in flight): recognise it by id.
        let own = !self.in_flight.is_empty()
            && frame_message_id(text).is_some_and(|id| self.in_flight.contains(&id));
        let Some(cursor) = self.cursor.as_mut() else {
            // Not resumed yet: the replay will include it.
            return Ok(());
        };
        match cursor.live(seq) {
            Step::Send if own => Ok(()),
            Step::Send => self.text(text.to_string()).await,
            Step::Skip => Ok(()),
            Step::CatchUp => {
                metrics::counter!("passerelle_ws_gap_catchups_total").increment(1);
                self.catch_up().await?;
                // The database no longer has what lies between (retention):
                // say so, then go on from this event.
                let position = self.cursor.as_ref().map_or(seq, Cursor::position);
                if position < seq {
                    self.truncated(None, position, seq).await?;
                    if let Some(c) = self.cursor.as_mut()
                        && c.replayed(seq) == Step::Send
                    {
                        self.text(text.to_string()).await?;
                    }
                }
                Ok(())
            }
        }
    }

    /// The bus may have lost events, or a revocation: check the device, then
    /// catch up.
    pub(super) async fn on_resync(&mut self) -> Result<(), Ending> {
        let (user, device) = (self.caller.user_id, self.caller.device_id);
        // A failed check is not a revocation: the next resync asks again.
        if let Ok(None) = self
            .state
            .store
            .run(move |c| devices::find_active(c, user, device))
            .await
        {
            return Err(Some((close::REVOKED, "device revoked".into())));
        }
        self.catch_up().await
    }
}

/// The `messageId` of a `message` event frame, found without parsing the
/// whole frame (its payload starts with `{"messageId":"<uuid>"`).
fn frame_message_id(text: &str) -> Option<Uuid> {
    if !text.starts_with("{\"type\":\"message\"") {
        return None;
    }
    const KEY: &str = "\"payload\":{\"messageId\":\"";
    let start = text.find(KEY)? + KEY.len();
    text.get(start..start + 36)
        .and_then(|id| Uuid::parse_str(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_read_from_event_frames() {
        let id = Uuid::new_v4();
        let text = format!(
            r#"{{"type":"message","seq":7,"payload":{{"messageId":"{id}","serverId":"x"}}}}"#
        );
        assert_eq!(frame_message_id(&text), Some(id));
        let receipt = format!(r#"{{"type":"receipt","seq":8,"payload":{{"messageId":"{id}"}}}}"#);
        assert_eq!(
            frame_message_id(&receipt),
            None,
            "receipts are never own echoes"
        );
        assert_eq!(
            frame_message_id(r#"{"type":"message","seq":1,"payload":{"messageId":"short"}}"#),
            None
        );
    }
}
