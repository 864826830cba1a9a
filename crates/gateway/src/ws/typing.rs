//! Typing inside a session: the client's `typing` frame becomes a live
//! `typing` event for the conversation's audience (other members, minus
//! blocks either way and a requester's quiet request:
//! `passerelle_store::typing`) and for the typer's other sessions, never
//! for the session that sent it. Nothing is stored.
//!
//! Limits: the frame counts against the session's token bucket like any
//! other; on top of that, per conversation this session relays at most one
//! `started` per `typing.min_interval_ms` (the extra ones are dropped
//! silently, a client refreshing too eagerly is not an error); `stopped`
//! always goes through. Conversations of more than `typing.max_members`
//! members relay nothing.

use std::time::{Duration, Instant};

use passerelle_api_types::ws::{FrameErrorCode, ServerFrame, TypingEvent, TypingState};
use passerelle_store::typing::{self, Audience};
use uuid::Uuid;

use super::inbound::Refusal;
use super::rooms::store_refusal;
use super::session::{Conn, Ending};
use crate::routing::events::publish_ephemeral_except;

/// Past this many remembered conversations, the stale entries are dropped.
const REMEMBERED: usize = 64;

/// When this session last relayed a `started`, per conversation.
#[derive(Debug, Default)]
pub(super) struct TypingThrottle {
    last_started: std::collections::HashMap<Uuid, Instant>,
}

impl TypingThrottle {
    /// Whether a `started` for `conversation` at `now` is too soon after
    /// the last one relayed.
    fn too_soon(&self, conversation: Uuid, now: Instant, interval: Duration) -> bool {
        self.last_started
            .get(&conversation)
            .is_some_and(|t| now.saturating_duration_since(*t) < interval)
    }

    fn record(&mut self, conversation: Uuid, now: Instant, interval: Duration) {
        if self.last_started.len() >= REMEMBERED {
            self.last_started
                .retain(|_, t| now.saturating_duration_since(*t) < interval);
        }
        self.last_started.insert(conversation, now);
    }
}

impl Conn {
    pub(super) async fn typing(
        &mut self,
        id: Option<String>,
        conversation: Uuid,
        state: TypingState,
    ) -> Result<(), Ending> {
        let settings = self.state.settings.typing.clone();
        let interval = Duration::from_millis(settings.min_interval_ms);
        let now = Instant::now();
        if state == TypingState::Started && self.typing.too_soon(conversation, now, interval) {
            return Ok(());
        }
        let user = self.caller.user_id;
        let max = settings.max_members;
        let audience = self
            .state
            .store
            .run(move |c| typing::audience(c, conversation, user, max))
            .await;
        let others = match audience {
            Ok(Audience::Members(others)) => others,
            Ok(Audience::TooBig) => {
                if state == TypingState::Started {
                    self.typing.record(conversation, now, interval);
                }
                return Ok(());
            }
            Ok(Audience::NotMember) => {
                let r = Refusal::new(id, FrameErrorCode::NotFound, "no such conversation");
                return self.text(r.frame()).await;
            }
            Err(e) => return self.text(store_refusal(id, &e).frame()).await,
        };
        if state == TypingState::Started {
            self.typing.record(conversation, now, interval);
        }
        let frame = ServerFrame::Typing {
            payload: TypingEvent {
                conversation_id: conversation,
                user_id: user.0,
                device_id: self.caller.device_id.0,
                state,
                expires_in_ms: (state == TypingState::Started).then_some(settings.ttl_ms),
                at: passerelle_store::now(),
            },
        };
        let mut users = others;
        users.push(user);
        publish_ephemeral_except(&self.state.fanout, &users, &frame, Some(self.id)).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_started_per_interval_per_conversation() {
        let t0 = Instant::now();
        let every = Duration::from_millis(1000);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut t = TypingThrottle::default();
        assert!(!t.too_soon(a, t0, every));
        t.record(a, t0, every);
        assert!(t.too_soon(a, t0 + Duration::from_millis(999), every));
        assert!(!t.too_soon(b, t0, every), "per conversation");
        assert!(!t.too_soon(a, t0 + every, every));
        // One conversation per interval: the stale entries go, so the map
        // stays small (it only grows with conversations typed in within one
        // interval, which the frame rate limit bounds).
        for i in 0..REMEMBERED as u32 * 2 {
            t.record(Uuid::new_v4(), t0 + every * (i + 2), every);
        }
        assert!(t.last_started.len() <= REMEMBERED, "stale entries go");
    }
}
