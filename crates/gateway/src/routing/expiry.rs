//! The expiry sweeper: every few seconds, deletes the disappearing messages
//! whose time has come (bounded passes, see `passerelle_store::expiry`) and
//! publishes the `expired` events it appended. Every node runs it; on
//! Postgres the passes of several nodes skip each other's rows.

use std::time::Duration;

use passerelle_api_types::ws::MessagesExpired;
use passerelle_bus::Fanout;
use passerelle_store::{Store, expiry};
use uuid::Uuid;

use super::events::publish_stored;

/// Messages deleted per pass (one transaction; on SQLite the writer waits
/// for it, so it stays short).
const PASS: u32 = 500;
/// Deleted messages gathered before their `expired` events are written:
/// one event per member device per conversation per batch, however many of
/// the conversation's messages the batch holds.
const ANNOUNCE_EVERY: usize = 10_000;

/// Runs forever, sweeping every `every`.
pub async fn run(store: Store, fanout: Fanout, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let total = sweep(&store, &fanout).await;
        if total > 0 {
            metrics::counter!("passerelle_messages_expired_total").increment(total as u64);
            tracing::debug!(deleted = total, "expiry sweep");
        }
    }
}

/// Deletes everything expired by now, announcing it every
/// [`ANNOUNCE_EVERY`] messages and at the end; returns how many were
/// deleted. A crash between a deletion and its announcement loses only the
/// announcement: devices have each message's `expiresAt`, and history and
/// replay never serve an expired message.
pub async fn sweep(store: &Store, fanout: &Fanout) -> usize {
    let mut total = 0;
    let mut gathered: Vec<expiry::Expired> = Vec::new();
    loop {
        let now = passerelle_store::now();
        let (more, failed) = match store
            .transaction(move |c| expiry::delete_due(c, now, PASS))
            .await
        {
            Ok(swept) => {
                total += swept.messages;
                gathered.extend(swept.expired);
                (swept.messages >= PASS as usize, false)
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiry sweep failed");
                (false, true)
            }
        };
        if gathered.len() >= ANNOUNCE_EVERY || (!more && !gathered.is_empty()) {
            announce(store, fanout, std::mem::take(&mut gathered)).await;
        }
        if !more || failed {
            return total;
        }
    }
}

async fn announce(store: &Store, fanout: &Fanout, expired: Vec<expiry::Expired>) {
    let now = passerelle_store::now();
    match store
        .transaction(move |c| {
            expiry::announce(c, &expired, now, &|conversation, ids| {
                payload(conversation, ids, now)
            })
        })
        .await
    {
        Ok(events) => publish_stored(fanout, &events).await,
        Err(e) => tracing::warn!(error = %e, "expired events not written"),
    }
}

/// The `expired` event's payload.
pub fn payload(conversation: Uuid, ids: &[Uuid], at: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::to_string(&MessagesExpired {
        conversation_id: conversation,
        message_ids: ids.to_vec(),
        at,
    })
    .unwrap_or_default()
}
