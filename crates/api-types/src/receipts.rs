//! A message's delivery and read state, for its sender:
//! `GET /v1/conversations/{conversationId}/messages/{messageId}/receipts`.
//! Counts for every conversation, one entry per recipient for small ones.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// How many of the recipients a state reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReachState {
    /// None of them (also when there are no recipients).
    None,
    /// At least one, not all.
    Some,
    /// Every recipient.
    All,
}

impl ReachState {
    /// The state of `reached` out of `of` recipients.
    pub fn of(reached: u32, of: u32) -> Self {
        if reached == 0 {
            Self::None
        } else if reached >= of {
            Self::All
        } else {
            Self::Some
        }
    }
}

/// One recipient's state: whether it reached them, not when (a position
/// says how far a member got, not when each message got there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientReceipt {
    pub user_id: Uuid,
    /// Delivered to at least one of their devices (or read).
    pub delivered: bool,
    /// Read, and they let it be known (`readReceipts`).
    pub read: bool,
}

/// A message's delivery and read state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageReceipts {
    pub conversation_id: Uuid,
    /// The sender's `messageId`.
    pub message_id: Uuid,
    /// The stored message's `serverId`.
    pub server_id: Uuid,
    /// Members other than the sender who were members when it was sent.
    pub recipients: u32,
    /// Recipients it was delivered to.
    pub delivered: u32,
    /// Recipients who read it (and let it be known: `readReceipts`).
    pub read: u32,
    pub delivery_state: ReachState,
    pub read_state: ReachState,
    /// Every recipient, in the order they joined, when there are at most
    /// 100; left out above that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub members: Option<Vec<RecipientReceipt>>,
}
