//! Payloads of the link-room frames: entering and leaving a room (client
//! frames and their replies) and the live `room` event announcing who
//! joined or left. A room is entered with its link; the key that encrypts
//! its messages stays in the link's URL fragment on the clients and never
//! appears here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `enter_room`: put this session in the link room whose link is `link`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnterRoom {
    /// The room's link (the UUID from `POST /v1/rooms`), not its
    /// conversation id.
    pub link: Uuid,
}

/// `leave_room`: take this session out of a room it entered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaveRoom {
    pub conversation_id: Uuid,
}

/// The answer to `enter_room`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomEntered {
    /// The room's conversation: send to it with `conversationId`.
    pub conversation_id: Uuid,
    /// Every user in the room now (you included), in the order they
    /// entered; later changes arrive as `room` events.
    pub participants: Vec<Uuid>,
    pub at: DateTime<Utc>,
}

/// The answer to `leave_room`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomLeft {
    pub conversation_id: Uuid,
    /// You were the last one in: the room, its messages and its link are
    /// gone.
    pub closed: bool,
    pub at: DateTime<Utc>,
}

/// What happened in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomChange {
    /// `userId` entered (their first session in the room).
    Joined,
    /// `userId` left (their last session in the room ended or left).
    Left,
}

/// A live room event: sent to every session of every user in the room and
/// of the user it is about; not stored, not replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomEvent {
    pub conversation_id: Uuid,
    pub change: RoomChange,
    pub user_id: Uuid,
    pub at: DateTime<Utc>,
}
