//! The periodic sweeps of the record:
//!
//! - stream retention: acknowledged events are deleted once every session
//!   of their device has had `acked_grace` to see them; anything older than
//!   `retention` (undelivered retention) is deleted regardless. A device that
//!   resumes from before what is left is told so (`truncated`);
//! - game invitations: pending ones past their `expires_at` become
//!   `expired`, a bounded batch per transaction read from the partial index
//!   of pending expiries, with a `game` event to both users' devices in the
//!   same transaction (published after the commit). The update only takes
//!   rows still pending, so sweeps on several nodes, or an answer racing
//!   the sweep, never announce a change twice.

use std::time::Duration;

use passerelle_bus::Fanout;
use passerelle_store::games::{self, GameState};
use passerelle_store::{Store, batch, streams};

use super::events;

/// Events (or invitations) handled per statement pass.
const PASS: u32 = 1000;

/// Runs forever, sweeping every `every`.
pub async fn run(
    store: Store,
    fanout: Fanout,
    every: Duration,
    acked_grace: Duration,
    retention: Duration,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        sweep_streams(&store, acked_grace, retention).await;
        expire_game_invites(&store, &fanout).await;
    }
}

async fn sweep_streams(store: &Store, acked_grace: Duration, retention: Duration) {
    let mut total = 0;
    loop {
        let now = passerelle_store::now();
        let acked_before = now - chrono::Duration::from_std(acked_grace).unwrap_or_default();
        let retained_after = now - chrono::Duration::from_std(retention).unwrap_or_default();
        match store
            .transaction(move |c| streams::sweep(c, acked_before, retained_after, PASS))
            .await
        {
            Ok(n) => {
                total += n;
                if n < PASS as usize {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "stream sweep failed");
                break;
            }
        }
    }
    if total > 0 {
        metrics::counter!("passerelle_stream_events_swept_total").increment(total as u64);
        tracing::debug!(deleted = total, "stream sweep");
    }
}

async fn expire_game_invites(store: &Store, fanout: &Fanout) {
    let mut total = 0;
    loop {
        let now = passerelle_store::now();
        let result = store
            .transaction(move |c| {
                let expired = games::expire_due(c, now, PASS)?;
                let notes: Vec<batch::Note> = expired
                    .iter()
                    .map(|g| events::game_note(g, GameState::Expired, None, now))
                    .collect();
                Ok((expired.len(), batch::append(c, &notes, now)?))
            })
            .await;
        match result {
            Ok((n, stored)) => {
                events::publish_stored(fanout, &stored).await;
                total += n;
                if n < PASS as usize {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "game invitation sweep failed");
                break;
            }
        }
    }
    if total > 0 {
        metrics::counter!("passerelle_game_invites_expired_total").increment(total as u64);
        tracing::debug!(expired = total, "game invitations expired");
    }
}
