//! Bodies of the link-room endpoint (`POST /v1/rooms`). A room is then
//! entered and left over the WebSocket (`enter_room`, `leave_room`, see
//! [`crate::ws`]); its key stays in the link's URL fragment on the clients
//! and never reaches the gateway.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A new link room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkRoom {
    /// The room's conversation (for `message` frames and history once
    /// entered). Not the link.
    pub conversation_id: Uuid,
    /// The link: a random UUID (v4). Whoever holds it and is signed in may
    /// enter the room (`enter_room`).
    pub link: Uuid,
    pub created_at: DateTime<Utc>,
    /// A room nobody has entered by then is deleted.
    pub enter_before: DateTime<Utc>,
    /// Most users in the room at once.
    pub member_cap: u32,
}
