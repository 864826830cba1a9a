//! The client's `presence` frame inside a session: this session is away or
//! active again. The user's status is derived from all their sessions
//! (`crate::presence`); this only records the session's flag, at most once
//! per `presence.min_interval_ms` (a faster frame is refused with
//! `rate_limited`, so a client toggling in a loop cannot make its watchers'
//! sessions busy).

use std::time::{Duration, Instant};

use passerelle_api_types::ws::FrameErrorCode;

use super::inbound::Refusal;
use super::rooms::store_refusal;
use super::session::{Conn, Ending};

impl Conn {
    pub(super) async fn set_presence(
        &mut self,
        id: Option<String>,
        away: bool,
    ) -> Result<(), Ending> {
        let now = Instant::now();
        let interval = Duration::from_millis(self.state.settings.presence.min_interval_ms);
        if self
            .presence_at
            .is_some_and(|t| now.saturating_duration_since(t) < interval)
        {
            let r = Refusal::new(
                id,
                FrameErrorCode::RateLimited,
                "presence changes too fast; slow down",
            );
            return self.text(r.frame()).await;
        }
        self.presence_at = Some(now);
        let (connection, user) = (self.id, self.caller.user_id);
        match self.state.presence.set_away(connection, user, away).await {
            Ok(()) => Ok(()),
            Err(e) => self.text(store_refusal(id, &e).frame()).await,
        }
    }
}
