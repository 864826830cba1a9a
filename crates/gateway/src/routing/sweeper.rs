//! Stream retention: acknowledged events are deleted once every session of
//! their device has had `acked_grace` to see them; anything older than
//! `retention` (undelivered retention) is deleted regardless. A device that
//! resumes from before what is left is told so (`truncated`).

use std::time::Duration;

use passerelle_store::{Store, streams};

/// Events deleted per statement pass.
const PASS: u32 = 1000;

/// Runs forever, sweeping every `every`.
pub async fn run(store: Store, every: Duration, acked_grace: Duration, retention: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
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
}
