//! Message history of a conversation: what a new device (or a member
//! scrolling back) reads instead of a stream it never had. Items have the
//! shape of the `message` frame's payload; metadata only.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::ws::MessageEvent;

/// Which page of a conversation's history.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Newest first, older than this `serverId` (the last item of the
    /// previous page). Without `before` and `after`: the newest messages.
    pub before: Option<Uuid>,
    /// Oldest first, newer than this `serverId`: catching up since a known
    /// message. Not with `before`.
    pub after: Option<Uuid>,
}

impl HistoryQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 100;
}

/// One page of history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Newest first (or oldest first with `after`).
    pub messages: Vec<MessageEvent>,
    /// Whether more messages lie beyond the last item: ask again with its
    /// `serverId` as `before` (or `after`).
    pub more: bool,
}

/// Mark a conversation read up to a message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkReadRequest {
    /// The server id (`serverId`) of the newest message read: one of the
    /// conversation's messages that the caller can see.
    pub server_id: Uuid,
}

/// Where the caller's read marker stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadMarker {
    pub conversation_id: Uuid,
    /// The server id of the newest message read.
    pub up_to: Uuid,
    /// When the marker last moved.
    pub read_at: chrono::DateTime<chrono::Utc>,
}
