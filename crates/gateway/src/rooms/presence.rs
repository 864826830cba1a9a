//! A session entering or leaving a link room: one transaction
//! (`passerelle_store::rooms::{enter, leave}`), then, after the commit, the
//! live `room` event to every session of everyone concerned:
//!
//! - `joined` when a user's first session enters: to everyone in the room,
//!   the new participant included (so their other sessions learn it);
//! - `left` when a user's last session leaves: to everyone still in the
//!   room and to that user.
//!
//! A second session of the same user entering, or one of two leaving, is
//! neither. The events are not stored: a session that is not connected
//! misses them and reads the room's state again when it enters.

use std::time::Duration;

use chrono::{DateTime, Utc};
use passerelle_api_types::ws::{RoomChange, RoomEvent, ServerFrame};
use passerelle_bus::Fanout;
use passerelle_store::rooms::{self, Departure, Entry, Presence};
use passerelle_store::{DbConn, Store, StoreResult, UserId};
use uuid::Uuid;

use crate::routing::events::publish_ephemeral;

/// How many times a transaction that lost a race is run again.
const RETRIES: u32 = 3;

/// Runs `f` in a transaction, again when it lost a race (a deadlock, a
/// concurrent insert).
async fn retrying<T, F>(store: &Store, f: F) -> StoreResult<T>
where
    F: Fn(&mut DbConn) -> StoreResult<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let mut attempt = 0;
    loop {
        match store.transaction(f.clone()).await {
            Err(e) if e.is_retryable() && attempt < RETRIES => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

/// Puts session `who` in the room of `link`; announces a new participant.
/// Returns the outcome and its time.
pub async fn enter(
    store: &Store,
    fanout: &Fanout,
    link: Uuid,
    who: Presence,
) -> StoreResult<(Entry, DateTime<Utc>)> {
    let now = passerelle_store::now();
    let entry = retrying(store, move |c| rooms::enter(c, link, &who, now)).await?;
    if let Entry::Entered {
        conversation,
        participants,
        joined: true,
    } = &entry
    {
        announce(
            fanout,
            participants,
            *conversation,
            RoomChange::Joined,
            who.user,
            now,
        )
        .await;
    }
    Ok((entry, now))
}

/// Takes session `connection` out of room `conversation`; announces a
/// participant who left, and counts a room that closed (`reason`: why the
/// session went, for the metric). `None` when the session was not in the
/// room any more.
pub async fn leave(
    store: &Store,
    fanout: &Fanout,
    conversation: Uuid,
    connection: Uuid,
    reason: &'static str,
) -> StoreResult<Option<(Departure, DateTime<Utc>)>> {
    let now = passerelle_store::now();
    let departure = retrying(store, move |c| rooms::leave(c, conversation, connection)).await?;
    let Some(d) = departure else {
        return Ok(None);
    };
    if d.left {
        let mut users = d.remaining.clone();
        users.push(d.user);
        announce(fanout, &users, conversation, RoomChange::Left, d.user, now).await;
    }
    if d.closed {
        metrics::counter!("passerelle_link_rooms_deleted_total", "reason" => reason).increment(1);
        tracing::debug!(conversation = %conversation, reason, "link room closed");
    }
    Ok(Some((d, now)))
}

async fn announce(
    fanout: &Fanout,
    users: &[UserId],
    conversation: Uuid,
    change: RoomChange,
    user: UserId,
    at: DateTime<Utc>,
) {
    let frame = ServerFrame::Room {
        payload: RoomEvent {
            conversation_id: conversation,
            change,
            user_id: user.0,
            at,
        },
    };
    publish_ephemeral(fanout, users, &frame).await;
}
