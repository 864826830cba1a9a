//! Link rooms on the gateway's side. The rows and their rules live in
//! `passerelle_store::rooms`; this module runs them and tells people:
//!
//! - [`presence`]: a session entering or leaving a room, in one transaction
//!   each, then the live `room` event (`joined` / `left`) to every session
//!   of everyone concerned, through the per-user bus;
//! - [`liveness`]: this node's heartbeat, and the sweeps every node runs
//!   (presence of dead nodes, rooms nobody entered in time), plus the
//!   clean-up of a node that stops;
//! - [`LocalRooms`]: which of this node's sessions are in rooms, so that a
//!   node that learns it was taken for dead can close them.
//!
//! Creating a room is `POST /v1/rooms` (`routes::rooms`); the session side
//! (frames, leaving when the session ends) is `ws::rooms`.

pub mod liveness;
pub mod presence;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// This node's sessions that are in at least one room: connection → user.
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct LocalRooms(Arc<Mutex<HashMap<Uuid, Uuid>>>);

impl LocalRooms {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Uuid>> {
        // Entries are inserted or removed whole: a poisoned map is still
        // consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Session `connection` of `user` is in a room.
    pub fn hold(&self, connection: Uuid, user: Uuid) {
        self.map().insert(connection, user);
    }

    /// Session `connection` is in no room any more.
    pub fn release(&self, connection: Uuid) {
        self.map().remove(&connection);
    }

    /// Every (connection, user) in a room.
    pub fn sessions(&self) -> Vec<(Uuid, Uuid)> {
        self.map().iter().map(|(c, u)| (*c, *u)).collect()
    }
}
