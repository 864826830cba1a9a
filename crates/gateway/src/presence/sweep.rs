//! The presence sweep every node runs each `presence.sweep_interval_ms`:
//! users with a session closed longer than `presence.offline_grace_ms` ago
//! are settled (announced offline or away if nothing replaced the
//! session), and their ended rows go. Sessions of a dead node were stamped
//! closed by the node liveness sweep (`rooms::liveness`), so they come out
//! here too: a node that dies without a goodbye has its users offline
//! within the liveness bound plus the grace.
//!
//! Every node sweeps; settling takes the user's presence row lock, so two
//! nodes settling one user announce the change once.

use passerelle_store::presence;

use super::PresenceService;

/// Users settled per pass, and passes per sweep.
const PASS: u32 = 500;
const MAX_PASSES: usize = 20;

impl PresenceService {
    /// Starts the sweep. Must be called in a Tokio runtime.
    pub fn start_sweep(self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.sweep().await;
            }
        });
    }

    /// One sweep; failures are logged and the next sweep tries again.
    pub async fn sweep(&self) {
        for _ in 0..MAX_PASSES {
            let before = passerelle_store::now() - self.grace;
            let users = match self
                .store
                .run(move |c| presence::due(c, before, PASS))
                .await
            {
                Ok(users) => users,
                Err(e) => {
                    tracing::warn!(error = %e, "presence sweep failed");
                    return;
                }
            };
            if users.is_empty() {
                return;
            }
            let full = users.len() == PASS as usize;
            for user in users {
                self.settle(user).await;
            }
            if !full {
                return;
            }
        }
    }
}
