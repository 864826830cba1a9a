//! Device-list events: every change of a user's devices (added,
//! re-registered, revoked) is appended as a `devices` event to the streams
//! of the user's other devices and of everyone who shares a conversation
//! with them or has them as a contact, in the transaction that makes the
//! change, and published after the commit. Durable like every stream event:
//! an offline peer learns it on its next resume, so its next per-device
//! send is right the first time. Who the audience is lives in
//! `passerelle_store::device_directory`; this module writes the payload
//! (the documented frame type) and is the one place the routes call.

use chrono::{DateTime, Utc};
use passerelle_api_types::ws::{DeviceChange, DeviceListEvent};
use passerelle_domain::RegistrationId;
use passerelle_store::streams::StreamEvent;
use passerelle_store::{DbConn, DeviceId, StoreResult, UserId, device_directory};

use crate::routing::events::publish_stored;
use crate::state::AppState;

/// One change of one device.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub device: DeviceId,
    pub change: DeviceChange,
    /// The number now (`Added`, `Reregistered`).
    pub registration_id: Option<RegistrationId>,
}

impl Change {
    pub fn added(device: DeviceId, registration_id: RegistrationId) -> Self {
        Self {
            device,
            change: DeviceChange::Added,
            registration_id: Some(registration_id),
        }
    }

    pub fn reregistered(device: DeviceId, registration_id: RegistrationId) -> Self {
        Self {
            device,
            change: DeviceChange::Reregistered,
            registration_id: Some(registration_id),
        }
    }

    pub fn revoked(device: DeviceId) -> Self {
        Self {
            device,
            change: DeviceChange::Revoked,
            registration_id: None,
        }
    }
}

/// Appends the events of `changes` to the streams of `user`'s audience in the
/// caller's transaction (not to the changed devices themselves: a new
/// device's stream starts with what happens after it, and a re-registered
/// device made the change); publish the result with [`publish`] after
/// commit.
pub fn announce(
    conn: &mut DbConn,
    user: UserId,
    changes: &[Change],
    now: DateTime<Utc>,
) -> StoreResult<Vec<StreamEvent>> {
    let payloads: Vec<String> = changes
        .iter()
        .map(|c| {
            let event = DeviceListEvent {
                user_id: user.0,
                device_id: c.device.0,
                change: c.change,
                registration_id: c.registration_id.map(RegistrationId::get),
                at: now,
            };
            serde_json::to_string(&event).unwrap_or_default()
        })
        .collect();
    let about: Vec<DeviceId> = changes.iter().map(|c| c.device).collect();
    device_directory::announce(conn, user, &about, &payloads, now)
}

/// Publishes committed device-list events (best effort: a session that
/// misses one reads it on resume).
pub async fn publish(state: &AppState, events: &[StreamEvent]) {
    publish_stored(&state.fanout, events).await;
}
