//! Payload of the `unread` frame: the unread counts a session gets right
//! after `ready`, so a device shows the right badges (read state follows
//! the user across devices) before it has replayed anything.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One conversation with unread messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnreadConversation {
    pub conversation_id: Uuid,
    /// Messages from others after the user's read marker (at most 1000).
    pub unread_count: u32,
    /// More than 1000 are unread.
    pub unread_capped: bool,
    /// The user's read marker (`serverId`); left out when they never
    /// marked the conversation read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub read_up_to: Option<Uuid>,
}

/// The user's conversations that have unread messages, most recently
/// active first, at most 50.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unread {
    pub conversations: Vec<UnreadConversation>,
    /// More conversations have unread messages than are listed: read
    /// `GET /v1/conversations` for the rest.
    pub more: bool,
}
