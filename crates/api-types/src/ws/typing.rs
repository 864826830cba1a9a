//! Payloads of the typing frames: the client's `typing` (this user started
//! or stopped typing in a conversation) and the live `typing` event the
//! server relays to the conversation's other members and to the typer's
//! other sessions. Typing is never stored and never replayed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Whether the user is typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypingState {
    /// Typing (or still typing: clients send it again every few seconds
    /// while the user types, and the indicator lasts `expiresInMs`).
    Started,
    /// Stopped typing (sent the message, cleared the draft, left).
    Stopped,
}

/// `typing`: this user started or stopped typing in `conversationId`.
/// Fire-and-forget: nothing answers it unless it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Typing {
    /// A conversation (direct, group or link room) the user is a member of.
    pub conversation_id: Uuid,
    pub state: TypingState,
}

/// A live typing event: not stored, not replayed, lost when no session is
/// connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypingEvent {
    pub conversation_id: Uuid,
    /// Who is typing.
    pub user_id: Uuid,
    /// The device they type on.
    pub device_id: Uuid,
    pub state: TypingState,
    /// `started`: show the indicator this long unless another `started`
    /// (which restarts it) or a `stopped` comes first. Absent on `stopped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expires_in_ms: Option<u64>,
    /// When the server relayed it.
    pub at: DateTime<Utc>,
}
