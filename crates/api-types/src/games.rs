//! Bodies of the game-invitation endpoints (`/v1/game-invites`): a
//! `game_invite` message carries a game id; the invitee accepts or
//! declines, the inviter may cancel, and a pending invitation expires.
//! Metadata only: the game id is the client's opaque handle of its game.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a game invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GameInviteState {
    /// Not answered yet (never the state of a `game` event).
    Pending,
    /// The invitee accepted.
    Accepted,
    /// The invitee declined.
    Declined,
    /// Nobody answered within `conversations.game_invite_ttl_secs`.
    Expired,
    /// The inviter withdrew it.
    Cancelled,
}

/// A game invitation as one of its two users sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GameInvite {
    /// The inviter's `messageId` of the `game_invite` message.
    pub message_id: Uuid,
    /// The direct conversation it was sent in.
    pub conversation_id: Uuid,
    pub inviter_id: Uuid,
    pub invitee_id: Uuid,
    pub game_id: String,
    /// As of now: a pending invitation past `expiresAt` is `expired`.
    pub state: GameInviteState,
    pub created_at: DateTime<Utc>,
    /// When it expires (or expired) unless answered.
    pub expires_at: DateTime<Utc>,
    /// When it left `pending`; `null` while pending.
    pub decided_at: Option<DateTime<Utc>>,
}
