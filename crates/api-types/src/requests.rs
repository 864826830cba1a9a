//! Bodies of the message-request endpoints (`/v1/message-requests`): the
//! first messages of someone who is not in your contacts, while your
//! `messagePolicy` is `contacts`, arrive as a request you accept or
//! decline. Metadata only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::social::PublicProfile;

/// Where a direct conversation stands as a request to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageRequestState {
    /// Not answered yet: the requester's messages arrive as a request.
    Pending,
    /// Declined: the requester's later messages are withheld from you.
    Declined,
}

/// One pending request to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageRequest {
    /// The direct conversation the requester started.
    pub conversation_id: Uuid,
    /// Who started it. `displayName` and `avatarBlobId` are `null` when
    /// their profile is not visible to the caller.
    pub requester: PublicProfile,
    /// When the conversation (and the request) was created.
    pub created_at: DateTime<Utc>,
}

/// A page of the caller's pending requests, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageRequestList {
    pub requests: Vec<MessageRequest>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
