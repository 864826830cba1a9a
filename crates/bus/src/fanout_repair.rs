//! Loss repair of the Redis fan-out. When the link drops, the connection's
//! subscriptions are gone until the `ConnectionManager` reconnects, and it may
//! only reconnect when a command is sent; a failed subscribe likewise leaves a
//! user wanted but not subscribed. One background task per fan-out (never one
//! per event) therefore PINGs with backoff until Redis answers, checks that
//! the connection again holds exactly the tracked users (the manager replays
//! the subscriptions the server had confirmed; this catches the rest), and
//! only then queues `Resync` so sessions catch up from the durable record.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::RedisError;
use redis::aio::ConnectionManager;

use crate::fanout_redis::{Shared, lock};

/// First and largest pause between repair PINGs.
const REPAIR_MIN_DELAY: Duration = Duration::from_millis(50);
const REPAIR_MAX_DELAY: Duration = Duration::from_secs(1);
/// Channels per SUBSCRIBE when restoring many users at once.
const RESUBSCRIBE_CHUNK: usize = 1024;

impl Shared {
    /// PING (which makes the manager reconnect and replay the confirmed
    /// subscriptions), then make sure the connection holds every tracked
    /// user and none of the stale ones.
    pub(crate) async fn restore(&self) -> Result<(), RedisError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        let _gate = self.gate.write().await;
        let stale: Vec<String> = lock(&self.stale).iter().map(|u| self.channel(*u)).collect();
        if !stale.is_empty() {
            conn.unsubscribe(&stale).await?;
            lock(&self.stale).clear();
        }
        let wanted: Vec<String> = lock(&self.subscribed)
            .iter()
            .map(|u| self.channel(*u))
            .collect();
        let active = subscription_count(&mut conn).await?;
        if active != wanted.len() {
            tracing::info!(
                active,
                wanted = wanted.len(),
                "fanout: restoring subscriptions after reconnect"
            );
            for chunk in wanted.chunks(RESUBSCRIBE_CHUNK) {
                conn.subscribe(chunk).await?;
            }
        }
        Ok(())
    }
}

/// Channels this connection is subscribed to, from `CLIENT INFO` (`sub=N`).
async fn subscription_count(conn: &mut ConnectionManager) -> Result<usize, RedisError> {
    let info: String = redis::cmd("CLIENT").arg("INFO").query_async(conn).await?;
    Ok(info
        .split_whitespace()
        .find_map(|field| field.strip_prefix("sub="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

/// The one repair task: retries until Redis answers and the subscriptions
/// are back, then tells the hub to resync. Ends if the fan-out is dropped.
pub(crate) async fn repair(weak: Weak<Shared>) {
    loop {
        let mut delay = REPAIR_MIN_DELAY;
        loop {
            let Some(shared) = weak.upgrade() else { return };
            shared.repair_needed.store(false, Ordering::SeqCst);
            match shared.restore().await {
                Ok(()) if !shared.repair_needed.load(Ordering::SeqCst) => break,
                Ok(()) => continue,
                Err(e) => tracing::debug!(error = %e, "fanout: redis not back yet"),
            }
            drop(shared);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(REPAIR_MAX_DELAY);
        }
        let Some(shared) = weak.upgrade() else { return };
        tracing::info!("fanout: redis link restored, resyncing sessions");
        shared.queue_resync().await;
        shared.repair_running.store(false, Ordering::SeqCst);
        // A disconnection that came in after the last round needs another.
        if !shared.repair_needed.load(Ordering::SeqCst)
            || shared.repair_running.swap(true, Ordering::SeqCst)
        {
            return;
        }
    }
}
